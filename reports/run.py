"""Compute the evidence: run every experiment of a profile whose result is not already stored.

    python -m reports.run [--profile quick|full] [--results DIR] [--claim ID] [--force]
                          [--set EXPERIMENT.key=value ...]

A stored result is reused when its config hash matches and it passes verification; a corrupted or edited one
is recomputed. `--claim ID --force` reruns one claim's experiment from scratch and prints its verdict.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from reports.common import DEFAULT_RESULTS, UsageError, check_profile, configs, fail
from reports.registry import claim_by_id, experiments
from sim.config import ConfigError
from sim.store import Store, StoreError


def compute(profile: str, results: Path, only: list[str] | None = None, force: bool = False,
            settings: list[str] | None = None, quiet: bool = False) -> dict:
    """Experiment name -> stored Result; computes what is missing. Side effects: writes under `results`."""
    store = Store(results)
    store.check_writable()
    mods, cfgs = experiments(), configs(profile, settings)
    names = [n for n in mods if only is None or n in only]
    out = {}
    for i, name in enumerate(names, 1):
        module, config = mods[name], cfgs[name]
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
            store.save(module.KIND, name, config, module.run(config), version)
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
    parser.add_argument("--force", action="store_true", help="recompute even when a stored result exists")
    parser.add_argument("--set", action="append", default=[], metavar="EXPERIMENT.key=value")
    args = parser.parse_args(argv)
    try:
        profile = check_profile(args.profile)
        claim = claim_by_id(args.claim) if args.claim else None
        results = compute(profile, args.results, [claim.experiment] if claim else None, args.force, args.set)
    except (UsageError, ConfigError, StoreError, ValueError) as exc:
        fail(str(exc))
    except KeyError as exc:
        fail(exc.args[0])
    if claim is not None:
        verdict = claim.check(results[claim.experiment])
        status = "pass" if verdict.passed else "fail"
        print(f"{claim.id}: {status}\n  expected: {verdict.expected}\n  measured: {verdict.measured}")
        return 0 if verdict.passed else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
