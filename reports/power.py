"""Statistical power: every claim decided by a random experiment, and its main control, re-judged on independent seeds.

    python -m reports.power [--profile quick|full] [--results DIR] [--seeds N] [--only EXPERIMENT] [--jobs J]

For each experiment that declares `power_seeds` (cheap at this profile), the profile's config (as the last
`reports.run` executed it) is re-run with `seed` = 1..N (the report itself uses seed 0), each run stored and cached
like any other result. Each claim gets `{"seeds": N, "pass_rate": p, "control_pass_rate": q}`: p is the fraction of
seeds on which its check passes, q the fraction on which its main (first) control passes. Target: p >= 0.95 and
q <= 0.05. Written to `<results>/power-<profile>.json`; the report reads it and marks a claim below target.
Experiments too costly to re-run (the CNN, real asynchrony) state that their power was not measured, unless a
claim computes it from its check's sampling distribution (`Claim.power`; the report says which method).
"""
from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import as_completed
from dataclasses import replace
from pathlib import Path

from reports.common import DEFAULT_RESULTS, UsageError, check_profile, fail, load_one, read_plan
from reports.harness import kernels
from reports.harness.pool import local_pool
from reports.harness.config import as_dict, canonical_json
from reports.harness.provenance import timed
from reports.harness.store import Store, StoreError, write_json
from reports.registry import Chunked, Claim, Experiment, experiments, judge
from sim.cli import Parser, path_arg
from sim import cli

TARGET_PASS, TARGET_CONTROL = 0.95, 0.05
MAX_SEEDS = 1000
COMMITTED_PROFILE = "quick"   # its power re-runs are committed evidence (reports/evidence/power/)


def power_path(results: Path, profile: str) -> Path:
    return Path(results) / f"power-{profile}.json"


def seeds(n: int) -> list[int]:
    """The power study's seeds: 1..n, disjoint from the report's own seed 0."""
    return list(range(1, n + 1))


def _compute(name: str, config, results: str) -> str:
    exp = experiments()[name]
    store = Store(results)
    if store.load(exp.method, name, config, exp.store_version(config)) is None:
        store.save(exp.method, name, config, timed(exp.run, config), exp.store_version(config))
    return name


FRAGILE = 0.5   # a pass at the report's seed that holds on fewer re-runs than this is fragile (a seed lottery)


def standing(record: dict | None, status: str | None = None) -> str:
    """What a claim's power record says, by one rule for every record: 'meets target' (passes on >= 95 % of fresh
    re-runs, its control on <= 5 %, or a replicated decision at design power >= 0.8), 'robust fail' (fails on every
    re-run, or a replicated fail at high design power: a result, not under-powered), 'fragile pass' (the report's
    seed passes but fewer than half the re-runs do), 'below target' (anything else measured), or 'not power' /
    'not measured'."""
    if not record or not record.get("seeds"):
        return "not measured"
    if record.get("kind") in ("resampling", "sampling"):
        return "not power"
    if record.get("kind") == "replication":
        if record["meets_target"]:
            return "robust fail" if record.get("decision") == "fail" else "meets target"
        return "below target"
    p, q = record["pass_rate"], record["control_pass_rate"]
    if p >= TARGET_PASS and q <= TARGET_CONTROL:
        return "meets target"
    if p <= 1 - TARGET_PASS and q <= TARGET_CONTROL:
        return "robust fail"
    if status in ("pass", "cannot_fail") and p < FRAGILE:
        return "fragile pass"
    return "below target"


def record_of(claim: Claim, result) -> dict:
    """One re-run judged: whether the check itself passed, whether its main control passed, and its numbers."""
    j = judge(claim, result)
    return {"passed": j["status"] in ("pass", "cannot_fail"), "control_passed": j["controls"][0]["status"] == "pass",
            "values": j["values"]}


def rates(claim: Claim, records: list[dict]) -> dict:
    """Pass rate of the claim and of its main control over the judged re-runs of independent seeds."""
    passed = sum(r["passed"] for r in records)
    control = sum(r["control_passed"] for r in records)
    n = len(records)
    return {"seeds": n, "pass_rate": passed / n, "control_pass_rate": control / n,
            "control": claim.controls[0].name, "method": f"re-run at seeds 1..{n}",
            "meets_target": passed / n >= TARGET_PASS and control / n <= TARGET_CONTROL}


