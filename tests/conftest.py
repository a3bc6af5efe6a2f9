import fcntl
import os

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def quick_results(tmp_path_factory):
    """The quick profile's results, computed once for all pytest-xdist workers (a file lock serialises them)."""
    from reports.registry import experiments
    from reports.run import compute
    # the CNN sweep and the real-async runs have their own small tests (test_cnn*.py, test_real_async.py)
    fast = [name for name in experiments() if name not in ("cnn_momentum", "real_async")]
    shared = tmp_path_factory.getbasetemp().parent / "quick-results"
    shared.mkdir(exist_ok=True)
    with open(shared / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        results = compute("quick", shared, only=fast, quiet=True)
        fcntl.flock(lock, fcntl.LOCK_UN)
    return shared, results
