"""The real-asynchrony experiment as the harness runs it: one chunk per phase (cnn_experiments.real_async_phases),
each on a fresh local Dask cluster, the queue model's chunk in this process, and the Result the claims read."""
from __future__ import annotations

from cnn_experiments import real_async_phases as phases
from reports.experiments.real_async.config import Config
from reports.harness.store import Result


def plan(config: Config) -> list[str]:
    """One chunk per phase: each injected law's M, the natural work times, the momentum runs per M, the efficiency
    runs per M."""
    return ([f"geometric-M{m}" for m in config.geometric_workers] + ["natural"]
            + [f"momentum-M{m}" for m in config.momentum_workers]
            + [f"efficiency-M{m}" for m in config.efficiency_workers] + [phases.MODEL])


def first(config: Config) -> list[str]:
    return []


def compute(config: Config, name: str, chunks: dict) -> dict:
    """One phase on a fresh local Dask cluster of as many worker processes as it needs (timed: real processes);
    the queue model's chunk in this process."""
    if name == phases.MODEL:
        return phases.model_chunk(config)
    from cnn_experiments import cluster as cluster_mod
    from cnn_experiments import param_server as ps
    phase, _, m = name.partition("-M")
    n_procs = int(m) if m else config.natural_workers
    client, cluster = cluster_mod.local_client(max(n_procs, 1))
    try:
        return phases.PHASES[phase](ps, client, config, *((int(m),) if m else ()))
    finally:
        client.close()
        cluster.close()


def run(config: Config, checkpoint=None, progress: bool = True) -> Result:
    """Phase by phase (each stored by `checkpoint` as it finishes: a killed run resumes with the phases it has, their
    timings those of the run that measured them), then the Result."""
    from reports.harness.checkpoint import run_chunks
    return run_chunks(config, plan, compute, assemble, checkpoint, progress)


def assemble(config: Config, out: dict, provenance: dict | None = None) -> Result:
    """The Result from every phase (numpy, seeded)."""
    return Result(summary=phases.summary(config, out), provenance=provenance or {"phases": len(out)})