def study(profile: str, results: Path, n_seeds: int | None = None, only: list[str] | None = None, jobs: int = 2,
          quiet: bool = False) -> dict:
    """Claim id -> power record (or a note saying why none was measured); writes power-<profile>.json."""
    cfgs, _ = read_plan(results, profile)
    store = Store(results)
    store.check_writable()
    say = (lambda text: None) if quiet else (lambda text: print(text, flush=True))
    exps = {n: e for n, e in experiments().items() if e.seeded and (only is None or n in only)}
    todo, plan, committed = [], {}, {}
    for name, exp in exps.items():
        count = n_seeds if n_seeds is not None else exp.power_seeds
        if count == exp.power_seeds and (records := committed_records(exp, profile, cfgs[name])) is not None:
            committed[name] = records    # the profile's own re-runs, committed: read, not recomputed
            say(f"power: {name}: {len(records)} committed re-runs (reports/evidence/power/)")
        elif count and profile not in exp.needs_gpu and hasattr(cfgs[name], "seed"):
            plan[name] = [replace(cfgs[name], seed=s) for s in seeds(count)]
            todo += [(name, c) for c in plan[name] if store.load(exp.method, name, c, exp.store_version(c)) is None]
    say(f"power: {sum(map(len, plan.values()))} runs over {len(plan)} experiments, {len(todo)} to compute "
        f"({jobs} processes)")
    start = time.time()
    if todo:
        with local_pool(max(1, jobs)) as pool:
            futures = [pool.submit(_compute, name, config, str(results)) for name, config in todo]
            for done, future in enumerate(as_completed(futures), 1):
                future.result()
                if done % 10 == 0 or done == len(todo):
                    say(f"power: {done}/{len(todo)} runs done ({time.time() - start:.0f} s)")
    out = {}
    for name, exp in exps.items():
        if name in committed:
            for claim in exp.claims:
                out[claim.id] = rates(claim, [r[claim.id] for r in committed[name]]) | {
                    "config": as_dict(cfgs[name]), "method": f"re-run at seeds 1..{len(committed[name])} "
                                                             "(committed re-runs, verified by sampling)"}
            continue
        if name not in plan:
            result, _ = load_one(exp, profile, cfgs[name], results, use_evidence=profile in exp.committed)
            why = ("needs a GPU at this profile" if profile in exp.needs_gpu else
                   "not measured: its config has no `seed` field to re-run it on" if not hasattr(cfgs[name], "seed")
                   else "not measured: the experiment declares no re-runs (power_seeds = 0: too costly to re-run on "
                        "fresh seeds at this profile)")
            for claim in exp.claims:
                out[claim.id] = {"seeds": 0, "note": why}
                if claim.power is not None and result is not None:
                    record = claim.power(result, claim.tolerance)
                    if "pass_rate" in record:  # else the record states its own target (the CNN's replication)
                        record = record | {"meets_target": record["pass_rate"] >= TARGET_PASS and
                                           record["control_pass_rate"] <= TARGET_CONTROL}
                    out[claim.id] = record | {"config": as_dict(cfgs[name])}
            continue
        stored = [store.load(exp.method, name, c, exp.store_version(c)) for c in plan[name]]
        for claim in exp.claims:
            out[claim.id] = rates(claim, [record_of(claim, r) for r in stored]) | {"config": as_dict(cfgs[name])}
    doc = {"profile": profile, "target": {"pass_rate": TARGET_PASS, "control_pass_rate": TARGET_CONTROL},
           "claims": out}
    write_json(power_path(results, profile), doc)
    return out


# ------------------------------------------------ the re-runs of the quick profile, committed -------------------

def judged(exp: Experiment, config) -> dict:
    """{claim id: record_of(claim, result)} of one re-run, computed now (a committed chunk's payload)."""
    result = exp.run(config)
    return {claim.id: record_of(claim, result) for claim in exp.claims}


def committed_power(exp: Experiment) -> Experiment:
    """The power re-runs of `exp` at the quick profile (seeds 1..power_seeds) as committed evidence: one chunk per
    seed holding its judged records, computed by `make evidence`, re-derived by `make verify-evidence`."""
    def plan(config) -> list[str]:
        return [f"seed{s}" for s in seeds(exp.power_seeds)]

    def compute(config, name: str, chunks: dict) -> dict:
        return judged(exp, replace(config, seed=int(name.removeprefix("seed"))))

    def numbers(config, chunks: dict, payload: dict) -> list[float]:
        return [float(v) for rec in payload.values() for v in rec["values"].values()
                if isinstance(v, (int, float)) and not isinstance(v, bool)]

    chunked = Chunked(plan=plan, first=lambda config: [], compute=compute, numbers=numbers, version=exp.version,
                      assemble=lambda config, chunks, provenance: None)
    return replace(exp, name=f"{exp.name}-power", method="power", committed=(COMMITTED_PROFILE,), chunked=chunked)


