"""The closed loop's CNN sweep (the step rules of section 5 under simulated asynchrony) chunk by chunk: the synchronous runs of every seed (they set the targets), one chunk
per (M, seed) for M > 1 (the oracle's grid), then one loop chunk per seed (the synchronous tuning reused, and the
loop of each step rule, at every M > 1)."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from cnn_experiments import analysis, sweep
from cnn_experiments.analysis import Evidence
from cnn_experiments.specs import RunSpec, Settings

Config = Any   # the design (reports.experiments.cnn_closed_loop.config.Config): the fields read here

NO_COMPENSATION = "no_compensation"


def steps_at(config: Config, m: int) -> list[float]:
    """The effective steps alpha / (1 - mu_L) gridded at M workers."""
    return [round(eta * m ** -config.step_exponent, 6) for eta in config.step_grid]


def lr_of(eta: float, mu: float) -> float:
    return round(eta * (1 - mu), 8)


def grid_specs(config: Config, m: int, seed: int) -> list[RunSpec]:
    return [RunSpec(m, mu, lr_of(eta, mu), seed) for mu in config.mu_grid for eta in steps_at(config, m)]


def strategies(config: Config) -> list[str]:
    return [NO_COMPENSATION] + [f"loop_{rule}" for rule in config.loop_rules]


def loop_specs(config: Config, seed: int, mu_sync: float, lr_sync: float) -> list[RunSpec]:
    return [RunSpec(m, mu_sync, lr_sync, seed, controller=rule) for m in config.workers if m > 1
            for rule in (None,) + tuple(config.loop_rules)]


def step_index(config: Config):
    def index(m, mu, lr):
        return int(np.argmin([abs(e - lr / (1 - mu)) for e in steps_at(config, m)]))
    return index


def targets(config: Config, chunks: dict) -> tuple[float, ...]:
    runs = [r for s in config.seeds for r in chunks[f"M1-seed{s}"]["runs"]]
    at = [f * config.budget for f in config.target_fractions]
    return sweep.targets_at(runs, at, config.eval_every, config.sync_budget)


def grid_evidence(config: Config, chunks: dict, tg) -> Evidence:
    by = {(m, s): chunks[f"M{m}-seed{s}"] for m in config.workers for s in config.seeds}
    times, caps = sweep.tabulate(by, tg, config.workers, config.mu_grid, config.step_grid, config.seeds,
                                 step_index(config))
    return Evidence(times, tuple(config.workers), tuple(config.mu_grid), caps)


def sync_tuning(config: Config, ev: Evidence) -> tuple[float, float]:
    """(mu_L, effective step) of the best synchronous configuration at the last target (mean over seeds)."""
    mu = float(analysis.strategy(ev, "any_sign")[1][-1, 0, 0])
    j = int(analysis.best_per_momentum(ev)[1][-1, 0, list(config.mu_grid).index(mu), 0])
    return mu, steps_at(config, 1)[j]


class Backend:
    def __init__(self, config: Config):
        from cnn_experiments.train import design_data
        self.data = design_data(config)
        self.settings = Settings(batch_size=config.batch_size, budget=config.budget, eval_every=config.eval_every,
                                 width=config.width, work_time=config.work_time, max_batch=config.max_batch,
                                 init=config.init)

    def train(self, specs: list, budget: int, stop_at: tuple = ()) -> dict:
        from cnn_experiments.train import train
        records = train(specs, self.data, replace(self.settings, budget=budget, targets=stop_at))
        return sweep.payload(records, budget)


def plan(config: Config) -> list[str]:
    """The synchronous runs of every seed (they set the targets and the tuning the loop starts from), the grid of every
    M > 1, then one loop chunk per seed."""
    return first(config) + [f"M{m}-seed{s}" for m in config.workers if m > 1 for s in config.seeds] + \
        [f"loop-seed{s}" for s in config.seeds]


def first(config: Config) -> list[str]:
    return [f"M1-seed{s}" for s in config.seeds]


def sync_setting(config: Config, chunks: dict, tg) -> tuple[float, float]:
    """(mu_L, effective step) the loop starts from: the best synchronous configuration at the last target."""
    by = {(1, s): chunks[f"M1-seed{s}"] for s in config.seeds}
    times, caps = sweep.tabulate(by, tg, (1,), config.mu_grid, config.step_grid, config.seeds, step_index(config))
    return sync_tuning(config, Evidence(times, (1,), tuple(config.mu_grid), caps))


def tables(config: Config, chunks: dict) -> tuple[dict, dict]:
    """(summary, arrays) from every chunk of plan(config): pure (numpy), no training."""
    tg = targets(config, chunks)
    ev = grid_evidence(config, chunks, tg)
    mu_sync, step_sync = sync_tuning(config, ev)
    workers, names = [m for m in config.workers if m > 1], strategies(config)
    loop = np.full((len(tg), len(workers), len(names), len(config.seeds)), np.inf)
    final = {m: {k: [] for k in names} for m in workers}
    for s, seed in enumerate(config.seeds):
        for r in chunks[f"loop-seed{seed}"]["runs"]:
            name = f"loop_{r['controller']}" if "controller" in r else NO_COMPENSATION
            j, k = workers.index(r["n_workers"]), names.index(name)
            loop[:, j, k, s] = [sweep.crossing(r["eval_steps"], r["losses"], t) for t in tg]
            final[r["n_workers"]][name].append(r.get("controls", [r["mu_explicit"], r["lr"]]))
    summary = {"targets": list(tg), "workers": list(config.workers), "mu_grid": list(config.mu_grid),
               "steps": {m: steps_at(config, m) for m in config.workers}, "n_seeds": len(config.seeds),
               "closed_loop": {"workers": workers, "strategies": names, "mu_sync": mu_sync, "step_sync": step_sync,
                               "lr_sync": lr_of(step_sync, mu_sync), "budget": config.budget,
                               "final": {m: {k: {"mu_explicit": float(np.mean([c[0] for c in v])),
                                                      "lr": float(np.mean([c[1] for c in v]))}
                                                  for k, v in by.items()} for m, by in final.items()}}}
    return summary, {"times": ev.times, "caps": np.asarray(ev.budget, dtype=float), "loop_times": loop}


def numbers(config: Config, chunks: dict, payload: dict) -> list[float]:
    """What a recomputed chunk is compared by on another kind of machine: its runs' times to the targets."""
    tg = targets(config, chunks)
    return [sweep.crossing(r["eval_steps"], r["losses"], t) for r in payload["runs"] for t in tg]


def evidence(result) -> Evidence:
    """The oracle's grid of a stored result (.summary, .arrays)."""
    s = result.summary
    caps = np.asarray(result.arrays["caps"], dtype=float)
    return Evidence(result.arrays["times"], tuple(s["workers"]), tuple(s["mu_grid"]), caps)
