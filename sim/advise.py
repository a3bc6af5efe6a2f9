"""Advice for a systems builder, from the staleness a parameter server logs (or from a model of its workers).

    python -m sim.advise --log STALENESS.csv [--mu-sync 0.9] [--lr ALPHA] [--condition-number Q] [--json]
    python -m sim.advise --workers M --work-time exponential|gamma|constant|lognormal [--updates N] [--json]

The log is the CSV `cnn_experiments.real_async --log` and `sim.queue.save_log` write (update, worker, time, staleness,
warmup). Printed: whether the staleness is geometric (its TV to Geom(1/M) against exact queue samples of the same
size); if it is, the implicit momentum with its interval and the explicit momentum to use (first order: mu_sync - mu_S,
or Theorem 7's with a curvature range Q); if it is not, no momentum from the momentum picture (a regular delay is not
momentum) but the delay's bound on the step and, given a curvature range Q, the explicit momentum the law's own
recurrence makes best (theory.laws), with its interval from the log's sampling error; the step rule the suite's
step-rule studies found best without a per-M grid (staleness-aware); and the hardware side of "does asynchrony pay":
the statistical penalty (asynchronous updates per synchronous round needed) at which asynchronous training breaks
even with synchronous rounds that wait for the slowest worker. With the caveats the suite has measured.
"""
from __future__ import annotations

import json
import math
import sys

import numpy as np

from sim.cli import Parser, path_arg
from sim import cli
from sim.laws import LawError
from sim.queue import load_log, simulate, simulate_batch
from sim.stats import batch_se, geometric_tv
from theory import laws
from theory.predictions import implicit_momentum, staleness_variance

CLAMP = 0.9
LAW_BLOCKS = 20    # the log's pmf: its standard error from 20 consecutive blocks (delays are correlated)
LAW_DRAWS = 4      # pmfs redrawn within that error: the interval of the law's best momentum (a search each: seconds)
LAW_TAIL = 1e-4    # pmf mass trimmed from the tail before the recurrence (its degree stays small)
LAW_MAX_TERMS = 24  # a longer law (a straggler's tail) makes the recurrence's search take minutes: not attempted
REFERENCES = 200
REFERENCE_UPDATES = 100_000   # steady updates compared with the geometric law at most (the first ones of a longer log)
REFERENCE_CELLS = 5_000_000   # staleness values of the exact reference samples at most (replicas x length)
STRAGGLER = 3.0   # the slowest worker's mean cycle over the median worker's: above it, a straggler
CAVEATS = (
    "The implicit momentum is a property of the expected iterate; single runs behave otherwise (Theorem 7's optimum "
    "can diverge in mean square: the suite's extension-tuning-in-mean-square).",
    "The mean staleness is M - 1 under any work-time law, so mean / (1 + mean) counts workers; the law's shape "
    "(geometric or not) is what tells momentum from a pure delay.",
    "Measured on logistic regression under the queue: the step tuned at M = 1 is several times too large at M >= 8; "
    "no step rule tried reached the per-M oracle within 1.2x (extension-step-rules-logreg).",
    "The law's own recurrence is the quadratic model's answer: on logistic regression with constant work at M = 8 (a "
    "pure delay of 7) its momentum (-0.9, at the clamp) with the staleness-aware step did not reach the target where "
    "the per-M oracle did (extension-advice-logreg); treat it as a starting point for a grid that includes it.",
)


def _momentum(steady: np.ndarray) -> dict:
    mean = float(steady.mean())
    se = batch_se(steady.astype(float), 20) / (1 + mean) ** 2
    est = mean / (1 + mean)
    return {"mu_implicit": est, "low": est - 2 * se, "high": est + 2 * se, "mean_staleness": mean,
            "var_staleness": float(steady.var()), "max_staleness": int(steady.max())}


