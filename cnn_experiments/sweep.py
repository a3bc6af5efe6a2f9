"""From trained runs to times to target: the numerics of a CNN sweep, with explicit arguments (numpy only).

A chunk is the runs of one (M, seed): every configuration of a seed shares its initial point, mini-batches and
queue (common random numbers). Its payload is plain JSON (`payload`): per run the spec, the evaluation steps, the
losses (exact float repr, so that a recomputed chunk can be compared bit for bit), whether it diverged and the
updates it made; and the update at which the chunk stopped (`stopped_at`: every run that neither reached the last
target nor diverged was censored there).

Time to target: the first crossing of the loss below the target, linearly interpolated between the two
evaluations around it (`crossing`); censored (inf) when never reached. A diverged run is censored at its chunk's
stop. The score of a censored run is its chunk's stop: a lower bound.
"""
from __future__ import annotations

import math

import numpy as np

CHANCE_LOSS = math.log(10)   # the loss of predicting the uniform distribution over 10 classes


def payload(records, stopped_at: int) -> dict:
    """A chunk's JSON payload from the trainer's records (cnn_experiments.train.RunRecord)."""
    def run(r):
        extra = {} if r.spec.controller is None else {"controller": r.spec.controller,
                                                      "controls": [float(v) for v in r.controls]}
        return {"n_workers": r.spec.n_workers, "mu_explicit": r.spec.mu_explicit, "lr": r.spec.lr,
                "seed": r.spec.seed, "eval_steps": [int(t) for t in r.eval_steps],
                "losses": [float(v) if math.isfinite(v) else None for v in r.losses],
                "diverged": bool(r.diverged), "updates": int(r.updates)} | extra
    return {"runs": [run(r) for r in records], "stopped_at": int(stopped_at)}


def crossing(steps, losses, target: float) -> float:
    """The first update at which the loss reaches `target`, interpolated linearly between evaluations; inf if never
    (a non-finite loss ends the run)."""
    prev_s, prev_l = None, None
    for s, l in zip(steps, losses):
        if l is None or not math.isfinite(l):
            return math.inf
        if l <= target:
            if prev_s is None or prev_l <= l:
                return float(s)
            return float(prev_s + (prev_l - target) / (prev_l - l) * (s - prev_s))
        prev_s, prev_l = s, l
    return math.inf


def mean_curves(runs: list[dict], grid: np.ndarray) -> dict:
    """(mu_L, alpha) -> the mean over seeds of the loss on `grid` (evaluation steps every run shares), NaN where a
    run had stopped, inf where it had diverged."""
    by_config: dict = {}
    for r in runs:
        curve = np.full(grid.size, np.inf if r["diverged"] else np.nan)
        steps = np.asarray(r["eval_steps"])
        keep = np.isin(steps, grid)
        curve[np.searchsorted(grid, steps[keep])] = [np.inf if v is None else v
                                                     for v, k in zip(r["losses"], keep) if k]
        by_config.setdefault((r["mu_explicit"], r["lr"]), []).append(curve)
    return {k: np.mean(v, axis=0) for k, v in by_config.items()}


def targets_at(runs: list[dict], at_updates, eval_every: int, budget: int) -> tuple[float, ...]:
    """Loss targets: the loss the best synchronous configuration (the mean curve over the seeds of `runs`) has at
    each of `at_updates`. Every run of `runs` must have run the whole `budget` (no early stop)."""
    grid = np.arange(0, budget + 1, eval_every)
    curves = mean_curves(runs, grid)
    out = []
    for at in at_updates:
        j = int(np.argmin(np.abs(grid - at)))
        values = [c[j] for c in curves.values() if np.isfinite(c[j])]
        if not values:
            raise ValueError(f"no synchronous run has a finite loss at update {grid[j]}: the targets are undefined")
        out.append(float(min(values)) + 1e-9)
    return tuple(out)


def target_se(runs: list[dict], at_updates, eval_every: int, budget: int) -> list[float]:
    """The run-to-run standard error of each target: the SD over seeds of the best configuration's loss at that
    update, / sqrt(seeds) (what separates two targets: both are read on the same fixed evaluation images)."""
    grid = np.arange(0, budget + 1, eval_every)
    curves = mean_curves(runs, grid)
    out = []
    for at in at_updates:
        j = int(np.argmin(np.abs(grid - at)))
        best = min((k for k, c in curves.items() if np.isfinite(c[j])), key=lambda k: curves[k][j])
        values = [r["losses"][r["eval_steps"].index(int(grid[j]))] for r in runs
                  if (r["mu_explicit"], r["lr"]) == best and int(grid[j]) in r["eval_steps"]]
        out.append(float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("nan"))
    return out


def chunk_times(chunk: dict, targets) -> tuple[dict, int]:
    """{(mu_L, alpha): [time to each target]} of one chunk, and its stop (the censoring time)."""
    stop = chunk["stopped_at"]
    out = {}
    for r in chunk["runs"]:
        times = [crossing(r["eval_steps"], r["losses"], t) for t in targets]  # a run that diverged first: inf
        out[(r["mu_explicit"], r["lr"])] = [t if t <= stop else math.inf for t in times]
    return out, stop


def tabulate(chunks: dict, targets, workers, mu_grid, lr_grid, seeds, step_index=None
             ) -> tuple[np.ndarray, np.ndarray]:
    """times (targets, M, mu, lr, seed) with inf = censored, and caps (M, seed): each chunk's stop.
    `chunks[(m, seed)]` is a chunk payload; `step_index(m, mu, lr)` places a run on the step axis where the steps
    differ per M (default: lr_grid.index(lr))."""
    step_index = step_index or (lambda m, mu, lr: list(lr_grid).index(lr))
    times = np.full((len(targets), len(workers), len(mu_grid), len(lr_grid), len(seeds)), np.inf)
    caps = np.zeros((len(workers), len(seeds)))
    for j, m in enumerate(workers):
        for k, seed in enumerate(seeds):
            by_config, caps[j, k] = chunk_times(chunks[(m, seed)], targets)
            for (mu, lr), values in by_config.items():
                times[:, j, list(mu_grid).index(mu), step_index(m, mu, lr), k] = values
    return times, caps


def best_synchronous(sync_chunks: dict, target: float, mu_grid, lr_grid) -> tuple[float, float]:
    """(mu_L, alpha) of the best synchronous configuration at `target` over the seeds' M = 1 chunks ({seed: chunk}):
    the momentum the any-sign strategy chooses, at its best step."""
    from cnn_experiments import analysis
    seeds = tuple(sync_chunks)
    times, caps = tabulate({(1, s): c for s, c in sync_chunks.items()}, (target,), (1,), mu_grid, lr_grid, seeds)
    ev = analysis.Evidence(times, (1,), mu_grid, caps)
    mu = float(analysis.strategy(ev, "any_sign")[1][0, 0, 0])
    step = int(analysis.best_per_momentum(ev)[1][0, 0, list(mu_grid).index(mu), 0])
    return mu, lr_grid[step]
