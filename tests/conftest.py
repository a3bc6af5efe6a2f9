import fcntl
import os

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def quick_results(tmp_path_factory):
    """The quick profile's results, computed once for all pytest-xdist workers (a file lock serialises them)."""
    from reports.registry import experiments
    from reports.run import compute
    # experiments declared slow (the CNN sweep, real asynchrony) have their own small and contract tests
    fast = [name for name, exp in experiments().items() if not exp.slow]
    shared = tmp_path_factory.getbasetemp().parent / "quick-results"
    shared.mkdir(exist_ok=True)
    with open(shared / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        results = compute("quick", shared, only=fast, quiet=True)
        fcntl.flock(lock, fcntl.LOCK_UN)
    return shared, results
