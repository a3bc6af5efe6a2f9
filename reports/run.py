"""Compute the evidence: run every experiment of a profile whose result is not already stored.

    python -m reports.run [--profile quick|full] [--results DIR] [--claim ID] [--only EXPERIMENT] [--force]
                          [--set EXPERIMENT.key=value ...]

A stored result is reused when its config hash matches and it passes verification; a corrupted or edited one
is recomputed. `--claim ID --force` reruns one claim's experiment from scratch and prints its verdict.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cnn_experiments.data import DatasetError
from reports.common import DEFAULT_RESULTS, UsageError, check_profile, configs, fail
from reports.registry import claim_by_id, experiments
from sim.config import ConfigError
from sim.store import Store, StoreError


def _has_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def compute(profile: str, results: Path, only: list[str] | None = None, force: bool = False,
            settings: list[str] | None = None, quiet: bool = False, errors: list | None = None) -> dict:
    """Experiment name -> stored Result; computes what is missing. Side effects: writes under `results`."""
    store = Store(results)
    store.check_writable()
    mods, cfgs = experiments(), configs(profile, settings)
    names = [n for n in mods if only is None or n in only]
    out = {}
    errors = [] if errors is None else errors
    for i, name in enumerate(names, 1):
        module, config = mods[name], cfgs[name]
        if profile in getattr(module, "NEEDS_GPU", ()) and not _has_cuda():
            if not quiet:
                print(f"[{i}/{len(names)}] {name}: skipped ({profile} needs a GPU; the report uses committed "
                      f"evidence from reports/evidence/ if there is any)", flush=True)
            out[name] = None
            continue
        version = module.VERSION
        result = None if force else store.load(module.KIND, name, config, version)
        if result is not None:
            if not quiet:
                print(f"[{i}/{len(names)}] {name}: cached ({result.path})", flush=True)
        else:
            reason = store.verify(store.folder(module.KIND, name, config, version))
            if not quiet:
                why = "forced" if force else ("not stored yet" if reason.startswith("no summary") else reason)
                print(f"[{i}/{len(names)}] {name}: computing ({profile}; {why}) ...", flush=True)
            start = time.time()
            try:
                computed = module.run(config)
            except DatasetError as exc:  # the other experiments still run; this one shows as not run
                print(f"error: {name}: {exc}", file=sys.stderr, flush=True)
                errors.append(name)
                out[name] = None
                continue
            store.save(module.KIND, name, config, computed, version)
            result = store.load(module.KIND, name, config, version)
            if not quiet:
                print(f"[{i}/{len(names)}] {name}: done in {time.time() - start:.1f} s", flush=True)
        out[name] = result
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports.run", description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument("--claim", help="compute only this claim's experiment and print its verdict")
    parser.add_argument("--only", action="append", metavar="EXPERIMENT", help="compute only these experiments")
    parser.add_argument("--force", action="store_true", help="recompute even when a stored result exists")
    parser.add_argument("--set", action="append", default=[], metavar="EXPERIMENT.key=value")
    args = parser.parse_args(argv)
    try:
        profile = check_profile(args.profile)
        claim = claim_by_id(args.claim) if args.claim else None
        unknown = sorted(set(args.only or []) - set(experiments()))
        if unknown:
            raise UsageError(f"unknown experiment {unknown[0]!r}; choose from {', '.join(experiments())}")
        only = [claim.experiment] if claim else args.only
        errors: list[str] = []
        results = compute(profile, args.results, only, args.force, args.set, errors=errors)
    except (UsageError, ConfigError, StoreError, ValueError) as exc:
        fail(str(exc))
    except KeyError as exc:
        fail(exc.args[0])
    if errors:
        return 2
    if claim is not None:
        if results[claim.experiment] is None:
            print(f"{claim.id}: not run (needs a GPU for the {profile} profile)")
            return 1
        verdict = claim.check(results[claim.experiment])
        status = "not run" if verdict.passed is None else ("pass" if verdict.passed else "fail")
        print(f"{claim.id}: {status}\n  expected: {verdict.expected}\n  measured: {verdict.measured}")
        return 0 if verdict.passed is True else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
