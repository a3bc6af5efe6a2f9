"""The CNN evidence as the harness runs it: the chunks of cnn_experiments.momentum_chunks (its `plan`), each trained by
its Backend (one per process and config: the data are loaded once), stored as they finish, and assembled into the
Result the claims read (pure: the report calls `assemble` on committed chunks and never trains)."""
from __future__ import annotations

from cnn_experiments import momentum_chunks as chunked
from reports.experiments.cnn_momentum.config import Config
from reports.harness.checkpoint import backend, run_chunks
from reports.harness.store import Result


def compute(config: Config, name: str, chunks: dict) -> dict:
    """One chunk, trained now."""
    return backend(config, chunked.Backend).compute(name, chunks)


def assemble(config: Config, chunks: dict, provenance: dict) -> Result:
    summary, arrays = chunked.tables(config, chunks)
    return Result(summary=summary, arrays=arrays, provenance=provenance)


def run(config: Config, checkpoint=None, progress: bool = True) -> Result:
    """Every chunk of the plan, stored by `checkpoint` as it finishes (a killed or time-limited run resumes), then
    the Result."""
    return run_chunks(config, chunked.plan, compute, assemble, checkpoint, progress)
