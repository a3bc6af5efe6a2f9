"""Compute the evidence: run every experiment of a profile whose result is not already stored.

    python -m reports.run [--profile quick|full] [--results DIR] [--claim ID] [--only EXPERIMENT] [--force]
                          [--set EXPERIMENT.key=value ...] [--scheduler ADDRESS | --dask-workers N]

A stored result is reused when its config hash matches and it passes verification; a corrupted or edited one
is recomputed. `--claim ID --force` reruns one claim's experiment from scratch and prints its verdict.
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from reports.common import DEFAULT_RESULTS, UsageError, check_profile, configs, fail, load_committed, write_plan
from reports.harness import kernels
from reports.harness.checkpoint import Folder, Incomplete
from reports.harness.pool import local_pool
from reports.harness.config import ConfigError, as_dict, canonical_json
from reports.harness.provenance import timed
from reports.harness.store import Store, StoreError
from reports.registry import PreflightError, claim_by_id, experiment, experiment_names, experiments, judge
from sim.cli import Parser, add_tls_arguments, path_arg, tls_files, tls_without_scheduler
from sim import cli

MAX_DASK_WORKERS = 64
MAX_DEADLINE_S = 7 * 24 * 3600


def _has_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def _compute_one(name: str, config, results: str, deadline: float | None = None) -> str:
    """Run one experiment and store it; on a Dask worker too (the results folder must be shared). A resumable
    experiment keeps its finished chunks in the store and stops with Incomplete at `deadline` (time.time())."""
    exp = experiment(name)
    store = Store(results)
    if exp.resumable:
        chunks = Folder(store.chunks_folder(exp.method, name, config, exp.store_version(config)), deadline)
        store.save(exp.method, name, config, timed(exp.run, config, checkpoint=chunks), exp.store_version(config))
        chunks.remove()
    else:
        store.save(exp.method, name, config, timed(exp.run, config), exp.store_version(config))
    return str(store.folder(exp.method, name, config, exp.store_version(config)))


@dataclass(frozen=True)
class Plan:
    """What a run will do, decided by reading only."""
    ready: dict          # name -> the stored or committed Result (None: none, e.g. a GPU profile skipped)
    todo: list           # names to compute, in order
    refused: list        # names that failed their preflight (e.g. the dataset is missing): not run


@dataclass(frozen=True)
class Outcome:
    """What executing a plan's todo gave: every other name of it was computed and stored."""
    failed: list         # names whose run raised (reported in one line each)
    stopped: list        # names stopped at the deadline (their finished chunks are stored: the next run resumes)


def plan(profile: str, store: Store, cfgs: dict, names: list[str], force: bool, allow_cpu: bool, say) -> Plan:
    """What a run will do, reading only."""
    mods, out, todo, errors = experiments(names), {}, [], []
    for i, name in enumerate(names, 1):
        exp, config, head = mods[name], cfgs[name], f"[{i}/{len(names)}] {name}"
        if profile in exp.committed:  # computed once and committed: read, never recomputed here
            out[name], why = load_committed(exp, config)
            say(f"{head}: committed evidence in reports/evidence/ ({why}); `make evidence` computes what is "
                "missing, `make verify-evidence` recomputes chunks to confirm them")
            continue
        if exp.preflight is not None:  # e.g. the dataset is there: fail now, before anything is written
            try:
                exp.preflight(config)
            except PreflightError as exc:
                print(f"error: {name}: {exc}", file=sys.stderr, flush=True)
                errors.append(name)
                continue
        if profile in exp.needs_gpu and not allow_cpu and not _has_cuda():
            say(f"{head}: skipped ({profile} needs a GPU; the report uses committed evidence from reports/evidence/ "
                "if there is any)")
            continue
        out[name] = None if force else store.load(exp.method, name, config, exp.store_version(config))
        if out[name] is not None:
            say(f"{head}: cached ({out[name].path})")
            continue
        reason = store.verify(store.folder(exp.method, name, config, exp.store_version(config)), as_dict(config)) or \
            "the stored result changed while it was read"   # another run re-saved it: computed again
        why = "forced" if force else ("not stored yet" if reason.startswith("no summary") else reason)
        say(f"{head}: computing ({profile}; {why}; config {canonical_json(as_dict(config))[:160]}) ...")
        todo.append(name)
    return Plan(ready=out, todo=todo, refused=errors)


