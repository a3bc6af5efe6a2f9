"""Local worker processes for independent jobs (experiments, chunks, re-runs): spawned, one torch thread each by
the caller's choice, deaf to Ctrl-C (the parent handles it: it stops the workers at once and ends with one line),
and gone when the parent is."""
from __future__ import annotations

import contextlib
import signal
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context


def _worker_init() -> None:
    """Ignore Ctrl-C (the parent stops the pool), and end when the parent is gone (killed with -9, say): an orphaned
    worker would otherwise wait for work forever."""
    import os
    import threading
    import time
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)
    threading.Thread(target=watch, daemon=True).start()


@contextlib.contextmanager
def local_pool(jobs: int):
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=_worker_init)
    try:
        yield pool
    except BaseException:
        for process in list(getattr(pool, "_processes", {}).values()):   # stop running jobs now, not after them
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
