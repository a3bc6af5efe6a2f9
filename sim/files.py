"""Reading files a user or another process hands us: regular files only, checked on the opened descriptor (a FIFO,
a device, a folder, or a link to one, is refused at once, never waited on), and never more than a stated size."""
from __future__ import annotations

import os
import stat
from pathlib import Path


class NotRegular(OSError):
    """The path is not a regular file (or is larger than allowed); the message says which."""


def read_regular(path, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; NotRegular (an OSError) otherwise."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = ("a FIFO" if stat.S_ISFIFO(st.st_mode) else "a folder" if stat.S_ISDIR(st.st_mode) else
                    "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not a regular file")
            raise NotRegular(f"{str(path)[:200]} is {kind}, not a regular file")
        if st.st_size > limit:
            raise NotRegular(f"{str(path)[:200]} is larger than {limit >> 20} MB")
        chunks, total = [], 0
        while True:
            part = os.read(fd, min(1 << 20, limit + 1 - total))
            if not part:
                break
            chunks.append(part)
            total += len(part)
            if total > limit:
                raise NotRegular(f"{str(path)[:200]} grew past {limit >> 20} MB while it was read")
        return b"".join(chunks)
    finally:
        os.close(fd)


def check_writable_target(path) -> None:
    """A file we are about to write: where it exists it must be a regular file (a FIFO or device would hang or
    swallow what we write)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(st.st_mode):
        raise NotRegular(f"{str(path)[:200]} exists and is not a regular file: refused (pass a new file name)")


def npz_inflated_size(raw: bytes) -> int:
    """The total uncompressed size of an .npz archive's members, read from its zip directory (nothing inflated)."""
    import io
    import zipfile
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        return sum(info.file_size for info in archive.infolist())


def exists(path) -> bool:
    """Path.exists() that says False for a name too long for the system instead of raising."""
    try:
        return Path(path).exists()
    except OSError:
        return False
