"""The results store: one folder per (kind, experiment, config hash), written atomically, verified on read.

Layout: `<root>/<kind>/<experiment>/<hash>/` with config.json, arrays.npz (no pickle), log.jsonl,
provenance.json and summary.json. summary.json is written last and carries the SHA-256 of every other file and
of its own content, so a truncated, corrupted or hand-edited result is detected and recomputed, never trusted.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reports.harness.codec import decode, encode
from reports.harness.config import as_dict, canonical_json, config_hash
from sim.files import NotRegular, exists, npz_inflated_size, read_regular

SCHEMA_VERSION = 2   # 2: summary, log and provenance written through reports.harness.codec (int keys, +-inf kept)
FILES = ("config.json", "arrays.npz", "log.jsonl", "provenance.json")


TMP, OLD = ".suite-tmp-", ".suite-old-"   # this store's own temporary names: <prefix><pid>-[<final>-]<random>
LEFTOVER_PREFIXES = (TMP, OLD)
OWN = re.compile(r"^\.suite-(tmp|old)-(\d+)-(?:([0-9a-f]{16})-)?")
MARKER = ".suite-store"                  # a results folder this suite created: the only kind it ever cleans


class StoreError(RuntimeError):
    """The results folder cannot be used (not writable, not a folder)."""


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where the system cannot."""
    if os.environ.get("SUITE_NO_EXCHANGE"):  # as on NFS: the fallback path (tests)
        return False
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
    """Write a JSON file atomically (a temporary file named as this store's own, then one rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{TMP}{os.getpid()}-")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(doc, handle, indent=1)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _owner_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _own_leftovers(folder: Path) -> list[tuple[os.DirEntry, re.Match]]:
    """This store's temporary entries in `folder` whose process is gone (never through a symbolic link)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    out = []
    for entry in entries:
        match = OWN.match(entry.name)
        if match and not entry.is_symlink() and not _owner_alive(int(match.group(2))):
            out.append((entry, match))
    return out


def _remove(entry: os.DirEntry) -> None:
    if entry.is_dir(follow_symlinks=False):
        shutil.rmtree(entry.path, ignore_errors=True)
    else:
        Path(entry.path).unlink(missing_ok=True)


