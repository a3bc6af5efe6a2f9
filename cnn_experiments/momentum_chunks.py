"""The CNN sweep of Figs. 3, 4, 5 and 8 chunk by chunk: which chunks exist (`plan`), how one is trained
(`Backend.compute`), and what the chunks become (`tables`, pure: the report calls it on committed chunks and never
trains). `config` is the design (reports.experiments.cnn_momentum.config.Config).

Chunks, in order: the synchronous runs of the first `target_seeds` decision seeds (they set the loss targets),
then per seed (decision seeds, then replication seeds) one chunk per M (every (mu_L, alpha) of the grid, paired:
one start, one mini-batch stream, one queue) and its warm-start chunk (Fig. 5), then one probe chunk per seed set.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from cnn_experiments import sweep
from cnn_experiments.specs import RunSpec, Settings
from sim.seeds import first_child_seed

Config = Any   # the design: a frozen dataclass with the fields read here

SETS = ("decision", "replication")
NO_COMPENSATION = "no_compensation"   # the closed loop's baseline: the synchronous setting reused unchanged


def eval_every(config: Config, n_workers: int) -> int:
    return max(1, round(config.eval_every * n_workers ** config.eval_exponent))


def seeds_of(config: Config, which: str) -> tuple:
    return config.decision_seeds if which == "decision" else config.replication_seeds


def plan(config: Config) -> list[str]:
    rest = []
    for s in config.decision_seeds + config.replication_seeds:
        rest += [f"M{m}-seed{s}" for m in config.workers if f"M{m}-seed{s}" not in first(config)]
        rest.append(f"warm-seed{s}")
    loops = [f"loop-seed{s}" for s in config.decision_seeds + config.replication_seeds] if config.loop_workers else []
    return (first(config) + [f"regime-seed{s}" for s in config.regime_seeds] + rest
            + [f"probe-{which}" for which in SETS if seeds_of(config, which)] + loops)


def parse(name: str) -> tuple[str, int | None, int | str]:
    """('grid', M, seed), ('warm' | 'regime' | 'loop', None, seed) or ('probe', None, set name)."""
    head, _, tail = name.partition("-")
    if head == "probe":
        return "probe", None, tail
    seed = int(tail.removeprefix("seed"))
    return (head, None, seed) if head in ("warm", "regime", "loop") else ("grid", int(head[1:]), seed)


def grid_specs(config: Config, n_workers: int, seed: int) -> list[RunSpec]:
    return [RunSpec(n_workers, mu, lr, seed) for mu in config.mu_grid for lr in config.lr_grid]


def warm_specs(config: Config, seed: int) -> list[RunSpec]:
    """The continuations after seed's warm-up: their own queue and mini-batch streams (the seed's first child stream)."""
    own = first_child_seed(seed)  # (the committed chunks' stream: one per seed)
    return [RunSpec(m, mu, lr, own) for m in config.warm_workers for mu in config.warm_mu_grid
            for lr in config.warm_lr_grid]


def loop_specs(config: Config, n_workers: int, seed: int, mu: float, lr: float) -> list[RunSpec]:
    """The closed loop at M workers on seed's queue and mini-batches (paired with the grid chunk): the synchronous
    setting kept unchanged (no compensation), then each step rule of loop_rules starting from it."""
    return [RunSpec(n_workers, mu, lr, seed, controller=rule) for rule in (None,) + tuple(config.loop_rules)]


def _target_runs(config: Config, chunks: dict) -> list[dict]:
    return [r for s in config.decision_seeds[:config.target_seeds] for r in chunks[f"M1-seed{s}"]["runs"]]


def targets(config: Config, chunks: dict) -> tuple[float, ...]:
    """The loss the best synchronous configuration (mean over the target seeds) has at each of target_updates."""
    return sweep.targets_at(_target_runs(config, chunks), config.target_updates, eval_every(config, 1),
                            config.sync_budget)


def warmup_setting(config: Config, chunks: dict) -> tuple[float, float]:
    """(mu_L, alpha) of the best synchronous configuration at the last target on the target seeds: Fig. 5's
    warm-up."""
    seeds = config.decision_seeds[:config.target_seeds]
    return sweep.best_synchronous({s: chunks[f"M1-seed{s}"] for s in seeds}, targets(config, chunks)[-1],
                                  config.mu_grid, config.lr_grid)


class Backend:
    """The torch side, loaded on the first chunk that has to be trained."""

    def __init__(self, config: Config):
        from cnn_experiments.train import design_data
        self.data = design_data(config)
        self.settings = Settings(batch_size=config.batch_size, width=config.width, work_time=config.work_time,
                                 init=config.init, precision=config.precision, compile=config.compile,
                                 layout=config.layout)
        self.config = config

    def compute(self, name: str, chunks: dict) -> dict:
        from cnn_experiments.train import train
        c, (kind, m, seed) = self.config, parse(name)
        if kind == "probe":
            return self._probes(seed)
        if kind == "warm":
            return self._warm(seed, chunks)
        if kind == "loop":
            return self._loop(seed, chunks)
        if kind == "regime":  # the best synchronous configuration's sharpness and noise scale at the targets
            from cnn_experiments import regime
            mu, lr = warmup_setting(c, chunks)
            return regime.at_checkpoints(RunSpec(1, mu, lr, seed), self.data, self.settings, c.target_updates)
        specs = grid_specs(c, m, seed)
        if m == 1:  # full curves: the synchronous runs set the targets
            settings = replace(self.settings, budget=c.sync_budget, eval_every=eval_every(c, 1),
                               max_batch=len(specs))
        else:
            settings = replace(self.settings, budget=c.max_budget, eval_every=eval_every(c, m), max_batch=len(specs),
                               targets=targets(c, chunks), stop_factor=c.stop_factor)
        records = train(specs, self.data, settings)
        return sweep.payload(records, max(r.stop for r in records))

    def _loop(self, seed: int, chunks: dict) -> dict:
        """At each M of loop_workers, the loop's runs trained as one batch with the grid chunk's settings at that M
        (its budget, evaluations, targets and stop rule)."""
        from cnn_experiments.train import train
        c = self.config
        mu, lr = warmup_setting(c, chunks)   # the best synchronous configuration, as the loop is tuned once at M = 1
        out = []
        for m in c.loop_workers:
            specs = loop_specs(c, m, seed, mu, lr)
            settings = replace(self.settings, budget=c.max_budget, eval_every=eval_every(c, m), max_batch=len(specs),
                               targets=targets(c, chunks), stop_factor=c.stop_factor)
            records = train(specs, self.data, settings)
            out.append(sweep.payload(records, max(r.stop for r in records)))
        return {"loops": out, "sync": [mu, lr]}

    def _warm(self, seed: int, chunks: dict) -> dict:
        from cnn_experiments.train import channels_last, eval_se, train, warm_start
        c = self.config
        mu, lr = warmup_setting(c, chunks)
        weights = warm_start(RunSpec(1, mu, lr, seed), self.data, self.settings, c.warm_updates)
        specs = warm_specs(c, seed)
        settings = replace(self.settings, budget=c.warm_budget, eval_every=eval_every(c, 1), max_batch=len(specs))
        records = train(specs, self.data, settings, initial=weights)
        se = eval_se(weights, self.data, channels_last(settings, self.data.x.device))[0]
        return sweep.payload(records, c.warm_budget) | {"warmup": [mu, lr], "eval_se": se}

    def _probes(self, which: str) -> dict:
        from cnn_experiments import probe
        c, root = self.config, seeds_of(self.config, which)[0]
        settings = replace(self.settings, budget=c.probe_steps)
        return {"probes": [probe.measure(self.data, settings, m, c.probe_step, c.probe_replicas, c.probe_steps,
                                         init_seed=root, seed=first_child_seed(root),
                                         n_examples=c.probe_examples) for m in c.probe_workers]}


def first(config: Config) -> list[str]:
    """The chunks every other chunk needs: the target seeds' synchronous runs (targets, Fig. 5's warm-up)."""
    return [f"M1-seed{s}" for s in config.decision_seeds[:config.target_seeds]]


WARM_TRACE_SHARES = (0.05, 0.1, 0.2, 1 / 3, 0.5, 2 / 3)   # of the continuation's budget: early to late targets


def _set_arrays(config: Config, chunks: dict, tg: tuple, trace_tg: tuple, which: str) -> dict:
    seeds = seeds_of(config, which)
    grid = {(m, s): chunks[f"M{m}-seed{s}"] for m in config.workers for s in seeds}
    times, caps = sweep.tabulate(grid, tg, config.workers, config.mu_grid, config.lr_grid, seeds)
    warm = {(m, s): {"runs": [r for r in chunks[f"warm-seed{s}"]["runs"] if r["n_workers"] == m],
                     "stopped_at": config.warm_budget} for m in config.warm_workers for s in seeds}
    warm_tg = warm_targets(config, chunks)
    warm_times, warm_caps = sweep.tabulate(warm, warm_tg, config.warm_workers, config.warm_mu_grid,
                                           config.warm_lr_grid, seeds)
    trace, _ = sweep.tabulate(warm, trace_tg, config.warm_workers, config.warm_mu_grid, config.warm_lr_grid, seeds)
    out = {f"times_{which}": times, f"caps_{which}": caps, f"warm_times_{which}": warm_times,
           f"warm_caps_{which}": warm_caps, f"warmtrace_times_{which}": trace}
    if config.loop_workers:
        out |= loop_arrays(config, chunks, tg, which)
    return out


def loop_strategies(config: Config) -> list[str]:
    return [NO_COMPENSATION] + [f"loop_{rule}" for rule in config.loop_rules]


def loop_arrays(config: Config, chunks: dict, tg: tuple, which: str) -> dict:
    """The closed loop's times (targets, loop M, strategy, seed), inf = censored, and caps (loop M, seed): each M's
    batch stop."""
    seeds, names = seeds_of(config, which), loop_strategies(config)
    times = np.full((len(tg), len(config.loop_workers), len(names), len(seeds)), np.inf)
    caps = np.zeros((len(config.loop_workers), len(seeds)))
    for k, seed in enumerate(seeds):
        for j, part in enumerate(chunks[f"loop-seed{seed}"]["loops"]):
            caps[j, k] = part["stopped_at"]
            for r in part["runs"]:
                i = names.index(f"loop_{r['controller']}" if "controller" in r else NO_COMPENSATION)
                times[:, j, i, k] = [t if t <= caps[j, k] else np.inf
                                     for t in (sweep.crossing(r["eval_steps"], r["losses"], x) for x in tg)]
    return {f"loop_times_{which}": times, f"loop_caps_{which}": caps}


def loop_summary(config: Config, chunks: dict) -> dict | None:
    """What the closed loop started from and where its controllers ended (mean over every seed)."""
    if not config.loop_workers:
        return None
    runs = [(j, r) for s in config.decision_seeds + config.replication_seeds
            for j, part in enumerate(chunks[f"loop-seed{s}"]["loops"]) for r in part["runs"] if "controller" in r]
    final = {m: {f"loop_{rule}": [float(np.mean([r["controls"][i] for j, r in runs if config.loop_workers[j] == m
                                                  and r["controller"] == rule])) for i in (0, 1)]
                 for rule in config.loop_rules} for m in config.loop_workers}
    mu, lr = chunks[f"loop-seed{config.decision_seeds[0]}"]["sync"]
    return {"workers": list(config.loop_workers), "strategies": loop_strategies(config), "mu_sync": mu, "lr_sync": lr,
            "final": final}


def warm_trace(config: Config, chunks: dict) -> tuple[list[int], tuple[float, ...]]:
    """Fig. 5 across targets (shown, not deciding): the updates after the warm-up at WARM_TRACE_SHARES of the
    continuation's budget, and the targets there (the best M = 1 continuation's mean loss, as the deciding one)."""
    every = eval_every(config, 1)
    at = sorted({max(every, round(share * config.warm_budget / every) * every) for share in WARM_TRACE_SHARES})
    return at, sweep.targets_at(_warm_sync_runs(config, chunks), at, every, config.warm_budget)


def _warm_sync_runs(config: Config, chunks: dict) -> list[dict]:
    return [r for s in config.decision_seeds[:config.target_seeds] for r in chunks[f"warm-seed{s}"]["runs"]
            if r["n_workers"] == 1]


def warm_targets(config: Config, chunks: dict) -> tuple[float, ...]:
    return sweep.targets_at(_warm_sync_runs(config, chunks), config.warm_target_updates, eval_every(config, 1),
                            config.warm_budget)


def warm_separation(config: Config, chunks: dict) -> dict:
    """The warm start's loss and the targets with their run-to-run SEs (the warm targets must lie 3 SEs apart)."""
    runs = _warm_sync_runs(config, chunks)
    start = [r["losses"][0] for r in runs]
    seeds = config.target_seeds
    ses = sweep.target_se(runs, config.warm_target_updates, eval_every(config, 1), config.warm_budget)
    start_se = float(np.std(start[::len(start) // seeds], ddof=1) / np.sqrt(seeds)) if seeds > 1 else None
    return {"start": float(np.mean(start)), "start_se": start_se,                  # None: one seed, no spread
            "target_se": [v if np.isfinite(v) else None for v in ses]}


def tables(config: Config, chunks: dict) -> tuple[dict, dict]:
    """(summary, arrays) from every chunk of plan(config): pure (numpy), no training."""
    tg = targets(config, chunks)
    trace_at, trace_tg = warm_trace(config, chunks)
    arrays = {}
    for which in SETS:
        if seeds_of(config, which):
            arrays |= _set_arrays(config, chunks, tg, trace_tg, which)
    first = config.decision_seeds[:config.target_seeds]
    summary = {"targets": list(tg), "target_updates": list(config.target_updates),
               "workers": list(config.workers), "mu_grid": list(config.mu_grid), "lr_grid": list(config.lr_grid),
               "seeds": {which: list(seeds_of(config, which)) for which in SETS}, "target_seeds": list(first),
               "eval_every": {m: eval_every(config, m) for m in config.workers},
               "stop_factor": config.stop_factor, "sync_budget": config.sync_budget,
               "warm": {"targets": list(warm_targets(config, chunks)), "workers": list(config.warm_workers),
                        "mu_grid": list(config.warm_mu_grid), "lr_grid": list(config.warm_lr_grid),
                        "warm_updates": config.warm_updates, "budget": config.warm_budget,
                        "warmup": chunks[f"warm-seed{first[0]}"]["warmup"],
                        "eval_se": float(np.mean([chunks[f"warm-seed{s}"]["eval_se"] for s in first])),
                        "trace_updates": trace_at, "trace_targets": list(trace_tg)}
               | warm_separation(config, chunks),
               "probes": {which: chunks[f"probe-{which}"]["probes"] for which in SETS if seeds_of(config, which)},
               "diverged": _diverged(config, chunks), "dataset": config.dataset,
               "regime": regime_of(config, chunks), "loop": loop_summary(config, chunks),
               "scale": {"n_train": config.n_train, "n_eval": config.n_eval, "pool": config.pool,
                         "batch_size": config.batch_size, "width": config.width}}
    return summary, arrays


def regime_of(config: Config, chunks: dict) -> dict | None:
    """The regime of the committed evidence (means over the regime seeds' chunks) and what recurrence (19) predicts
    from it at the largest M; None where no regime chunk exists."""
    from theory import stability
    rows = [chunks[f"regime-seed{s}"] for s in config.regime_seeds if f"regime-seed{s}" in chunks]
    if not rows:
        return None
    sharp = [float(np.mean(v)) for v in zip(*(r["sharpness"] for r in rows))]
    eta = rows[0]["lr"] / (1 - rows[0]["mu"])
    return {"mu": rows[0]["mu"], "lr": rows[0]["lr"], "eta_star": eta, "at": rows[0]["at"], "sharpness": sharp,
            "b_simple": [float(np.mean(v)) for v in zip(*(r["b_simple"] for r in rows))],
            "eta_star_sharpness": eta * sharp[-1],
            "predicted": stability.predicted_ratios(max(config.workers), config.mu_grid, eta, sharp[-1])}


def _diverged(config: Config, chunks: dict) -> dict:
    out = {}
    for name, chunk in chunks.items():
        kind, m, _ = parse(name)
        if kind == "grid":
            out[m] = out.get(m, 0) + sum(r["diverged"] for r in chunk["runs"])
    return out


def numbers(config: Config, chunks: dict, payload: dict) -> list[float]:
    """What a recomputed chunk is compared by on another kind of machine: its runs' times to target, or the probes'
    momentum estimates."""
    if "probes" in payload:
        return [p["mu"] for p in payload["probes"]]
    if "loops" in payload:
        tg = targets(config, chunks)
        return [sweep.crossing(r["eval_steps"], r["losses"], t) for part in payload["loops"] for r in part["runs"]
                for t in tg]
    if "sharpness" in payload:
        return list(payload["sharpness"])
    if "warmup" in payload:  # the warm targets need the warm chunks of the target seeds: compare at the main ones
        return [min(r["losses"][-1] or float("inf"), 1e9) for r in payload["runs"]]
    tg = targets(config, chunks)
    return [sweep.crossing(r["eval_steps"], r["losses"], t) for r in payload["runs"] for t in tg]
