"""The batch ladder (Figs. 4 and 8 at batch 16, 64 and 128) chunk by chunk: which chunks exist (`plan`), how one is
trained (`Backend.compute`), and what they become (`tables`, pure).

Chunks, in order: per batch the synchronous runs of the first `target_seeds` decision seeds (they set that batch's
targets), the regime chunks (the best synchronous configuration trained to each target on a regime seed, its
sharpness and noise scale there), then per seed (decision, then replication) and batch one chunk per M (every
(mu_L, alpha) of the grid, paired: one start, one mini-batch stream, one queue).
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from cnn_experiments import sweep
from cnn_experiments.specs import RunSpec, Settings

Config = Any   # the design (reports.experiments.cnn_batch_ladder.config.Config): the fields read here
from theory import stability

SETS = ("decision", "replication")


def per_epoch(config: Config, batch: int) -> float:
    return config.n_train / batch


def target_updates(config: Config, batch: int) -> tuple[int, ...]:
    return tuple(max(1, round(e * per_epoch(config, batch))) for e in config.target_epochs)


def eval_every(config: Config, batch: int, n_workers: int) -> int:
    return max(1, round(config.eval_examples / batch * n_workers ** config.eval_exponent))


def sync_budget(config: Config, batch: int) -> int:
    return math.ceil(config.sync_factor * target_updates(config, batch)[-1])


def seeds_of(config: Config, which: str) -> tuple:
    return config.decision_seeds if which == "decision" else config.replication_seeds


def first(config: Config) -> list[str]:
    """The chunks the others need: each batch's synchronous runs of the target seeds."""
    return [f"B{b}-M1-seed{s}" for b in config.batches for s in config.decision_seeds[:config.target_seeds]]


def plan(config: Config) -> list[str]:
    head = first(config)
    regime = [f"regime-B{b}-seed{s}" for b in config.batches for s in config.regime_seeds]
    rest = [f"B{b}-M{m}-seed{s}" for s in config.decision_seeds + config.replication_seeds for b in config.batches
            for m in config.workers if f"B{b}-M{m}-seed{s}" not in head]
    return head + regime + rest


def parse(name: str) -> tuple[str, int, int, int]:
    """('grid', batch, M, seed) or ('regime', batch, 1, seed)."""
    parts = name.split("-")
    if parts[0] == "regime":
        return "regime", int(parts[1][1:]), 1, int(parts[2].removeprefix("seed"))
    return "grid", int(parts[0][1:]), int(parts[1][1:]), int(parts[2].removeprefix("seed"))


def grid_specs(config: Config, n_workers: int, seed: int) -> list[RunSpec]:
    return [RunSpec(n_workers, mu, lr, seed) for mu in config.mu_grid for lr in config.lr_grid]


def targets(config: Config, chunks: dict, batch: int) -> tuple[float, ...]:
    runs = [r for s in config.decision_seeds[:config.target_seeds] for r in chunks[f"B{batch}-M1-seed{s}"]["runs"]]
    return sweep.targets_at(runs, target_updates(config, batch), eval_every(config, batch, 1),
                            sync_budget(config, batch))


def sync_best(config: Config, chunks: dict, batch: int) -> tuple[float, float]:
    """(mu_L, alpha) of the best synchronous configuration at the last target on the target seeds."""
    seeds = config.decision_seeds[:config.target_seeds]
    sync = {s: chunks[f"B{batch}-M1-seed{s}"] for s in seeds}
    return sweep.best_synchronous(sync, targets(config, chunks, batch)[-1], config.mu_grid, config.lr_grid)


