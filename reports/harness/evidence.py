"""Committed evidence: the chunks of a long experiment, stored in the repository as they finish, each with its
provenance and a checksum, so that the report reads them, anyone can recompute a chunk and compare it bit for bit,
and an edited chunk is refused, never trusted.

Layout: `reports/evidence/<kind>/<experiment>/<design>/<chunk>.json.gz`, where <design> hashes the experiment's
config without the fields that only choose which chunks exist (the seed lists): adding seeds keeps every chunk.
A file is gzip (no timestamp) of JSON `{"name", "payload", "provenance", "sha256"}`; sha256 is taken over the
canonical JSON of the other three. A resumable experiment's run(config, checkpoint) uses `Chunks` as its
checkpoint (get / put / check_deadline); `read_only=True` serves the report, which never computes.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from reports.harness.checkpoint import Incomplete, _plain
from reports.harness.config import as_dict, canonical_json
from reports.harness.provenance import git_state, versions
from sim.files import read_regular

SUFFIX = ".json.gz"
MAX_CHUNK_BYTES = 64 * 2 ** 20        # a committed chunk is a few hundred kB; anything larger is not ours


class EvidenceError(RuntimeError):
    """A committed chunk is damaged or edited (checksum), or unreadable: it is reported, never trusted."""


def design_key(kind: str, experiment: str, config, version, exclude: tuple) -> str:
    """The folder name of an experiment's chunks: its config without `exclude` (fields that only say which chunks
    exist), its kind, name and version."""
    fields = {k: v for k, v in as_dict(config).items() if k not in exclude}
    doc = {"kind": kind, "experiment": experiment, "version": str(version), "config": fields}
    return hashlib.sha256(canonical_json(doc).encode()).hexdigest()[:16]


def folder(root: Path, kind: str, experiment: str, config, version, exclude: tuple) -> Path:
    return Path(root) / kind / experiment / design_key(kind, experiment, config, version, exclude)


def machine() -> dict:
    """What a chunk's bits depend on besides the code: the CPU kind, the libraries and the thread count."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from reports.harness.kernels import in_force
    out = {"cpu": model, "cores": os.cpu_count(), "host": platform.node(), "system": platform.system(),
           "onednn_max_isa": os.environ.get("ONEDNN_MAX_CPU_ISA", ""), "kernels": in_force()}
    try:
        import torch
        out |= {"torch": torch.__version__, "threads": torch.get_num_threads(),
                "cpu_capability": torch.backends.cpu.get_cpu_capability(),
                "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    except ImportError:
        pass
    return out


def same_kind(a: dict, b: dict) -> bool:
    """Whether two chunks' machines should give the same bits: the same CPU model, torch, capability and threads, and
    the same pinned kernels where both record them (chunks from before the full pin do not)."""
    keys = ("cpu", "torch", "cpu_capability", "threads", "cuda")
    return all(a.get(k) == b.get(k) for k in keys) and ("kernels" not in a or "kernels" not in b
                                                         or a["kernels"] == b["kernels"])


def _digest(record: dict) -> str:
    body = {k: record[k] for k in ("name", "payload", "provenance")}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


class Chunks:
    """The committed chunks of one experiment design: the checkpoint protocol of reports.harness.checkpoint."""

    def __init__(self, path: Path, read_only: bool = False, deadline: float | None = None):
        self.path, self.read_only, self.deadline = Path(path), read_only, deadline

    def file(self, name: str) -> Path:
        if not name or "/" in name or name.startswith(".") or len(name) > 100:
            raise ValueError(f"bad chunk name {name!r}")
        return self.path / f"{name}{SUFFIX}"

    def names(self) -> list[str]:
        try:
            return sorted(p.name[:-len(SUFFIX)] for p in self.path.iterdir() if p.name.endswith(SUFFIX)
                          and not p.is_symlink())
        except OSError:
            return []

    def record(self, name: str) -> dict | None:
        """The whole stored record (payload and provenance), None when absent; EvidenceError when damaged."""
        path = self.file(name)
        if not os.path.lexists(path):
            return None
        try:
            if path.is_symlink():
                raise EvidenceError(f"committed chunk {path} is a link, not a chunk file")
            packed = read_regular(path, MAX_CHUNK_BYTES)   # a FIFO or device is refused at once
            with gzip.GzipFile(fileobj=io.BytesIO(packed)) as handle:
                raw = handle.read(MAX_CHUNK_BYTES + 1)
            if len(raw) > MAX_CHUNK_BYTES:
                raise EvidenceError(f"committed chunk {path} decompresses to more than {MAX_CHUNK_BYTES >> 20} MB")
            record = json.loads(raw)
            ok = isinstance(record, dict) and record.get("name") == name and _digest(record) == record.get("sha256")
        except EvidenceError:
            raise
        except (OSError, EOFError, ValueError, KeyError, TypeError, RecursionError) as exc:
            raise EvidenceError(f"committed chunk {path} is unreadable ({type(exc).__name__}: {str(exc)[:120]}); "
                                f"restore it with `git checkout -- {path}` or recompute it") from None
        if not ok:
            raise EvidenceError(f"committed chunk {path} does not match its checksum (edited or damaged): refused; "
                                f"restore it with `git checkout -- {path}` or recompute it")
        if (why := shape_problem(record)) is not None:
            raise EvidenceError(f"committed chunk {path} has the wrong shape ({why}): refused; restore it with "
                                f"`git checkout -- {path}` or recompute it")
        return record

    def get(self, name: str) -> dict | None:
        record = self.record(name)
        return None if record is None else record["payload"]

    def put(self, name: str, payload: dict, info: dict | None = None) -> None:
        if self.read_only:
            raise EvidenceError("committed evidence is read here; compute chunks with `make evidence`")
        sha, dirty = git_state()
        provenance = {"machine": machine(), "versions": versions(), "git_sha": sha, "dirty": dirty,
                      "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())} | (info or {})
        record = {"name": name, "payload": _plain(payload), "provenance": _plain(provenance)}
        record["sha256"] = _digest(record)
        self.path.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=f".tmp-{os.getpid()}-")
        try:
            with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
                handle.write(json.dumps(record, sort_keys=True).encode())
            os.chmod(tmp, 0o644)  # a file for the repository, readable by all (mkstemp makes it 0600)
            os.replace(tmp, self.file(name))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def check_deadline(self, done: int, total: int) -> None:
        if self.read_only:
            raise Incomplete(done, total)  # the report never computes: a missing chunk stops the assembly
        if self.deadline is not None and time.time() >= self.deadline and done < total:
            raise Incomplete(done, total)



PROVENANCE_TYPES = {"machine": dict, "versions": dict, "git_sha": str, "dirty": bool, "finished": str,
                    "wall_seconds": (int, float), "chunk": str, "busy_cores": (int, float)}


def shape_problem(record: dict) -> str | None:
    """What is wrong with a checksummed record's shape (a resealed edit), or None: the payload a JSON object, the
    provenance an object whose known fields have their types."""
    if not isinstance(record.get("payload"), dict):
        return "its payload is not a JSON object"
    prov = record.get("provenance")
    if not isinstance(prov, dict):
        return "its provenance is not a JSON object"
    for key, kind in PROVENANCE_TYPES.items():
        if key in prov and (not isinstance(prov[key], kind) or (kind != bool and isinstance(prov[key], bool))):
            return f"provenance field {key!r} is not a {getattr(kind, '__name__', 'number')}"
    return None


def provenance_of(records: dict) -> dict:
    """One provenance for a result assembled from committed chunks: where and when they were computed."""
    provs = [r["provenance"] for r in records.values()]
    shas = sorted({p.get("git_sha", "unknown") for p in provs})
    machines = sorted({f"{p.get('machine', {}).get('cpu')} (torch {p.get('machine', {}).get('torch')}, "
                       f"{p.get('machine', {}).get('threads')} thread)" for p in provs})
    finished = sorted(p.get("finished", "") for p in provs)
    return {"source": "committed evidence", "git_sha": shas[-1] if len(shas) == 1 else ", ".join(shas),
            "dirty": any(p.get("dirty") for p in provs),
            "dirty_chunks": {n: r["sha256"] for n, r in sorted(records.items()) if r["provenance"].get("dirty")},
            "device": "cpu: " + "; ".join(machines)
            if not any(p.get("machine", {}).get("cuda") for p in provs) else "cuda: " + "; ".join(machines),
            "wall_seconds": round(sum(p.get("wall_seconds", 0.0) for p in provs), 1),
            "first": finished[0] if finished else None, "finished": finished[-1] if finished else None,
            "first_of_kind": first_of_kind(records), "chunks": len(provs)}


def first_of_kind(records: dict) -> dict:
    """{kind: the earliest finish of its chunks}, the kind being a chunk name's head ('loop' of 'loop-seed3')."""
    out: dict = {}
    for name, record in records.items():
        when, kind = record["provenance"].get("finished", ""), name.split("-")[0]
        if when and (kind not in out or when < out[kind]):
            out[kind] = when
    return out


_ASSEMBLED: dict = {}


def assemble(chunked, config, path: Path) -> tuple[object | None, str]:
    """(Result, 'committed') from every committed chunk of the config's plan, or (None, why not): 'k of n chunks
    committed', or the damaged chunk. Pure reading; cached per process while no chunk file changes."""
    store, names = Chunks(path, read_only=True), chunked.plan(config)
    present = set(store.names())
    stored = [n for n in names if n in present]
    if len(stored) < len(names):
        return None, f"{len(stored)} of {len(names)} chunks committed"
    stamp = tuple((n, store.file(n).stat().st_mtime_ns, store.file(n).stat().st_size) for n in names)
    key = (str(path), repr(config))
    if key in _ASSEMBLED and _ASSEMBLED[key][0] == stamp:
        return _ASSEMBLED[key][1], "committed"
    try:
        records = {n: store.record(n) for n in names}
    except EvidenceError as exc:
        return None, str(exc)
    try:
        result = chunked.assemble(config, {n: r["payload"] for n, r in records.items()}, provenance_of(records))
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, ZeroDivisionError) as exc:
        return None, (f"the committed chunks in {path} cannot be assembled ({type(exc).__name__}: {str(exc)[:120]}): a "
                      "chunk of the wrong shape; `python -m reports.committed verify` names the damaged ones, "
                      "`git checkout -- reports/evidence` restores them")
    result.path = path
    _ASSEMBLED[key] = (stamp, result)
    return result, "committed"
