"""Chunks of a long experiment, stored as they finish, so that a killed or time-limited run keeps what finished.

A resumable experiment's `run(config, checkpoint)` splits its work into named chunks and asks the checkpoint for
each: `get(name)` returns a stored chunk (JSON, verified by its checksum) or None, `put(name, payload)` stores
one atomically. `check_deadline(done, total)` raises `Incomplete` once the deadline has passed, after the
finished chunks are safe (and after at least one chunk of this run: every run makes progress). The runner keeps the chunks beside the final result (`.chunks-<hash>/`) and removes
them once the result is stored. Without a checkpoint (tests, notebooks) `Memory` keeps chunks in memory.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path

from reports.harness.config import canonical_json
from reports.harness.codec import chunk_plain
from reports.harness.store import write_json


def _plain(payload: dict) -> dict:
    """A chunk payload in the committed chunks' format (codec.chunk_plain), as JSON reads it back."""
    return json.loads(json.dumps(chunk_plain(payload), allow_nan=False))


class Incomplete(RuntimeError):
    """The deadline came before every chunk was computed; the finished ones are stored."""

    def __init__(self, done: int, total: int):
        super().__init__(f"{done} of {total} chunks stored before the deadline; rerun to compute the rest")
        self.done, self.total = done, total

    def __reduce__(self):  # crosses process boundaries (a local pool, a Dask worker) intact
        return Incomplete, (self.done, self.total)


class Memory:
    """Chunks in memory, no deadline: the plain, pure run."""

    def __init__(self):
        self.chunks: dict[str, dict] = {}

    def get(self, name: str) -> dict | None:
        return self.chunks.get(name)

    def put(self, name: str, payload: dict, info: dict | None = None) -> None:
        """Store a chunk (`info`: its wall time and such, kept only where chunks carry provenance)."""
        self.chunks[name] = _plain(payload)  # what a stored chunk would give back

    def check_deadline(self, done: int, total: int) -> None:
        return None


class Folder(Memory):
    """Chunks as checksummed JSON files in `folder`, each written atomically; an optional absolute deadline."""

    def __init__(self, folder: Path, deadline: float | None = None):
        super().__init__()
        self.folder, self.deadline = Path(folder), deadline
        self.computed = 0   # chunks this process stored: every run makes progress, whatever its deadline

    def _path(self, name: str) -> Path:
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"bad chunk name {name!r}")
        return self.folder / f"{name}.json"

    def get(self, name: str) -> dict | None:
        try:
            record = json.loads(self._path(name).read_text())
            body = canonical_json(record["payload"])
            if hashlib.sha256(body.encode()).hexdigest() != record["sha256"]:
                return None
            return record["payload"]
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            return None  # absent, truncated or edited: computed again

    def put(self, name: str, payload: dict, info: dict | None = None) -> None:
        payload = _plain(payload)
        self.computed += 1
        write_json(self._path(name), {"payload": payload,
                                      "sha256": hashlib.sha256(canonical_json(payload).encode()).hexdigest()})

    def check_deadline(self, done: int, total: int) -> None:
        write_json(self.folder / "progress.json", {"done": done, "total": total})
        if self.deadline is not None and time.time() >= self.deadline and done < total and self.computed:
            raise Incomplete(done, total)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def progress(folder: Path) -> tuple[int, int] | None:
    """(done, total) chunks of an unfinished run, or None when there is none."""
    try:
        doc = json.loads((Path(folder) / "progress.json").read_text())
        return int(doc["done"]), int(doc["total"])
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None


def run_chunks(config, plan, compute, assemble, checkpoint=None, progress: bool = False):
    """Every chunk of plan(config) (compute(config, name, chunks so far)), stored by `checkpoint` as it finishes, so
    a killed or time-limited run resumes; then assemble(config, chunks, provenance)."""
    checkpoint = checkpoint or Memory()
    names, chunks = plan(config), {}
    for i, name in enumerate(names):
        chunks[name] = checkpoint.get(name)
        if chunks[name] is None:
            checkpoint.check_deadline(i, len(names))
            start = time.time()
            chunks[name] = compute(config, name, chunks)
            wall = time.time() - start
            checkpoint.put(name, chunks[name], {"chunk": name, "wall_seconds": round(wall, 3)})
            if progress:
                print(f"  chunk {i + 1}/{len(names)} {name}: {wall:.0f} s", flush=True)
    return assemble(config, chunks, {"chunks": len(names)})


_BACKENDS: dict = {}


def backend(config, factory):
    """The compute side of a chunked experiment, one per process and config (its data are loaded once): the one
    made for this config last, or factory(config)."""
    key = (factory, repr(config))
    if key not in _BACKENDS:
        _BACKENDS.clear()
        _BACKENDS[key] = factory(config)
    return _BACKENDS[key]
