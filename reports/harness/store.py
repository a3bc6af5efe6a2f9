"""The results store: one folder per (kind, experiment, config hash), written atomically, verified on read.

Layout: `<root>/<kind>/<experiment>/<hash>/` with config.json, arrays.npz (no pickle), log.jsonl,
provenance.json and summary.json. summary.json is written last and carries the SHA-256 of every other file and
of its own content, so a truncated, corrupted or hand-edited result is detected and recomputed, never trusted.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reports.harness.config import as_dict, canonical_json, config_hash

SCHEMA_VERSION = 1
FILES = ("config.json", "arrays.npz", "log.jsonl", "provenance.json")


LEFTOVER_PREFIXES = (".tmp-", ".old-")  # this store's own temporary folders: .tmp-<pid>-..., .old-<pid>-...
LEGACY_LEFTOVER_AGE_S = 3600             # a leftover without an owner pid is removed once it is this old


class StoreError(RuntimeError):
    """The results folder cannot be used (not writable, not a folder)."""


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where the system cannot."""
    try:
        import ctypes
        import ctypes.util
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    errno = ctypes.get_errno()
    if errno in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: this file system or kernel cannot exchange
        return False
    raise OSError(errno, os.strerror(errno), str(b))


def write_json(path: Path, doc: Any) -> None:
    """Write a JSON file atomically (temporary file named as this store's leftovers, then one rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".tmp-{os.getpid()}-")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(doc, handle, indent=1)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _owner_alive(name: str) -> bool | None:
    """Whether the process that made a leftover folder still runs (None: the name carries no pid)."""
    parts = name.split("-")
    if len(parts) < 3 or not parts[1].isdigit():
        return None
    try:
        os.kill(int(parts[1]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_leftovers(folder: Path) -> list[Path]:
    """Remove this store's temporary folders in `folder` whose owner process is gone; returns what was removed."""
    import time
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(LEFTOVER_PREFIXES) or entry.is_symlink():
            continue
        alive = _owner_alive(entry.name)
        try:
            stale = alive is False or (alive is None and time.time() - entry.stat().st_mtime > LEGACY_LEFTOVER_AGE_S)
        except OSError:
            continue
        if stale:
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


