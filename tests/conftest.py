import fcntl
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def quick_results(tmp_path_factory):
    """The quick profile's results, computed once for all pytest-xdist workers (a file lock serialises them).
    SUITE_QUICK_RESULTS=DIR uses a results folder `make report` filled (CI: its stored results are reused, the
    missing ones computed there)."""
    from reports.registry import experiments
    from reports.run import compute
    # the experiments with claims expected to pass at the quick profile (the CNN and real asynchrony: results)
    fast = [name for name, exp in experiments().items() if any(c.expect == "pass" for c in exp.claims)
            and "quick" not in exp.committed]
    given = os.environ.get("SUITE_QUICK_RESULTS")
    shared = Path(given) if given else tmp_path_factory.getbasetemp().parent / "quick-results"
    shared.mkdir(parents=True, exist_ok=True)
    with open(shared / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        results = compute("quick", shared, only=fast, quiet=True)
        fcntl.flock(lock, fcntl.LOCK_UN)
    return shared, results


def tiny_dataset(n=256, size=28, channels=1, seed=0):
    """A small synthetic image set whose classes differ in brightness: the CNN tests do not need the Debian data."""
    from cnn_experiments.data import Dataset
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 10
    x = (rng.integers(0, 60, size=(n, channels, size, size)) + 20 * y[:, None, None, None]).astype(np.uint8)
    return Dataset("tiny", x, y.astype(np.int64), x[:64], y[:64].astype(np.int64))
