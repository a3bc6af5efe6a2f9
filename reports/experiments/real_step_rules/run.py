"""The chunks: the queue study's tuning ("queue": the synchronous tuning at M = 1 and the per-M oracle, sim.tuning,
deterministic), then one chunk per (M, strategy): n_seeds single runs on the real Dask server (a local cluster of M
worker processes), each to the target, the cap or divergence. The assembly is pure."""
from __future__ import annotations

import math

import numpy as np

from reports.experiments.real_step_rules.config import Config
from reports.harness.checkpoint import run_chunks
from reports.harness.store import Result
from sim.queue import simulate_batch, warmup_mask
from sim.seeds import int_seed
from sim.tuning import Sweep, design_seeds, summary

QUEUE = "queue"


def plan(config: Config) -> list[str]:
    return [QUEUE] + [f"M{m}-{s}" for m in config.workers for s in config.strategies]


def first(config: Config) -> list[str]:
    return [QUEUE]


def parse(name: str) -> tuple[int, str]:
    head, strategy = name.split("-", 1)
    return int(head[1:]), strategy


def queue_tuning(config: Config) -> dict:
    """The queue study's synchronous tuning and per-M oracles (its seed tree: the same numbers as that study)."""
    sweep = Sweep.of(config)
    roles, noise_seeds = design_seeds(config.seed)
    out = {"synchronous": sweep.synchronous(config.updates, config.n_seeds, config.noise_std, roles["sync"],
                                            noise_seeds[0]), "oracle": {}}
    for k, (m, seed) in enumerate(zip(config.workers, roles["cases"].spawn(len(config.workers)))):
        schedule = simulate_batch(m, config.updates, config.n_seeds, "exponential", seed)
        out["oracle"][m] = sweep.oracle(schedule, config.noise_std, noise_seeds[1 + 3 * k])[0]
    return out


def queue_oracle(queue: dict, m: int) -> dict:
    """The queue chunk's oracle at M (a committed chunk's keys are JSON's strings, its format kept: typed here)."""
    return {int(k): v for k, v in queue["oracle"].items()}[m]


def real_config(config: Config, queue: dict, m: int, strategy: str, k: int):
    """The server's settings for one single run of a strategy (no per-M grid, except the oracle)."""
    from cnn_experiments import param_server as ps
    sync, oracle = queue["synchronous"], queue_oracle(queue, m)
    cap = (config.oracle_cap if strategy == "oracle" else config.cap) * oracle["median"]
    base = dict(n_workers=m, n_updates=int(min(config.updates, math.ceil(cap))), batch_size=ps.MAX_BATCH,
                examples=config.examples, noise_std=config.noise_std, work_mean=config.seconds_per_update * m,
                seed=int_seed(config.seed, f"server-M{m}-run{k}"), condition_number=config.condition_number)
    if strategy == "oracle":
        return ps.RealConfig(**base, mu_explicit=oracle["mu_explicit"], lr=oracle["lr"])
    if strategy == "no_compensation":
        return ps.RealConfig(**base, mu_explicit=sync["mu_explicit"], lr=sync["lr"])
    if strategy.endswith("_alone"):
        return ps.RealConfig(**base, mu_explicit=0.0, lr=sync["lr_mu0"], per_update=strategy[:-len("_alone")])
    momentum, rule = strategy.split("+")
    return ps.RealConfig(**base, mu_explicit=sync["mu_explicit"], lr=sync["lr"],
                         compensate_every=config.compensate_every, momentum_rule=momentum, step_rule="keep",
                         per_update=rule)


def one_run(client, config: Config, real, w_star: np.ndarray) -> dict:
    """A single server run to the target (checked every `every` updates, as the queue study), the cap or divergence."""
    from cnn_experiments import param_server as ps
    scale, state = float(np.linalg.norm(w_star)), {}

    def stop(version: int, w: np.ndarray) -> bool:
        if version % config.every:
            return False
        distance = float(np.linalg.norm(w - w_star)) / scale
        state["diverged"] = not math.isfinite(distance) or distance > config.diverged
        state["reached"] = distance <= config.target
        return state["diverged"] or state["reached"]

    run = ps.run(client, real, stop=stop)
    steady = np.asarray(run.staleness)[~warmup_mask(np.asarray(run.slot), real.n_workers)]
    reached = state.get("reached", False)
    return {"updates": len(run.staleness) if reached else None, "seconds": run.time[-1] if reached else None,
            "diverged": bool(state.get("diverged", False)), "writes": len(run.staleness),
            "wall_seconds": run.wall_seconds, "staleness_mean": float(steady.mean()) if steady.size else None,
            "staleness_var": float(steady.var()) if steady.size else None, "lost": run.lost_updates}