def committed_records(exp: Experiment, profile: str, config) -> list[dict] | None:
    """The committed re-runs' records, seed by seed, when the profile is the committed one, the config is its own and
    every chunk is there (else None: computed as usual)."""
    if profile != COMMITTED_PROFILE or not exp.power_seeds or canonical_json(as_dict(config)) != canonical_json(
            as_dict(exp.profiles[profile])):
        return None
    from reports.common import committed_folder
    from reports.harness.evidence import Chunks, EvidenceError
    power = committed_power(exp)
    store = Chunks(committed_folder(power, config), read_only=True)
    try:
        records = [store.get(name) for name in power.chunked.plan(config)]
    except EvidenceError as exc:
        print(f"warning: {exc}", file=sys.stderr)
        return None
    return None if any(r is None for r in records) else records


def same_config(stored: dict, config: dict) -> bool:
    """Whether a config read back from JSON is this config (tuples, inner ones too, come back as lists)."""
    return canonical_json(stored) == canonical_json(json.loads(canonical_json(config)))


def sample_unit(record: dict) -> str:
    """What a power record's pass rate is over: re-runs on seeds, bootstrap resamples of seeds, or samples."""
    if record["method"].startswith("re-run"):
        return f"{record['seeds']} seeds"
    if record.get("resamples"):
        return f"{record['resamples']} bootstrap resamples of {record['seeds']} seeds"
    return f"{record['seeds']} samples of its sampling distribution"


def read(results: Path, profile: str, cfgs: dict) -> dict:
    """Claim id -> power record from the last study, kept only where it was measured on the configs shown."""
    try:
        doc = json.loads(power_path(results, profile).read_text())
        records = doc["claims"]
    except FileNotFoundError:
        return {}
    except (ValueError, KeyError, TypeError, RecursionError, OSError) as exc:
        print(f"warning: ignoring unreadable power study ({type(exc).__name__})", file=sys.stderr)
        return {}
    by_claim = {claim.id: name for name, exp in experiments().items() for claim in exp.claims}
    out = {}
    for claim_id, record in records.items():
        name = by_claim.get(claim_id)
        if name is None or not isinstance(record, dict):
            continue
        if "config" in record and not same_config(record["config"], as_dict(cfgs[name])):
            record = {"seeds": 0, "note": "the power study ran on other settings than this report; rerun "
                                          "`python -m reports.power`"}
        out[claim_id] = {k: v for k, v in record.items() if k != "config"}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m reports.power", description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--results", type=path_arg, default=DEFAULT_RESULTS)
    parser.add_argument("--seeds", type=int, help="seeds per experiment (default: each experiment's power_seeds)")
    parser.add_argument("--only", action="append", metavar="EXPERIMENT")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args(argv)
    try:
        profile = check_profile(args.profile)
        if args.seeds is not None and not 2 <= args.seeds <= MAX_SEEDS:
            raise UsageError(f"--seeds must be in 2..{MAX_SEEDS}")
        if not 1 <= args.jobs <= 64:
            raise UsageError("--jobs must be in 1..64")
        unknown = sorted(set(args.only or []) - set(experiments()))
        if unknown:
            raise UsageError(f"unknown experiment {unknown[0]!r}; choose from {', '.join(experiments())}")
        out = study(profile, args.results, args.seeds, args.only, args.jobs)
    except (UsageError, StoreError) as exc:
        fail(str(exc))
    labels = {cid: standing(r) for cid, r in out.items()}
    below = [cid for cid, label in labels.items() if label in ("below target", "fragile pass")]
    for cid, r in out.items():
        flag = f"  ({labels[cid]})" if labels[cid] not in ("meets target", "not measured") else ""
        if r.get("seeds") and "pass_rate" in r:
            print(f"  {cid}: pass rate {r['pass_rate']:.2f}, control {r['control']} passes {r['control_pass_rate']:.2f}"
                  f" over {sample_unit(r)}{flag}")
        elif r.get("seeds"):
            print(f"  {cid}: {r.get('kind', 'record')}: decision {r.get('decision')}, replication "
                  f"{r.get('replication')}, {r.get('design_measure', 'design power')} {r.get('design_power')}{flag}")
    print(f"power: {power_path(args.results, profile)} ({len(below)} claims below target or fragile)")
    return 0


if __name__ == "__main__":
    sys.exit(kernels.main_pinned(lambda: cli.run(main)))
