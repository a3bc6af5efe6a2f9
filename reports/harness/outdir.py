"""The report's output folder: replaced only when the suite made it, atomically, one build at a time.

`--out X` is written when X does not exist, is an empty folder, or is a report folder this suite made (its marker
`.suite-report`, a regular file, checked without following links). Anything else — a user's folder, a file, a link,
the results store, a folder inside it or holding it — is refused before anything is written. The new report is
built beside X (`.X-tmp-<pid>-*`) and swapped in with one atomic exchange (renameat2); where the file system cannot
exchange, X is moved to `.X-old-<pid>-*` first, and the next build restores it if a kill came in between. A lock file
(`.X.lock`) keeps a second build out while one writes. Leftovers of dead builds are removed (or restored) first.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

from reports.harness.store import _exchange, _owner_alive

MARKER = ".suite-report"


class OutError(ValueError):
    """The output folder cannot be used; the message says what to do."""


def _lstat(path: Path):
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OutError(f"--out {path} is not writable ({exc.strerror}); pass another --out DIR") from None


def is_ours(folder: Path) -> bool:
    """A real folder (not a link) holding the suite's marker as a regular file."""
    st, mark = _lstat(folder), _lstat(folder / MARKER)
    return bool(st and stat.S_ISDIR(st.st_mode) and mark and stat.S_ISREG(mark.st_mode))


def _inside(a: Path, b: Path) -> bool:
    return a == b or b in a.parents


def check(out: Path, results: Path) -> Path:
    """The absolute --out to write (its link-free parent resolved), or OutError saying why not."""
    out = Path(os.path.abspath(out))
    parent = out.parent.resolve()
    out = parent / out.name
    results = Path(results).resolve()
    if _inside(out, results) or _inside(results, out):
        raise OutError(f"--out {out} is the results folder {results}, inside it or holds it: the report would replace "
                       "results; pass another --out DIR")
    st = _lstat(out)
    if st is None or is_ours(out):
        return out
    if stat.S_ISLNK(st.st_mode):
        raise OutError(f"--out {out} is a symbolic link: refused (a report is written to a real folder); pass another "
                       "--out DIR")
    if not stat.S_ISDIR(st.st_mode):
        raise OutError(f"--out {out} is a file, not a report folder: refused, left as it is; pass another --out DIR")
    try:
        empty = not any(os.scandir(out))
    except OSError as exc:
        raise OutError(f"--out {out}: {exc.strerror}; pass another --out DIR") from None
    if not empty:
        raise OutError(f"--out {out} is a folder this suite did not make (no {MARKER} in it): refused, nothing in it "
                       "is touched; pass a new or empty folder, or a report folder from an earlier build")
    return out


def _leftovers(out: Path) -> list[tuple[Path, str]]:
    pattern = re.compile(rf"^\.{re.escape(out.name)}-(tmp|old)-(\d+)-")
    found = []
    try:
        entries = list(os.scandir(out.parent))
    except OSError:
        return []
    for entry in entries:
        match = pattern.match(entry.name)
        if match and not entry.is_symlink() and entry.is_dir(follow_symlinks=False) \
                and not _owner_alive(int(match.group(2))):
            found.append((Path(entry.path), match.group(1)))
    return found


def clean(out: Path) -> None:
    """Restore or remove what dead builds left: where a kill left no report at `out`, the newest complete one (the
    new one first, then the old one) moves back; the rest is removed."""
    left = _leftovers(out)
    if _lstat(out) is None:
        for kind in ("tmp", "old"):
            for path, k in left:
                inner = path / "x" if k == "old" else path
                if k == kind and is_ours(inner) and (inner / "report.html").is_file() and _lstat(out) is None:
                    os.replace(inner, out)
    for path, _ in _leftovers(out):
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def lock(out: Path):
    """One build per output folder at a time: a second one is refused with one line."""
    path = out.parent / f".{out.name}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutError(f"another build is writing {out} now: wait for it to finish, or pass another --out "
                           "DIR") from None
        yield
    finally:
        os.close(fd)


def new_folder(out: Path) -> Path:
    """A fresh folder beside `out` for the new report (its marker written first)."""
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}-tmp-{os.getpid()}-"))
    tmp.chmod(0o755)
    (tmp / MARKER).write_text("a report folder made by the asynchrony-momentum suite (reports.build replaces it)\n")
    return tmp


def install(tmp: Path, out: Path) -> None:
    """Put the finished report `tmp` at `out`: one atomic exchange, then the old report (now at tmp) removed."""
    if _lstat(out) is None:
        os.replace(tmp, out)
        return
    if _exchange(tmp, out):
        shutil.rmtree(tmp, ignore_errors=True)
        return
    old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}-old-{os.getpid()}-"))
    os.replace(out, old / "x")
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)