def compute(config: Config, name: str, chunks: dict) -> dict:
    if name == QUEUE:
        return queue_tuning(config)
    from cnn_experiments import cluster
    m, strategy = parse(name)
    queue, w_star = chunks[QUEUE], Sweep.of(config).w_star
    client, local = cluster.local_client(m)
    try:
        runs = [one_run(client, config, real_config(config, queue, m, strategy, k), w_star)
                for k in range(config.n_seeds)]
    finally:
        client.close()
        local.close()
    return {"n_workers": m, "strategy": strategy, "runs": runs}


def updates_of(payload: dict) -> list[float]:
    """The runs' updates to target; a censored or diverged run is +inf."""
    return [math.inf if r["updates"] is None else float(r["updates"]) for r in payload["runs"]]


def agree(config: Config, name: str, committed: dict, again: dict) -> tuple[bool, str] | None:
    """Whether a recomputed chunk confirms the committed one; None for the queue's tuning, which is deterministic and
    left to the default rules (bit for bit on this kind of machine, its oracles' medians elsewhere). A
    server chunk is timed (real processes), never bit-identical: its runs' updates to target must be consistent
    with the committed runs' (two-sided Mann-Whitney test, p >= 0.001; it flags shifts of about 2x at 10 + 10 runs)."""
    if name == QUEUE:  # deterministic: the default rules (bits on this kind of machine, else `numbers`)
        return None
    from scipy.stats import mannwhitneyu
    a, b = updates_of(committed), updates_of(again)
    big = 1e12  # censored runs sort last, tied
    p = 1.0 if a == b else float(mannwhitneyu([min(v, big) for v in a], [min(v, big) for v in b]).pvalue)
    return p >= 0.001, (f"a timed chunk (real processes: never bit-identical); its runs' updates to target, median "
                        f"{np.median(a):g} committed vs {np.median(b):g} now, agree by a Mann-Whitney test "
                        f"(p = {p:.3g}; needs >= 0.001)")


def numbers(config: Config, chunks: dict, payload: dict) -> list[float]:
    return updates_of(payload) if "runs" in payload else [queue_oracle(payload, m)["median"] for m in config.workers]


def assemble(config: Config, chunks: dict, provenance: dict) -> Result:
    queue, cases = chunks[QUEUE], {}
    for m in config.workers:
        strategies = {}
        for s in config.strategies:
            p = chunks[f"M{m}-{s}"]
            seconds = [math.inf if r["seconds"] is None else r["seconds"] for r in p["runs"]]
            steady = [r["staleness_mean"] for r in p["runs"] if r["staleness_mean"] is not None]
            variances = [r["staleness_var"] for r in p["runs"] if r["staleness_var"] is not None]
            strategies[s] = summary(updates_of(p)) | {
                "seconds_median": float(np.median(seconds)), "diverged": sum(r["diverged"] for r in p["runs"]),
                "censored": sum(r["updates"] is None and not r["diverged"] for r in p["runs"]),
                "staleness_mean": float(np.mean(steady)) if steady else None,
                "staleness_var": float(np.mean(variances)) if variances else None,
                "cap": real_config(config, queue, m, s, 0).n_updates}
        cases[f"M={m}"] = {"n_workers": m, "queue_oracle": queue_oracle(queue, m), "strategies": strategies}
    summary_ = {"synchronous": queue["synchronous"], "cases": cases, "strategies": list(config.strategies),
                "seconds_per_update": config.seconds_per_update}
    return Result(summary=summary_, provenance=provenance)


def run(config: Config, checkpoint=None, progress: bool = False) -> Result:
    """Every chunk of the plan, stored by `checkpoint` as it finishes (a killed or time-limited run resumes), then
    the Result."""
    return run_chunks(config, plan, compute, assemble, checkpoint, progress)