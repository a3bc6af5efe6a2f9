"""Reproducibility check: recompute a profile in a fresh results folder and compare with the stored results.

    python -m reports.repro [--profile quick] [--results DIR] [--all] [--sample K] [--seed S] [--jobs J]

Summaries must be equal and arrays bit-identical (same seeds, same CPU code), hence the same verdicts. Every cheap
experiment (its stored run took at most COSTLY_S seconds) is recomputed; of the costly ones a random sample of K,
drawn fresh each run and printed (`--all`: every one). Committed evidence is left to `make verify-evidence`.
"""
from __future__ import annotations

import json
import os
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

from reports.common import DEFAULT_RESULTS, UsageError, check_profile, fail, load
from reports.harness import kernels
from reports.registry import claims, judge
from reports.run import compute
from sim.cli import Parser, path_arg
from sim import cli

COSTLY_S = 60.0   # seconds: an experiment whose stored run took longer is recomputed by sample (all with --all)


def compare(a, b) -> list[str]:
    problems = []
    if json.dumps(a.summary, sort_keys=True) != json.dumps(b.summary, sort_keys=True):
        problems.append("summary differs")
    for key in sorted(set(a.arrays) | set(b.arrays)):
        if key not in a.arrays or key not in b.arrays or not np.array_equal(a.arrays[key], b.arrays[key],
                                                                             equal_nan=True):
            problems.append(f"array {key} differs")
    return problems


def _seconds(result) -> float:
    value = result.provenance.get("wall_seconds") if isinstance(result.provenance, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else float("inf")


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m reports.repro", description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--results", type=path_arg, default=DEFAULT_RESULTS)
    parser.add_argument("--all", action="store_true", help="recompute the costly experiments too (make repro-all)")
    parser.add_argument("--sample", type=int, default=1, help="costly experiments recomputed, drawn at random")
    parser.add_argument("--seed", type=int, help="the seed of that draw (default: fresh)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args(argv)
    try:
        profile = check_profile(args.profile)
        if not 0 <= args.sample <= 100 or not 1 <= args.jobs <= 64 or (args.seed is not None and args.seed < 0):
            raise UsageError("--sample must be in 0..100, --jobs in 1..64 and --seed >= 0")
    except UsageError as exc:
        fail(str(exc))
    from reports.registry import experiments
    from reports.run import _has_cuda
    gpu_only = {n for n, e in experiments().items() if profile in e.needs_gpu and not _has_cuda()}
    timed = {n for n, e in experiments().items() if not e.deterministic}
    committed = {n for n, e in experiments().items() if profile in e.committed}
    for name in sorted(timed):
        print(f"{name}: skipped (real wall-clock timings: not bit-reproducible by nature)")
    for name in sorted(committed):
        print(f"{name}: committed evidence, not recomputed here (`make verify-evidence` recomputes its chunks)")
    stored = {n: v for n, v in load(profile, args.results, use_evidence=False).items()
              if n not in gpu_only | timed | committed}
    missing = [name for name, (result, _) in stored.items() if result is None]
    if missing:
        fail(f"no stored {profile} results for {', '.join(missing)} in {args.results}; run `make report` first")
    costly = sorted(n for n, (r, _) in stored.items() if _seconds(r) > COSTLY_S)
    drawn = costly if args.all else sorted(random.Random(args.seed).sample(costly, min(args.sample, len(costly))))
    for name in costly:
        print(f"{name}: costly ({_seconds(stored[name][0]):.0f} s): "
              f"{'recomputed' if name in drawn else 'not drawn this time (`make repro-all` recomputes it)'}")
    stored = {n: v for n, v in stored.items() if n not in costly or n in drawn}
    with tempfile.TemporaryDirectory(prefix="repro-") as fresh:
        print(f"recomputing {len(stored)} experiments of the {profile} profile in {fresh} ({args.jobs} processes) ...",
              flush=True)
        again = compute(profile, Path(fresh), only=list(stored), jobs=args.jobs)
        bad = 0
        for name, (result, _) in stored.items():
            problems = compare(result, again[name])
            bad += bool(problems)
            print(f"{name}: {'bit-identical' if not problems else '; '.join(problems)}")
        for claim in claims():
            if claim.experiment not in stored:
                continue
            v1, v2 = judge(claim, stored[claim.experiment][0]), judge(claim, again[claim.experiment])
            if v1 != v2:
                bad += 1
                what = "status" if v1["status"] != v2["status"] else "measured values"
                print(f"{claim.id}: {what} differ ({v1['status']}: {v1['measured'][:80]} | {v2['status']}: "
                      f"{v2['measured'][:80]})")
    print("reproducibility: " + ("PASS" if not bad else f"FAIL ({bad} differences)"))
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(kernels.main_pinned(lambda: cli.run(main)))