def _report_failure(name: str, exc: BaseException, errors: list, stopped: list) -> None:
    if isinstance(exc, Incomplete):  # the finished chunks are stored; the next run continues from them
        print(f"stopped: {name}: {exc}", file=sys.stderr, flush=True)
        stopped.append(name)
    elif isinstance(exc, PreflightError):  # the other experiments still run; this one shows as not run
        print(f"error: {name}: {exc}", file=sys.stderr, flush=True)
        errors.append(name)
    else:  # reported in one line; the report shows it as not run
        print(f"error: {name} failed: {type(exc).__name__}: {str(exc)[:300]}; rerun with `python -m reports.run "
              f"--only {name}` after fixing the cause", file=sys.stderr, flush=True)
        errors.append(name)


def _in_pool(names: list[str], jobs: int, cfgs: dict, results: Path, deadline, say, errors: list,
             stopped: list) -> None:
    """The deterministic experiments in `jobs` local processes (each stores its own result)."""
    from concurrent.futures import as_completed
    if not names:
        return
    with local_pool(max(1, jobs)) as pool:
        start = {}
        futures = {}
        for name in names:
            futures[pool.submit(_compute_one, name, cfgs[name], str(results), deadline)] = name
            start[name] = time.time()
        for future in as_completed(futures):
            name = futures[future]
            try:
                future.result()
            except Exception as exc:  # noqa: BLE001  (sorted and reported by _report_failure)
                _report_failure(name, exc, errors, stopped)
                continue
            say(f"{name}: done ({time.time() - start[name]:.1f} s since it was queued)")


def execute(todo: list[str], cfgs: dict, results: Path, deadline, client, say, jobs: int = 1
            ) -> Outcome:
    """Compute and store `todo` here (in `jobs` processes; timed experiments alone, afterwards) or as tasks on a Dask
    `client` (each task stores its own result, so an interrupted sweep keeps what finished)."""
    errors, stopped = [], []
    if client is None and jobs > 1 and len(todo) > 1:
        alone = [n for n in todo if not experiment(n).deterministic]   # timed: measured alone, afterwards
        _in_pool([n for n in todo if n not in alone], jobs, cfgs, results, deadline, say, errors, stopped)
        todo = alone
    if client is None:
        for name in todo:
            start = time.time()
            try:
                _compute_one(name, cfgs[name], str(results), deadline)
            except Exception as exc:  # noqa: BLE001  (sorted and reported by _report_failure)
                _report_failure(name, exc, errors, stopped)
                continue
            say(f"{name}: done in {time.time() - start:.1f} s")
        return Outcome(failed=errors, stopped=stopped)
    from distributed import as_completed
    futures = {client.submit(_compute_one, name, cfgs[name], str(results.resolve()), deadline, pure=False,
                             key=f"experiment-{name}-{time.time_ns()}"): name for name in todo}
    for future in as_completed(futures):
        name = futures[future]
        try:
            future.result()
            say(f"{name}: done on {client.scheduler.address}")
        except Exception as exc:  # noqa: BLE001  (reported; the rest of the sweep goes on)
            _report_failure(name, exc, errors, stopped)
    return Outcome(failed=errors, stopped=stopped)


def compute(profile: str, results: Path, only: list[str] | None = None, force: bool = False,
            settings: list[str] | None = None, quiet: bool = False, errors: list | None = None,
            client=None, deadline: float | None = None, stopped: list | None = None,
            allow_cpu: bool = False, jobs: int = 1) -> dict:
    """Experiment name -> stored Result; computes what is missing (plan, then execute). Side effects: writes under
    `results`; `errors` and `stopped` receive the names that failed or stopped at the deadline."""
    names = [n for n in experiment_names() if only is None or n in only]
    cfgs = configs(profile, settings, names)  # validated before anything is written
    store = Store(results)
    store.check_writable()             # creates nothing: the folder appears with the first result
    store.clean()                      # leftovers of killed saves whose process is gone
    say = (lambda text: None) if quiet else (lambda text: print(text, flush=True))
    planned = plan(profile, store, cfgs, names, force, allow_cpu, say)
    outcome = execute(planned.todo, cfgs, results, deadline, client, say, jobs)
    out = dict(planned.ready)
    for name in planned.todo:
        exp = experiment(name)
        out[name] = (None if name in outcome.failed + outcome.stopped else
                     store.load(exp.method, name, cfgs[name], exp.store_version(cfgs[name])))
    if errors is not None:
        errors += planned.refused + outcome.failed
    if stopped is not None:
        stopped += outcome.stopped
    if any(out.get(n) is not None for n in names) and store.is_ours():
        write_plan(results, profile, settings or [], cfgs)  # results of this plan exist: record what it executed
    return {name: out.get(name) for name in names}


