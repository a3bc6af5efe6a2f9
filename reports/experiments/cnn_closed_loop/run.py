"""The closed loop's CNN sweep as the harness runs it: the chunks of cnn_experiments.closed_loop_chunks, each trained by
its Backend (one per process and config), stored as they finish, and assembled into the Result (pure)."""
from __future__ import annotations

from cnn_experiments import closed_loop_chunks as chunked
from reports.experiments.cnn_closed_loop.config import Config
from reports.harness.checkpoint import backend, run_chunks
from reports.harness.store import Result


def compute(config: Config, name: str, chunks: dict) -> dict:
    """One chunk, trained now (one backend per process and config: the data are loaded once)."""
    trainer, head = backend(config, chunked.Backend), name.split("-seed")
    seed = int(head[1])
    if head[0] == "loop":
        tg = chunked.targets(config, chunks)
        mu_sync, step_sync = chunked.sync_setting(config, chunks, tg)
        specs = chunked.loop_specs(config, seed, mu_sync, chunked.lr_of(step_sync, mu_sync))
        return trainer.train(specs, config.budget, tg)
    m = int(head[0][1:])
    budget, stop = (config.sync_budget, ()) if m == 1 else (config.budget, chunked.targets(config, chunks))
    return trainer.train(chunked.grid_specs(config, m, seed), budget, stop)


def run(config: Config, checkpoint=None, progress: bool = True) -> Result:
    """Chunk by chunk (stored by `checkpoint` as they finish: a killed run resumes), then the Result."""
    return run_chunks(config, chunked.plan, compute, assemble, checkpoint, progress)


def assemble(config: Config, chunks: dict, provenance: dict | None = None) -> Result:
    summary, arrays = chunked.tables(config, chunks)
    return Result(summary=summary, provenance=provenance or {}, arrays=arrays)
