"""The batch ladder as the harness runs it: the chunks of cnn_experiments.ladder_chunks, each trained by its Backend (one
per process and config), stored as they finish, and assembled into the Result (pure)."""
from __future__ import annotations

from cnn_experiments import ladder_chunks as chunked
from reports.experiments.cnn_batch_ladder.config import Config
from reports.harness.checkpoint import backend, run_chunks
from reports.harness.store import Result


def compute(config: Config, name: str, chunks: dict) -> dict:
    """One chunk, trained now (one backend per process and config)."""
    return backend(config, chunked.Backend).compute(name, chunks)


def assemble(config: Config, chunks: dict, provenance: dict) -> Result:
    summary, arrays = chunked.tables(config, chunks)
    return Result(summary=summary, arrays=arrays, provenance=provenance)


def run(config: Config, checkpoint=None, progress: bool = True) -> Result:
    return run_chunks(config, chunked.plan, compute, assemble, checkpoint, progress)
