"""Whether the machine is idle. A timed chunk (real processes: its wall-clock time per update is part of what it
records) is computed and recomputed only while no other process keeps the cores busy: the same run on a loaded
machine is slower by the load, not by the code."""
from __future__ import annotations

import os
import time
from pathlib import Path

from reports.harness.evidence import EvidenceError

IDLE_BUSY_CORES = 0.25   # other processes' use, in cores: an idle machine of this project measures 0.00-0.02
WAIT_SECONDS = 60.0      # how long a timed chunk waits for the machine to become idle before it is refused
SAMPLE_SECONDS = 0.5


class BusyMachine(EvidenceError):
    """The machine stayed busy: a timed chunk is neither computed nor recomputed."""


def _jiffies(stat: Path) -> tuple[int, int]:
    fields = [int(v) for v in stat.read_text().splitlines()[0].split()[1:9]]
    return sum(fields), fields[3] + fields[4]   # (all, idle + iowait)


def busy_cores(seconds: float = SAMPLE_SECONDS, stat: Path = Path("/proc/stat")) -> float | None:
    """How many cores are busy over the next `seconds` (this process sleeps meanwhile, so: the other processes'
    use); None where the system does not say (no /proc/stat)."""
    try:
        total0, idle0 = _jiffies(stat)
        time.sleep(seconds)
        total1, idle1 = _jiffies(stat)
    except (OSError, ValueError, IndexError):
        return None
    span = total1 - total0
    return 0.0 if span <= 0 else round((span - (idle1 - idle0)) / span * (os.cpu_count() or 1), 3)


def wait_until_idle(say=print, wait: float | None = None, poll: float = 2.0) -> float | None:
    """The other processes' use in cores once it is at most IDLE_BUSY_CORES (None: unknown here), waiting up to
    `wait` seconds (WAIT_SECONDS); BusyMachine after that."""
    deadline = time.time() + (WAIT_SECONDS if wait is None else wait)
    busy, told = busy_cores(), False
    while busy is not None and busy > IDLE_BUSY_CORES:
        if time.time() >= deadline:
            raise BusyMachine(f"other processes keep {busy:.2f} of {os.cpu_count()} cores busy: a timed chunk measures "
                              f"wall-clock time, so it runs only on an idle machine (at most {IDLE_BUSY_CORES} cores "
                              "busy); stop the other work and run it again")
        if not told:
            say(f"  waiting up to {deadline - time.time():.0f} s for an idle machine ({busy:.2f} cores busy) before "
                "a timed chunk")
            told = True
        time.sleep(poll)
        busy = busy_cores()
    return busy


def idle_info(busy: float | None) -> dict:
    """The provenance entry of a timed chunk: the cores other processes kept busy when it started."""
    return {} if busy is None else {"busy_cores": busy}


def busy_note(busy: float | None, committed: dict) -> str:
    """What verify says of a timed chunk's load: now, and when it was committed (its provenance)."""
    then = committed.get("busy_cores")
    return (f"; other processes kept {'?' if busy is None else f'{busy:.2f}'} cores busy now, "
            f"{'an unrecorded number' if then is None else f'{then:.2f}'} when it was committed")