class Backend:
    """The torch side, loaded on the first chunk that has to be trained."""

    def __init__(self, config: Config):
        from cnn_experiments.train import design_data
        self.data = design_data(config)
        self.settings = Settings(width=config.width, work_time=config.work_time, init=config.init,
                                 precision=config.precision, layout=config.layout, eval_images=config.eval_images)
        self.config = config

    def compute(self, name: str, chunks: dict) -> dict:
        from cnn_experiments.train import chunk_payload
        c, (kind, b, m, seed) = self.config, parse(name)
        if kind == "regime":
            return self._regime(b, seed, chunks)
        settings = replace(self.settings, batch_size=b, eval_every=eval_every(c, b, m))
        if m == 1:  # full curves: the synchronous runs set the targets
            settings = replace(settings, budget=sync_budget(c, b))
        else:
            settings = replace(settings, budget=c.max_budget, targets=targets(c, chunks, b), stop_factor=c.stop_factor)
        return chunk_payload(grid_specs(c, m, seed), self.data, settings) | {"batch_size": b}

    def _regime(self, batch: int, seed: int, chunks: dict) -> dict:
        from cnn_experiments import regime
        c = self.config
        mu, lr = sync_best(c, chunks, batch)
        return regime.at_checkpoints(RunSpec(1, mu, lr, seed), self.data, replace(self.settings, batch_size=batch),
                                     target_updates(c, batch), c.sharpness_iterations, c.eval_images)


def _times(config: Config, chunks: dict, batch: int, which: str, tg) -> tuple[np.ndarray, np.ndarray]:
    seeds = seeds_of(config, which)
    grid = {(m, s): chunks[f"B{batch}-M{m}-seed{s}"] for m in config.workers for s in seeds}
    return sweep.tabulate(grid, tg, config.workers, config.mu_grid, config.lr_grid, seeds)


def regime_of(config: Config, chunks: dict, batch: int) -> dict:
    """The rung's measured regime (means over the regime seeds) and what the recurrence predicts from it."""
    rows = [chunks[f"regime-B{batch}-seed{s}"] for s in config.regime_seeds]
    mu, lr = rows[0]["mu"], rows[0]["lr"]
    sharp = float(np.mean([r["sharpness"][-1] for r in rows]))
    eta = lr / (1 - mu)
    top = max(config.workers)
    return {"mu": mu, "lr": lr, "eta_star": eta, "sharpness": [float(np.mean(v)) for v in
                                                              zip(*(r["sharpness"] for r in rows))],
            "sharpness_sd": [float(np.std(v, ddof=1)) if len(v) > 1 else None for v in
                             zip(*(r["sharpness"] for r in rows))],
            "b_simple": [float(np.mean(v)) for v in zip(*(r["b_simple"] for r in rows))],
            "eta_star_sharpness": eta * sharp,
            "stable_step_0.9": stability.largest_stable_step(top, 0.9),
            "predicted": stability.predicted_ratios(top, config.mu_grid, eta, sharp)}


def tables(config: Config, chunks: dict) -> tuple[dict, dict]:
    """(summary, arrays) from every chunk of plan(config): pure (numpy), no training."""
    arrays, rungs = {}, {}
    for b in config.batches:
        tg = targets(config, chunks, b)
        for which in SETS:
            if seeds_of(config, which):
                arrays[f"times_B{b}_{which}"], arrays[f"caps_B{b}_{which}"] = _times(config, chunks, b, which, tg)
        rungs[b] = {"targets": list(tg), "target_updates": list(target_updates(config, b)),
                         "eval_every": {m: eval_every(config, b, m) for m in config.workers},
                         "sync_budget": sync_budget(config, b), "regime": regime_of(config, chunks, b)}
    summary = {"batches": list(config.batches), "workers": list(config.workers), "mu_grid": list(config.mu_grid),
               "lr_grid": list(config.lr_grid), "target_epochs": list(config.target_epochs),
               "seeds": {w: list(seeds_of(config, w)) for w in SETS}, "rungs": rungs,
               "stop_factor": config.stop_factor,
               "scale": {"n_train": config.n_train, "n_eval": config.n_eval, "pool": config.pool,
                         "width": config.width}}
    return summary, arrays


def numbers(config: Config, chunks: dict, payload: dict) -> list[float]:
    """What a recomputed chunk is compared by on another kind of machine: its runs' times to target, or the regime
    chunk's sharpness."""
    if "sharpness" in payload:
        return list(payload["sharpness"])
    tg = targets(config, chunks, payload["batch_size"])
    return [sweep.crossing(r["eval_steps"], r["losses"], t) for r in payload["runs"] for t in tg]
