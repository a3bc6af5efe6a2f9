"""The ledger of recomputations (reports/evidence/verified.jsonl, committed): each line says that a committed chunk
(its digest) was recomputed bit for bit from a clean commit, on which machine, when. It is how a chunk computed from
a working tree with uncommitted changes is shown to be what committed code computes."""
from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

from reports.common import EVIDENCE, UsageError
from reports.harness.config import canonical_json
from reports.harness.evidence import machine
from reports.harness.paths import ROOT
from reports.harness.provenance import git_state
from sim.files import NotRegular, read_regular

MAX_BYTES = 16 << 20    # about 30,000 entries

LEDGER = EVIDENCE / "verified.jsonl"   # committed: chunks recomputed bit-identical from a clean commit


def clean_commit() -> str:
    """The commit this code runs from, refused where the working tree has uncommitted changes other than the ledger's
    own lines (a run that records many chunks appends to it between them)."""
    sha, dirty = git_state(ignoring=(LEDGER.relative_to(ROOT).as_posix(),))
    if dirty:
        raise UsageError("the working tree has uncommitted changes: a recomputation is recorded only from committed "
                         "code (commit or stash them first)")
    return sha


def ledger_entry(experiment: str, record: dict) -> dict:
    """One line of the ledger: which committed chunk (its digest) was recomputed bit for bit, from which clean commit,
    on which kind of machine, when."""
    sha = clean_commit()
    return {"experiment": experiment, "chunk": record["name"], "chunk_sha256": record["sha256"],
            "committed_from": record["provenance"].get("git_sha"), "committed_dirty": record["provenance"].get("dirty"),
            "recomputed_from": sha, "machine": machine(), "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "result": "bit-identical"}


def append_ledger(path: Path, entry: dict) -> None:
    """One line appended to the ledger, a regular file (created if absent; never through a link, never waiting on a
    FIFO: opened without blocking)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UsageError(f"{str(path)[:200]} is not a regular file: the ledger is not written there")
        os.write(fd, (canonical_json(entry) + "\n").encode())
    finally:
        os.close(fd)


def read_ledger(path: Path = LEDGER) -> list[dict]:
    """The ledger's entries (none where it does not exist or is not a regular file of at most MAX_BYTES; a line that
    is not a JSON object is skipped)."""
    try:
        lines = read_regular(path, MAX_BYTES).decode("utf-8", errors="replace").splitlines()
    except (OSError, NotRegular):
        return []
    out = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            out.append(entry)
    return out