def _geometric(steady: np.ndarray, n_workers: int, seed: int = 0) -> dict:
    """TV to Geom(1/M) of (at most the first REFERENCE_UPDATES of) the steady staleness, beside exact queue samples
    of the same size (at most REFERENCE_CELLS values in all: memory stays bounded for the largest log)."""
    steady = steady[:REFERENCE_UPDATES]
    replicas = int(max(20, min(REFERENCES, REFERENCE_CELLS // (steady.size + 4 * n_workers))))
    exact = simulate_batch(n_workers, steady.size + 4 * n_workers, replicas, seed=seed)
    tvs = [geometric_tv(row[~w][:steady.size], 1 / n_workers) for row, w in zip(exact.staleness, exact.warmup)]
    tv, q99 = geometric_tv(steady, 1 / n_workers), float(np.quantile(tvs, 0.99))
    return {"tv_to_geometric": tv, "tv_q99_exact": q99, "geometric": bool(tv <= q99)}


def _cycles(schedule) -> tuple[np.ndarray, list[np.ndarray]]:
    """Inter-write times of the whole server, and each worker's own cycle times (write to write)."""
    time = np.asarray(schedule.time, dtype=float)
    worker = np.asarray(schedule.worker)
    per = [np.diff(np.concatenate([[0.0], time[worker == w]])) for w in range(schedule.n_workers)]
    return np.diff(time), [c for c in per if c.size]


def _hardware(schedule, seed: int = 0) -> dict:
    """Time per asynchronous update against a synchronous round (the slowest of the workers' cycles, resampled from
    each worker's own logged cycles)."""
    gaps, per = _cycles(schedule)
    if gaps.size < 2 or len(per) < schedule.n_workers:
        return {}
    rng = np.random.default_rng(seed)
    rounds = np.max([rng.choice(c, 4000) for c in per], axis=0)
    async_dt, sync_round = float(gaps.mean()), float(rounds.mean())
    if not (np.isfinite(async_dt) and async_dt > 0 and np.isfinite(sync_round)):
        return {}   # no time passes between writes in this log: no hardware comparison
    means = np.array([c.mean() for c in per])
    return {"async_time_per_update": async_dt, "sync_time_per_round": sync_round,
            "break_even_penalty": sync_round / async_dt, "slowest_worker_ratio": float(means.max() / np.median(means))}


STEP_RULE = "staleness_aware"   # extension-step-rules-logreg: first order x staleness-aware has the best worst case
#                                 of the rules without a per-M grid (under the queue and on the real server)


def law_pmf(steady: np.ndarray, blocks: int = LAW_BLOCKS) -> tuple[np.ndarray, np.ndarray]:
    """The log's staleness pmf and its standard error per cell, from `blocks` consecutive blocks of the log."""
    n = int(steady.max()) + 1
    pmf = np.bincount(steady, minlength=n) / steady.size
    parts = [np.bincount(b, minlength=n)[:n] / b.size for b in np.array_split(steady, blocks) if b.size]
    return pmf, np.std(parts, axis=0, ddof=1) / np.sqrt(len(parts))


def law_momentum(pmf: np.ndarray, se: np.ndarray, condition_number: float, seed: int = 0) -> dict:
    """The explicit momentum the law's own recurrence makes best (theory.laws.best_explicit_momentum over eigenvalues
    in [1, Q], mu_L within the clamp), and its interval: the range over LAW_DRAWS pmfs redrawn within the log's
    standard errors (none where the pmf has no spread, or the optimum sits at the clamp: it lies beyond it)."""
    best = laws.best_explicit_momentum(laws.trim(pmf, LAW_TAIL), condition_number, mu_range=(-CLAMP, CLAMP))
    at_clamp = abs(best[0]) >= CLAMP - 1e-3
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(LAW_DRAWS if se.max() > 0 and not at_clamp else 0):
        noisy = np.clip(pmf + se * rng.standard_normal(pmf.shape), 0.0, None)
        draws.append(laws.best_explicit_momentum(laws.trim(noisy / noisy.sum(), LAW_TAIL), condition_number,
                                                 mu_range=(-CLAMP, CLAMP))[0])
    return {"mu_explicit": float(best[0]), "lr_law": float(best[1]), "low": float(min(draws, default=best[0])),
            "high": float(max(draws, default=best[0])), "draws": len(draws), "at_clamp": at_clamp}


def _not_geometric_advice(out: dict, steady: np.ndarray, condition_number: float | None) -> dict:
    """A log that is not geometric: no momentum from the momentum picture (a pure delay is not momentum: Section V's
    reading fails) and the delay's step bound; with a curvature range, the law's own recurrence's best momentum."""
    tau = int(round(out["median_staleness"]))
    bound = laws.delay_stability_bound(tau)
    advice = {"mu_explicit": None,
              "rule": "none from the momentum picture: the staleness is not geometric (the work times are not "
                      "memoryless), so asynchrony is not (only) momentum and mu_sync - mu_S does not apply; pass "
                      "--condition-number Q for the explicit momentum this law's own recurrence makes best, or tune "
                      "mu_L on a grid that includes values <= 0 at this M (extension-laws-best-momentum: with "
                      "constant work times the law's best explicit momentum was negative at every M tried)",
              "delay_step_bound": bound,
              "note": f"as a delay of {tau} updates (the median staleness) the step must satisfy alpha lambda_max < "
                      f"2 sin(pi / (2 (2 tau + 1))) = {bound:.3f} at mu_L = 0 (synchronous: 2), {2 / bound:.0f}x "
                      "smaller than without asynchrony"}
    if condition_number is None:
        return advice
    pmf, se = law_pmf(steady)
    terms = laws.trim(pmf, LAW_TAIL).size
    if terms > LAW_MAX_TERMS:
        return advice | {"rule": advice["rule"].replace("pass --condition-number Q for the explicit momentum this law's "
                                                        "own recurrence makes best, or tune", "tune") +
                         f"; the law's own recurrence is not searched: its pmf spans {terms} delays (more than "
                         f"{LAW_MAX_TERMS}; a straggler's tail), a search of minutes"}
    law = law_momentum(pmf, se, condition_number)
    spread = (f"[{law['low']:+.3f}, {law['high']:+.3f}] over {law['draws']} pmfs redrawn within the log's standard "
              "errors" if law["draws"] else
              f"at the clamp: the law's optimum lies at or beyond {law['mu_explicit']:+.1f}, the range searched"
              if law["at_clamp"] else "no interval: the log's pmf has no sampling spread (every block alike)")
    return advice | {"mu_explicit": law["mu_explicit"], "interval": [law["low"], law["high"]],
                     "lr_law": law["lr_law"],
                     "rule": f"the law's own recurrence (theory.laws: the log's pmf, eigenvalues in [1, Q = "
                             f"{condition_number:g}]): its best explicit momentum {law['mu_explicit']:+.3f} {spread}; "
                             "not the momentum picture (the staleness is not geometric)"}


def _momentum_advice(out: dict, steady: np.ndarray, mu_sync: float, condition_number: float | None) -> dict:
    """The explicit momentum: from the momentum picture when the staleness is geometric (first order, or Theorem 7
    with a curvature range); from the law's own recurrence (given Q) when it is not."""
    if not out["geometric"]:
        return _not_geometric_advice(out, steady, condition_number)
    mu_s = float(np.clip(out["mu_implicit"], 0, 0.999))
    if condition_number is not None:
        from theory import rates
        mu, alpha, _ = rates.best_explicit_momentum(mu_s, condition_number, mu_range=(-CLAMP, CLAMP))
        return {"mu_explicit": mu, "rule": f"Theorem 7 at mu_S {mu_s:.3f}, Q = {condition_number:g}",
                "lr_theorem7": alpha}
    return {"mu_explicit": float(np.clip(mu_sync - mu_s, -CLAMP, CLAMP)),
            "rule": f"first order: mu_sync {mu_sync:g} - mu_S {mu_s:.3f}, clamped to [-0.9, 0.9]"}


def advise(schedule, mu_sync: float, lr: float | None, condition_number: float | None) -> dict:
    steady = np.asarray(schedule.staleness)[~np.asarray(schedule.warmup, dtype=bool)]
    if steady.size < 50:
        raise LawError(f"the log has {steady.size} steady-state updates; at least 50 are needed for advice")
    m = int(schedule.n_workers)
    out = {"n_workers": m, "updates": int(np.asarray(schedule.staleness).size), "steady_updates": int(steady.size),
           "median_staleness": float(np.median(steady))}
    out |= _momentum(steady) | _geometric(steady, m)
    out["momentum_applies"] = out["geometric"]   # mu_S and its interval read the log as momentum only if geometric
    out["recommended"] = _momentum_advice(out, steady, mu_sync, condition_number)
    out["hardware"] = _hardware(schedule)
    slowest = out["hardware"].get("slowest_worker_ratio", 1.0)
    out["recommended"]["step_rule"] = STEP_RULE
    out["recommended"]["step_rule_why"] = (
        "alpha / max(1, tau): of the step rules without a per-M grid, first-order momentum with this rule had the "
        "best worst case against the per-M oracle on logistic regression, under the queue and on the real server "
        "(extension-step-rules-logreg, extension-step-rules-real-server), yet none came within 1.2x of the oracle: "
        "retune the step at this M if you can" + (f"; the slowest worker's mean cycle is {slowest:.1f}x the median "
                                                  "worker's (a straggler)" if slowest > STRAGGLER else ""))
    if lr is not None:
        out["recommended"]["lr_start"] = lr
    out["caveats"] = list(CAVEATS)
    return out


def _text(a: dict) -> str:
    r, h = a["recommended"], a.get("hardware", {})
    stats = (f"staleness mean {a['mean_staleness']:.2f}, variance {a['var_staleness']:.1f} (geometric: "
             f"{staleness_variance(a['n_workers'])}), max {a['max_staleness']}")
    lines = [f"M = {a['n_workers']} workers, {a['steady_updates']} steady-state updates of {a['updates']}",
             (f"implicit momentum mu_S = {a['mu_implicit']:.3f} [{a['low']:.3f}, {a['high']:.3f}] (1 - 1/M = "
              f"{implicit_momentum(a['n_workers']):.3f}); {stats}") if a["momentum_applies"] else
             (f"implicit momentum: not applicable (the staleness is not geometric; mean / (1 + mean) = "
              f"{a['mu_implicit']:.3f} only counts the workers: the mean is M - 1 under any law); {stats}"),
             f"geometric staleness: {'yes' if a['geometric'] else 'NO'} (TV {a['tv_to_geometric']:.3f}; exact queue "
             f"samples of this size reach {a['tv_q99_exact']:.3f} at their 99th percentile)",
             ("explicit momentum: " + (f"{r['mu_explicit']:+.3f} " if r["mu_explicit"] is not None else "")
              + f"({r['rule']})"), f"step rule: {r['step_rule']} ({r['step_rule_why']})"]
    if h:
        lines.append(f"hardware: {h['async_time_per_update']:.4g} time units (seconds in a real log) per asynchronous "
                     f"update, {h['sync_time_per_round']:.4g} per synchronous round (the slowest of {a['n_workers']} "
                     f"workers' cycles): asynchrony pays when it needs fewer than {h['break_even_penalty']:.1f} "
                     "asynchronous updates per synchronous round to reach a target")
    if "note" in r:
        lines.append(f"note: {r['note']}")
    return "\n".join(lines + ["caveats:"] + [f"  - {c}" for c in a["caveats"]])


def main(argv=None) -> int:
    parser = Parser(prog="python -m sim.advise", description=__doc__.split("\n")[0])
    parser.add_argument("--log", type=path_arg, help="a staleness log (CSV: update,worker,time,staleness,warmup)")
    parser.add_argument("--workers", type=int, help="without a log: model M workers")
    parser.add_argument("--work-time", default="exponential", choices=("exponential", "gamma", "constant", "lognormal"))
    parser.add_argument("--updates", type=int, default=4000)
    parser.add_argument("--mu-sync", type=float, default=0.9, help="the momentum tuned at M = 1 (default 0.9)")
    parser.add_argument("--lr", type=float, help="the step tuned at M = 1 (reported beside the advice)")
    parser.add_argument("--condition-number", type=float, help="a curvature range Q: Theorem 7's momentum instead")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        if (args.log is None) == (args.workers is None):
            raise LawError("pass either --log STALENESS.csv or --workers M (with --work-time)")
        if not -1 < args.mu_sync < 1 or (args.lr is not None and not (math.isfinite(args.lr) and args.lr > 0)):
            raise LawError("--mu-sync must be in (-1, 1) and --lr a positive number")
        if args.condition_number is not None and not 1 < args.condition_number <= 1e6:
            raise LawError("--condition-number must be in (1, 10^6]")
        if args.log is not None:
            schedule = load_log(args.log)
        else:
            if not (1 <= args.workers <= 1024 and 100 <= args.updates <= 10 ** 6):
                raise LawError("--workers must be in 1..1024 and --updates in 100..10^6")
            schedule = simulate(args.workers, args.updates, args.work_time, seed=0)
        advice = advise(schedule, args.mu_sync, args.lr, args.condition_number)
    except (LawError, ValueError) as exc:
        print(f"error: {str(exc).splitlines()[0][:300]}", file=sys.stderr)
        return 2
    except MemoryError:
        print("error: not enough memory for this log's reference sample; pass a shorter log", file=sys.stderr)
        return 2
    print(json.dumps(advice) if args.json else _text(advice))
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main))
