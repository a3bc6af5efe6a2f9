"""Real asynchronous SGD with M Dask workers: measured staleness, compared with the queue model.

    python -m cnn_experiments.real_async --n-workers 4 --work-time exponential --work-mean 0.02 \\
        --updates 400 --model logreg [--lr 0.5] [--mu-explicit 0.0] [--seed 0] [--scheduler ADDRESS] \\
        [--log staleness.csv] [--trace work_times.csv]

Without --scheduler a LocalCluster of M single-threaded worker processes is started on 127.0.0.1. The staleness
log is written in sim.queue's format; the last line printed is a JSON summary.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

from cnn_experiments import cluster as cluster_mod
from cnn_experiments import param_server as ps
from sim import step_rules
from sim.queue import Schedule, save_log, warmup_mask
from sim.stats import geometric_tv
from sim.cli import Parser, add_tls_arguments, path_arg, tls_files, tls_without_scheduler
from sim.files import check_writable_target
from sim import cli


def schedule_of(run: ps.RealRun, n_workers: int) -> Schedule:
    """The run as a sim.queue Schedule, so the model and the system are compared with the same functions."""
    return Schedule(staleness=np.array(run.staleness, dtype=np.int64), worker=np.array(run.slot, dtype=np.int64),
                    time=np.array(run.time), warmup=warmup_mask(run.slot, n_workers), n_workers=n_workers)


def summary(run: ps.RealRun, config: ps.RealConfig, target_loss: float | None = None) -> dict:
    s = schedule_of(run, config.n_workers)
    steady = s.staleness[~s.warmup] if np.any(~s.warmup) else s.staleness
    extra = {}
    if config.compensate_every:
        estimates = [c for c in run.controls if c[1] is not None]
        extra = {"mu_implicit_estimate": estimates[-1][1] if estimates else None,
                 "mu_explicit_final": run.controls[-1][2] if run.controls else config.mu_explicit,
                 "lr_final": run.controls[-1][3] if run.controls else config.lr,
                 "controls": [list(c) for c in run.controls]}
    if target_loss is not None:
        reached = [u for u, loss, _ in run.losses if loss <= target_loss]
        extra |= {"target_loss": target_loss, "updates_to_target": reached[0] if reached else None,
                  "final_loss": run.losses[-1][1] if run.losses else None}
    return extra | {"n_updates": int(s.staleness.size), "n_workers": config.n_workers, "work_time": config.work_time,
            "staleness_mean": float(steady.mean()), "staleness_var": float(steady.var()),
            "staleness_tv_to_geometric": geometric_tv(steady, 1 / config.n_workers),
            "lost_updates": run.lost_updates, "skipped_nonfinite": run.skipped_nonfinite,
            "wall_seconds": round(run.wall_seconds, 3), "mean_cycle_seconds": float(np.mean(run.cycle)),
            "events": run.events}


WORK_MEAN = 0.02  # seconds: the default mean injected work time


def _parser() -> Parser:
    parser = Parser(prog="python -m cnn_experiments.real_async", description=__doc__.split("\n")[0])
    parser.add_argument("--n-workers", type=int, default=4)
    parser.add_argument("--work-time", default="exponential")
    parser.add_argument("--work-mean", type=float, default=None, help=f"mean injected work time, seconds "
                        f"(default {WORK_MEAN})")
    parser.add_argument("--updates", type=int, default=400)
    parser.add_argument("--model", default="logreg", choices=["logreg", "cnn"])
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--mu-explicit", type=float, default=0.0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--full-batch", action="store_const", const=ps.MAX_BATCH, dest="batch_size",
                        help="full-batch gradients (the workload the queue-model experiments score controllers on)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler (tcp://HOST:PORT, or "
                        "tls://HOST:PORT with the --tls-* files)")
    add_tls_arguments(parser)
    parser.add_argument("--log", type=path_arg, default=None, help="write the staleness log (CSV, sim.queue format) here")
    parser.add_argument("--trace", type=path_arg, default=None,
                        help="write each update's work time (submission to arrival, seconds; CSV) here: a trace "
                             "for sim.laws' trace law")
    parser.add_argument("--compensate", action="store_true",
                        help="closed loop: start from what M alone says (mu_S = 1 - 1/M), then reset mu_L and the "
                             "step from the measured staleness every 100 updates")
    parser.add_argument("--step-rule", default="keep", choices=["keep", "theorem7", "delay"],
                        help="with --compensate: keep the step tuned at M = 1 (default), scale it by Theorem 7's ratio, "
                             "or by the pure delay's stability bound at the mean staleness (see the README)")
    parser.add_argument("--per-update", default="constant", choices=list(step_rules.RULES),
                        help="scale each update's step by its own staleness (delay_adaptive: alpha M / max(M, tau); "
                             "staleness_aware: alpha / max(1, tau); threshold: alpha min(1, M / tau)); with or "
                             "without --compensate")
    parser.add_argument("--rescale-step", action="store_const", const="theorem7", dest="step_rule",
                        help="the same as --step-rule theorem7")
    parser.add_argument("--momentum-rule", default="theorem7", choices=["theorem7", "first_order"],
                        help="with --compensate: mu_L from Theorem 7 and --condition-number (default), or the first-"
                             "order rule mu_L = --mu-explicit - mu_S (--mu-explicit is then the synchronous tuning)")
    parser.add_argument("--condition-number", type=float, default=100.0,
                        help="the closed loop's guess of the curvature range Q (default 100)")
    parser.add_argument("--target-loss", type=float, default=None,
                        help="report updates_to_target: the first update (checked every 10) with the full loss below "
                             "this (default with --compensate: 0.5)")
    return parser


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    target = args.target_loss if args.target_loss is not None else (0.5 if args.compensate else None)
    if target is not None and not (np.isfinite(target) and target > 0):
        print("error: --target-loss must be a positive number", file=sys.stderr)
        return 2
    lr = args.lr if args.lr is not None else (0.5 if args.model == "logreg" else 0.05)
    config = ps.RealConfig(n_workers=args.n_workers, n_updates=args.updates, model=args.model, lr=lr,
                           mu_explicit=args.mu_explicit, batch_size=args.batch_size, work_time=args.work_time,
                           work_mean=WORK_MEAN if args.work_mean is None else args.work_mean, seed=args.seed,
                           compensate_every=100 if args.compensate else 0, condition_number=args.condition_number,
                           step_rule=args.step_rule,
                           momentum_rule=args.momentum_rule, per_update=args.per_update)
    try:
        config.validate()
        ps._sleep_sampler(config)
        for option, path in (("--log", args.log), ("--trace", args.trace)):
            if path:
                check_log_path(Path(path), option)
        if args.log and args.trace and Path(os.path.abspath(args.log)) == Path(os.path.abspath(args.trace)):
            raise ValueError("--log and --trace name the same file: the trace would overwrite the log; give two names")
        if tls_without_scheduler(args):
            raise ValueError("--tls-* files are for a tls:// --scheduler; without --scheduler the local cluster makes "
                             "its own credentials (omit them, or pass --scheduler)")
        if args.work_time == "natural" and args.work_mean is not None:
            raise ValueError("--work-mean sets injected work times; with --work-time natural there are none (omit it)")
        client, cluster = cluster_mod.local_client(args.n_workers, args.scheduler, tls_files=tls_files(args))
    except (ValueError, ConnectionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        print(f"running {args.updates} updates with M={args.n_workers} ({args.work_time} work times) on "
              f"{client.scheduler.address} ...", file=sys.stderr, flush=True)
        result = ps.run(client, config, loss_every=10 if target is not None else 0)
    except Exception as exc:  # noqa: BLE001  (a dataset or cluster problem: one line, non-zero exit)
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    print(json.dumps(summary(result, config, target)))  # first: an output error below never loses a finished run
    for path, write in ((args.log, lambda p: save_log(p, schedule_of(result, args.n_workers))),
                        (args.trace, lambda p: save_trace(p, steady_work_times(result, args.n_workers)))):
        if not path:
            continue
        try:
            write(path)
        except OSError as exc:
            print(f"error: could not write {path}: {exc.strerror}; the summary above is complete", file=sys.stderr)
            return 2
    return 0


def steady_work_times(run: ps.RealRun, n_workers: int) -> np.ndarray:
    """The work times without each slot's first task, which also pays the worker's start-up (data, model)."""
    slots = np.asarray(run.slot)
    first = np.zeros(slots.size, dtype=bool)
    first[[int(np.flatnonzero(slots == k)[0]) for k in np.unique(slots)]] = True
    return np.asarray(run.cycle, dtype=float)[~first]


def save_trace(path, work_times) -> None:
    """One work time (seconds) per row under a header: what sim.laws.load_trace reads."""
    np.savetxt(path, np.asarray(work_times, dtype=float), header="work_time_s", comments="", fmt="%.6g")


def check_log_path(path: Path, option: str = "--log") -> None:
    """Fail before the run, not after it, when the file cannot be written there."""
    if path.is_dir():
        raise ValueError(f"{option} {path} is a folder; give a file name")
    try:
        check_writable_target(path)   # a FIFO or device would hang or swallow the log after the run
    except OSError as exc:
        raise ValueError(f"{option} {exc}") from None
    if not path.parent.is_dir():
        raise ValueError(f"{option} {path}: the folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise ValueError(f"{option} {path}: the folder {path.parent} is not writable")


if __name__ == "__main__":
    raise SystemExit(cli.run(main))