@dataclass
class Result:
    """What one experiment produced: JSON-able summary, named arrays, per-step log, provenance."""
    summary: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _json_safe(obj: Any) -> Any:
    """Replace non-finite floats with None (JSON has no NaN) and numpy scalars with Python ones."""
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _json_safe(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


class Store:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def folder(self, kind: str, experiment: str, config: Any, version: int | str = 1) -> Path:
        """`version` is the experiment's own output version: bump it when its code changes what it stores."""
        return self.root / kind / experiment / config_hash(kind, experiment, config, f"{SCHEMA_VERSION}.{version}")

    def chunks_folder(self, kind: str, experiment: str, config: Any, version: int | str = 1) -> Path:
        """Where a resumable experiment keeps its finished chunks until its result is stored."""
        final = self.folder(kind, experiment, config, version)
        return final.parent / f".chunks-{final.name}"

    def check_writable(self) -> None:
        """Raise StoreError unless results can be written under the root; creates nothing (a run that fails on bad
        input leaves no folder behind): the nearest existing ancestor must be a writable folder."""
        probe = self.root.absolute()
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        if not probe.is_dir():
            raise StoreError(f"results folder {self.root} is not writable ({probe} is not a folder); pass a "
                             "writable folder with --results DIR")
        try:  # a real probe (permissions alone do not tell, e.g. for root or on /proc), removed at once
            os.rmdir(tempfile.mkdtemp(dir=probe, prefix=f".tmp-{os.getpid()}-probe-"))
        except OSError as exc:
            raise StoreError(f"results folder {self.root} is not writable ({probe}: {exc.strerror}); pass a "
                             "writable folder with --results DIR") from None

    def clean(self) -> list[Path]:
        """Remove leftovers of killed saves (temporary folders whose process is gone) everywhere in the store."""
        removed = []
        if not self.root.is_dir():
            return removed
        removed += clean_leftovers(self.root)
        for kind in self.root.iterdir():
            if kind.is_dir() and not kind.name.startswith("."):
                for experiment in kind.iterdir():
                    if experiment.is_dir():
                        removed += clean_leftovers(experiment)
                        for chunks in experiment.glob(".chunks-*"):
                            removed += clean_leftovers(chunks)
        return removed

    def load(self, kind: str, experiment: str, config: Any, version: int | str = 1) -> Result | None:
        """The stored result for this config, or None when absent or failing verification."""
        folder = self.folder(kind, experiment, config, version)
        return self.load_folder(folder, expected_config=as_dict(config))

    def verify(self, folder: Path, expected_config: dict | None = None) -> str | None:
        """None when the folder holds an intact result, else the reason it cannot be trusted."""
        summary_path = folder / "summary.json"
        if not summary_path.is_file():
            return "no summary.json (missing or interrupted run)"
        try:
            record = json.loads(summary_path.read_text())
            digests = record["sha256"]
            body = {k: v for k, v in record.items() if k != "self_sha256"}
            if hashlib.sha256(canonical_json(body).encode()).hexdigest() != record["self_sha256"]:
                return "summary.json was modified after it was written"
            for name in FILES:
                if _sha256(folder / name) != digests[name]:
                    return f"{name} does not match its recorded checksum"
            if expected_config is not None:
                stored = json.loads((folder / "config.json").read_text())["config"]
                if stored != json.loads(canonical_json(expected_config)):
                    return "config.json does not match the requested config"
        except (OSError, ValueError, KeyError, TypeError) as exc:
            return f"unreadable result ({type(exc).__name__}: {exc})"
        return None

    def load_folder(self, folder: Path, expected_config: dict | None = None) -> Result | None:
        if self.verify(folder, expected_config) is not None:
            return None
        record = json.loads((folder / "summary.json").read_text())
        with np.load(folder / "arrays.npz", allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        log = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines() if line]
        provenance = json.loads((folder / "provenance.json").read_text())
        return Result(summary=record["summary"], arrays=arrays, log=log, provenance=provenance, path=folder)

    def save(self, kind: str, experiment: str, config: Any, result: Result, version: int | str = 1) -> Path:
        """Write the result atomically: into a temporary folder, then one rename."""
        final = self.folder(kind, experiment, config, version)
        for name, value in result.arrays.items():
            if np.asarray(value).dtype.hasobject:
                raise ValueError(f"array {name!r} has dtype object; results are stored without pickle")
        final.parent.mkdir(parents=True, exist_ok=True)
        clean_leftovers(final.parent)
        tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".tmp-{os.getpid()}-"))
        try:
            (tmp / "config.json").write_text(json.dumps(
                {"schema": SCHEMA_VERSION, "version": version, "kind": kind, "experiment": experiment,
                 "config": as_dict(config)},
                indent=1, sort_keys=True))
            np.savez(tmp / "arrays.npz", **{k: np.asarray(v) for k, v in result.arrays.items()})
            (tmp / "log.jsonl").write_text("".join(
                json.dumps(_json_safe(row), allow_nan=False) + "\n" for row in result.log))
            (tmp / "provenance.json").write_text(json.dumps(_json_safe(result.provenance), indent=1, sort_keys=True))
            body = {"schema": SCHEMA_VERSION, "summary": _json_safe(result.summary),
                    "sha256": {name: _sha256(tmp / name) for name in FILES}}
            body["self_sha256"] = hashlib.sha256(canonical_json(body).encode()).hexdigest()
            (tmp / "summary.json").write_text(json.dumps(body, indent=1, sort_keys=True))
            if final.exists() and _exchange(tmp, final):
                # the new result is installed in one step; `tmp` now holds the old one (a kill here leaves a
                # leftover that the next save cleans, never a missing result)
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                if final.exists():  # no atomic exchange on this system: move the old one aside first
                    trash = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".old-{os.getpid()}-"))
                    os.replace(final, trash / "x")
                    shutil.rmtree(trash, ignore_errors=True)
                try:
                    os.replace(tmp, final)
                except OSError:
                    if self.verify(final) is not None:  # not another process's identical, intact result
                        raise
                    shutil.rmtree(tmp, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        result.path = final
        return final
