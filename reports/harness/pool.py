"""Local worker processes for independent jobs (experiments, chunks, re-runs): spawned, one torch thread each by
the caller's choice, deaf to Ctrl-C (the parent handles it: it stops the workers at once and ends with one line)."""
from __future__ import annotations

import contextlib
import signal
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context


def _ignore_interrupt() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def local_pool(jobs: int):
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=_ignore_interrupt)
    try:
        yield pool
    except BaseException:
        for process in list(getattr(pool, "_processes", {}).values()):   # stop running jobs now, not after them
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