def clean_leftovers(folder: Path, verify=None) -> list[Path]:
    """Remove this store's leftovers in `folder` (temporary names of dead processes); where a kill left a complete
    result beside no final one (the save path without atomic exchange), promote the newest complete copy instead
    of deleting it. `verify(path) -> None` when a folder holds an intact result. Returns what was removed."""
    leftovers = _own_leftovers(folder)
    if verify is not None:
        for kind in ("tmp", "old"):  # the new copy first: it is the newest complete result
            for entry, match in leftovers:
                final = match.group(3)
                if (match.group(1) == kind and final and entry.is_dir(follow_symlinks=False)
                        and not (Path(folder) / final).exists() and verify(Path(entry.path)) is None):
                    os.replace(entry.path, Path(folder) / final)
        leftovers = _own_leftovers(folder)
    for entry, _ in leftovers:
        _remove(entry)
    return [Path(entry.path) for entry, _ in leftovers]


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
        if any(len(part.encode()) > 255 for part in probe.parts) or len(str(probe).encode()) > 3000:
            raise StoreError(f"results folder {str(self.root)[:200]}... has a name too long for the file system "
                             "(a component over 255 bytes, or the path over 3000); pass a shorter --results DIR")
        while not exists(probe) and probe != probe.parent:
            probe = probe.parent
        if not probe.is_dir():
            raise StoreError(f"results folder {str(self.root)[:200]} is not writable ({str(probe)[:200]} is not a "
                             "folder); pass a writable folder with --results DIR")
        try:  # a real probe (permissions alone do not tell, e.g. for root or on /proc), removed at once
            os.rmdir(tempfile.mkdtemp(dir=probe, prefix=f"{TMP}{os.getpid()}-probe-"))
        except OSError as exc:
            raise StoreError(f"results folder {str(self.root)[:200]} is not writable ({exc.strerror}); pass a "
                             "writable folder with --results DIR") from None

    def is_ours(self) -> bool:
        """Whether the root is a results folder this suite made (its marker file): the only kind it cleans."""
        try:
            return stat.S_ISREG(os.lstat(self.root / MARKER).st_mode)
        except OSError:
            return False

    def clean(self) -> list[Path]:
        """Remove leftovers of killed saves (this store's temporary names whose process is gone) in the store's own
        folders — never through a symbolic link, never in a folder the suite did not make — promoting a complete
        result a kill left beside no final one."""
        if not self.root.is_dir() or self.root.is_symlink() or not self.is_ours():
            return []
        removed = clean_leftovers(self.root)
        for kind in _dirs(self.root):
            for experiment in _dirs(kind):
                removed += clean_leftovers(experiment, verify=self.verify)
                for chunks in _dirs(experiment, ".chunks-"):
                    removed += clean_leftovers(chunks)
        return removed

    def load(self, kind: str, experiment: str, config: Any, version: int | str = 1) -> Result | None:
        """The stored result for this config, or None when absent or failing verification."""
        folder = self.folder(kind, experiment, config, version)
        return self.load_folder(folder, expected_config=as_dict(config))

    def verify(self, folder: Path, expected_config: dict | None = None) -> str | None:
        """None when the folder holds an intact result, else the reason it cannot be trusted."""
        return self._read(folder, expected_config)[1]

    def _read(self, folder: Path, expected_config: dict | None) -> tuple[dict | None, str | None]:
        """({file name: bytes}, None) for an intact result, read once (regular files only, sizes bounded before
        reading and before inflating), or (None, the reason it cannot be trusted)."""
        if not exists(folder / "summary.json"):
            return None, "no summary.json (missing or interrupted run)"
        try:
            raw = {name: read_regular(folder / name, MAX_FILE_BYTES) for name in FILES + ("summary.json",)}
            record = json.loads(raw["summary.json"])
            digests = record["sha256"]
            body = {k: v for k, v in record.items() if k != "self_sha256"}
            if hashlib.sha256(canonical_json(body).encode()).hexdigest() != record["self_sha256"]:
                return None, "summary.json was modified after it was written"
            for name in FILES:
                if hashlib.sha256(raw[name]).hexdigest() != digests[name]:
                    return None, f"{name} does not match its recorded checksum"
            if not isinstance(record.get("summary"), dict) or not isinstance(json.loads(raw["provenance.json"]), dict):
                return None, "summary or provenance is not a JSON object"
            if npz_inflated_size(raw["arrays.npz"]) > MAX_FILE_BYTES:
                return None, f"arrays.npz inflates to more than {MAX_FILE_BYTES >> 20} MB"
            if expected_config is not None:
                stored = json.loads(raw["config.json"])["config"]
                if stored != json.loads(canonical_json(expected_config)):
                    return None, "config.json does not match the requested config"
        except NotRegular as exc:
            return None, f"not a regular result file ({exc})"
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError, zipfile.BadZipFile) as exc:
            return None, f"unreadable result ({type(exc).__name__})"
        return raw, None

    def load_folder(self, folder: Path, expected_config: dict | None = None) -> Result | None:
        """The intact result in `folder`, or None (absent, damaged, edited, or holding what this store never
        writes, such as pickled arrays): it is then computed again, never trusted."""
        raw, why = self._read(folder, expected_config)
        if why is not None:
            return None
        try:
            record = json.loads(raw["summary.json"])
            with np.load(io.BytesIO(raw["arrays.npz"]), allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
            log = [decode(json.loads(line)) for line in raw["log.jsonl"].decode().splitlines() if line]
            provenance = decode(json.loads(raw["provenance.json"]))
        except (OSError, ValueError, KeyError, TypeError, RecursionError, zipfile.BadZipFile, EOFError,
                UnicodeDecodeError, MemoryError):
            return None
        return Result(summary=decode(record["summary"]), arrays=arrays, log=log, provenance=provenance, path=folder)

    def save(self, kind: str, experiment: str, config: Any, result: Result, version: int | str = 1) -> Path:
        """Write the result atomically: into a temporary folder, then one exchange (or, where the file system
        cannot exchange, two renames that a kill at any moment leaves recoverable: see clean_leftovers)."""
        final = self.folder(kind, experiment, config, version)
        for name, value in result.arrays.items():
            if np.asarray(value).dtype.hasobject:
                raise ValueError(f"array {name!r} has dtype object; results are stored without pickle")
        made = _missing_parents(final.parent, self.root)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._mark()
            clean_leftovers(final.parent, verify=self.verify)
            tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f"{TMP}{os.getpid()}-{final.name}-"))
        except BaseException:
            self._unmake(made)
            raise
        try:
            self._write(tmp, kind, experiment, config, result, version)
            self._install(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            self._unmake(made)
            raise
        result.path = final
        return final

    def _unmake(self, made: list[Path]) -> None:
        """After a failed save: remove the folders (and the marker) this save created."""
        if self.root in made or self.root.absolute() in [m.absolute() for m in made]:
            (self.root / MARKER).unlink(missing_ok=True)
        _remove_empty(made)

    def _mark(self) -> None:
        """Write the marker (never through a link: an existing entry that is not our regular file is refused)."""
        if self.is_ours():
            return
        if os.path.lexists(self.root / MARKER):
            raise StoreError(f"{self.root / MARKER} exists and is not this suite's marker file (a link or a folder): "
                             "refused; remove it or pass another --results DIR")
        fd = os.open(self.root / MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "w") as handle:
            handle.write("results of the asynchrony-momentum suite: `reports.run` may clean its own temporary entries "
                         "(.suite-tmp-*, .suite-old-*) here\n")

    @staticmethod
    def _write(tmp: Path, kind, experiment, config, result: Result, version) -> None:
        (tmp / "config.json").write_text(json.dumps(
            {"schema": SCHEMA_VERSION, "version": version, "kind": kind, "experiment": experiment,
             "config": as_dict(config)}, indent=1, sort_keys=True))
        np.savez(tmp / "arrays.npz", **{k: np.asarray(v) for k, v in result.arrays.items()})
        (tmp / "log.jsonl").write_text("".join(
            json.dumps(encode(row), allow_nan=False) + "\n" for row in result.log))
        (tmp / "provenance.json").write_text(json.dumps(encode(result.provenance), indent=1, sort_keys=True))
        body = {"schema": SCHEMA_VERSION, "summary": encode(result.summary),
                "sha256": {name: _sha256(tmp / name) for name in FILES}}
        body["self_sha256"] = hashlib.sha256(canonical_json(body).encode()).hexdigest()
        (tmp / "summary.json").write_text(json.dumps(body, indent=1, sort_keys=True))
        os.chmod(tmp, 0o755)  # mkdtemp makes it 0700: others sharing the results folder could not read it

    def _install(self, tmp: Path, final: Path) -> None:
        if final.exists() and _exchange(tmp, final):
            # the new result is installed in one step; `tmp` now holds the old one (a kill here leaves a
            # leftover that the next save cleans, never a missing result)
            shutil.rmtree(tmp, ignore_errors=True)
            return
        old = None
        if final.exists():  # no atomic exchange here: the old one aside first (its name says where it belongs)
            old = Path(tempfile.mkdtemp(dir=final.parent, prefix=f"{OLD}{os.getpid()}-{final.name}-"))
            os.rmdir(old)
            os.replace(final, old)
        try:
            os.replace(tmp, final)
        except OSError:
            if self.verify(final) is not None:  # not another process's identical, intact result
                raise
            shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


MAX_FILE_BYTES = 2 ** 30


def _dirs(folder: Path, prefix: str = "") -> list[Path]:
    """Sub-folders (not links, not dot-folders unless `prefix` asks for them) of a folder."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    return [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False) and
            (e.name.startswith(prefix) if prefix else not e.name.startswith("."))]


def _missing_parents(folder: Path, root: Path) -> list[Path]:
    """The folders from `folder` up to (and with) the root that do not exist yet, deepest first."""
    out, probe = [], Path(folder)
    while not probe.exists():
        out.append(probe)
        if probe == root or probe == probe.parent:
            break
        probe = probe.parent
    return out


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            break
