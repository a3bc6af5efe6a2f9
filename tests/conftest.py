import fcntl
import os

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def quick_results(tmp_path_factory):
    """The quick profile's results, computed once for all pytest-xdist workers (a file lock serialises them)."""
    from reports.run import compute
    shared = tmp_path_factory.getbasetemp().parent / "quick-results"
    shared.mkdir(exist_ok=True)
    with open(shared / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        results = compute("quick", shared, quiet=True)
        fcntl.flock(lock, fcntl.LOCK_UN)
    return shared, results