def _parser() -> Parser:
    parser = Parser(prog="python -m reports.run", description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--results", type=path_arg, default=DEFAULT_RESULTS)
    parser.add_argument("--claim", help="compute only this claim's experiment and print its verdict")
    parser.add_argument("--only", action="append", metavar="EXPERIMENT", help="compute only these experiments")
    parser.add_argument("--force", action="store_true", help="recompute even when a stored result exists")
    parser.add_argument("--set", action="append", default=[], metavar="EXPERIMENT.key=value")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="run the missing experiments on this Dask cluster "
                        "(tcp://HOST:PORT, or tls://HOST:PORT with the --tls-* files; the results folder must be on a "
                        "file system its workers share)")
    add_tls_arguments(parser)
    parser.add_argument("--dask-workers", type=int, metavar="N", help="run them on a local Dask cluster of N "
                        "processes (127.0.0.1)")
    parser.add_argument("--allow-cpu", action="store_true", help="run experiments that need a GPU at this profile "
                        "on the CPU anyway (the GPU script's dry run, with --set making it small)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="local processes for the "
                        "missing experiments (default: 2 or the number of cores, if fewer)")
    parser.add_argument("--deadline", type=float, metavar="SECONDS", help="stop resumable experiments cleanly "
                        "once this many seconds have passed (finished chunks are kept; exit status 3; rerun to "
                        "continue)")
    return parser


def _check(args) -> None:
    unknown = sorted(set(args.only or []) - set(experiment_names()))
    if unknown:
        raise UsageError(f"unknown experiment {unknown[0]!r}; choose from {', '.join(experiment_names())}")
    if args.dask_workers is not None and not 1 <= args.dask_workers <= MAX_DASK_WORKERS:
        raise UsageError(f"--dask-workers must be in 1..{MAX_DASK_WORKERS} (one process each), got "
                         f"{args.dask_workers}")
    if not 1 <= args.jobs <= 64:
        raise UsageError(f"--jobs must be in 1..64, got {args.jobs}")
    if args.deadline is not None and not 0 < args.deadline <= MAX_DEADLINE_S:
        raise UsageError(f"--deadline must be in (0, {MAX_DEADLINE_S}] seconds, got {args.deadline:g}")
    if tls_without_scheduler(args):
        raise UsageError("--tls-* files are for a tls:// --scheduler; without it they would be ignored (omit them, "
                         "or pass --scheduler)")
    if args.dask_workers is not None and args.scheduler is not None:
        raise UsageError("pass either --scheduler ADDRESS or --dask-workers N, not both")


def _print_verdict(claim, result, profile: str) -> int:
    if result is None:
        print(f"{claim.id}: not run (no evidence for the {profile} profile here)")
        return 1
    record = judge(claim, result)
    print(f"{claim.id}: {record['status']}\n  expected: {record['expected']}\n  measured: {record['measured']}")
    for control in record["controls"]:
        print(f"  control {control['name']} ({control['model']}): {control['status']} (must fail)")
    return 0 if record["status"] == "pass" else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    errors: list[str] = []
    stopped: list[str] = []
    try:
        profile = check_profile(args.profile)
        claim = claim_by_id(args.claim) if args.claim else None
        _check(args)
        client, cluster = None, None
        if args.scheduler is not None or args.dask_workers is not None:
            from cnn_experiments.cluster import local_client
            client, cluster = local_client(args.dask_workers or 1, args.scheduler, tls_files=tls_files(args))
        try:
            deadline = time.time() + args.deadline if args.deadline is not None else None
            results = compute(profile, args.results, [claim.experiment] if claim else args.only, args.force,
                              args.set, errors=errors, client=client, deadline=deadline, stopped=stopped,
                              allow_cpu=args.allow_cpu, jobs=args.jobs)
        finally:
            if client is not None:
                client.close()
            if cluster is not None:
                cluster.close()
    except (UsageError, ConfigError, StoreError, ValueError, ConnectionError) as exc:
        fail(str(exc))
    except KeyError as exc:
        fail(exc.args[0])
    if errors or stopped:
        return 2 if errors else 3
    return _print_verdict(claim, results[claim.experiment], profile) if claim is not None else 0


if __name__ == "__main__":
    sys.exit(kernels.main_pinned(lambda: cli.run(main)))
