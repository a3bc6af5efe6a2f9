"""The queue of M workers: the staleness it produces, seeds, warm-up, and bad input."""
import numpy as np
import pytest

from sim.laws import LawError
from sim.queue import load_log, save_log, simulate, simulate_batch


def reference_staleness(work: np.ndarray) -> np.ndarray:
    """A plain event loop (the definition): tau = writes by others between a worker's read and its write."""
    n_workers = work.shape[1]
    next_write = work[0].copy()
    position = np.zeros(n_workers, dtype=int)
    version_read = np.zeros(n_workers, dtype=int)
    out, writes = [], 0
    while np.all(position + 1 < work.shape[0]):
        k = int(np.argmin(next_write))
        out.append(writes - version_read[k])
        writes += 1
        version_read[k] = writes
        position[k] += 1
        next_write[k] += work[position[k], k]
    return np.array(out)


def test_staleness_matches_a_plain_event_loop():
    m, n = 5, 300
    schedule = simulate(m, n, seed=3)
    rng = np.random.default_rng(3)
    # regenerate the same work times the simulator drew: (1, M, K) standard exponentials
    mean_count = n / m
    per_worker = int(np.ceil(1.2 * mean_count + 6 * np.sqrt(mean_count))) + 8
    work = rng.standard_exponential((1, m, per_worker))[0].T
    expected = reference_staleness(work)
    assert np.array_equal(schedule.staleness, expected[:n])


def test_one_worker_has_zero_staleness():
    s = simulate(1, 1000, seed=1)
    assert np.all(s.staleness == 0) and np.all(s.worker == 0)


@pytest.mark.parametrize("m", [2, 4, 16])
def test_constant_work_times_give_a_pure_delay_after_warm_up(m):
    s = simulate(m, 500, "constant", value=2.0)
    assert np.all(s.staleness[~s.warmup] == m - 1)
    assert np.array_equal(s.staleness[:m], np.arange(m))


def test_same_seed_same_schedule_and_other_seed_differs():
    a, b, c = simulate(8, 2000, seed=11), simulate(8, 2000, seed=11), simulate(8, 2000, seed=12)
    assert np.array_equal(a.staleness, b.staleness) and np.array_equal(a.time, b.time)
    assert not np.array_equal(a.staleness, c.staleness)


def test_writes_are_in_time_order_and_read_index_is_consistent():
    s = simulate(6, 3000, "lognormal", sigma=1.5, seed=2)
    assert np.all(np.diff(s.time) >= 0)
    assert np.all(s.read_index >= 0) and np.all(s.read_index <= np.arange(3000))


def test_heterogeneous_rates_favour_fast_workers():
    s = simulate(3, 20000, rates=[1.0, 1.0, 8.0], seed=0)
    counts = np.bincount(s.worker)
    assert counts[2] > 3 * counts[0]


def test_batch_rows_are_independent_queues():
    b = simulate_batch(4, 50, 3, seed=5)
    assert b.staleness.shape == (3, 50)
    assert not np.array_equal(b.staleness[0], b.staleness[1])


def test_trace_replay(tmp_path):
    trace = tmp_path / "trace.csv"
    trace.write_text("work_time\n0.5\n1.5\n1.0\n")
    s = simulate(4, 400, "trace", path=str(trace), seed=0)
    assert s.staleness[~s.warmup].mean() == pytest.approx(3.0, abs=0.3)


def test_log_round_trip(tmp_path):
    s = simulate(4, 100, seed=0)
    save_log(tmp_path / "log.csv", s)
    back = load_log(tmp_path / "log.csv")
    assert np.array_equal(back.staleness, s.staleness) and np.array_equal(back.worker, s.worker)


@pytest.mark.parametrize("kwargs, message", [
    ({"n_workers": 0, "n_updates": 10}, "n_workers"),
    ({"n_workers": 4, "n_updates": 0}, "n_updates"),
    ({"n_workers": 4, "n_updates": 10, "work_time": "weibull"}, "unknown work-time law"),
    ({"n_workers": 4, "n_updates": 10, "rate": -1.0}, "rate must be a number in"),
    ({"n_workers": 4, "n_updates": 10, "rate": float("nan")}, "rate must be a number in"),
    ({"n_workers": 4, "n_updates": 10, "work_time": "gamma", "shape": 0}, "shape"),
    ({"n_workers": 4, "n_updates": 10, "work_time": "lognormal", "sigma": float("nan")}, "sigma"),
    ({"n_workers": 2, "n_updates": 10, "rates": [1.0, 2.0, 3.0]}, "one per worker"),
    ({"n_workers": 2, "n_updates": 10, "work_time": "constant", "speed": 1}, "unknown parameter"),
    ({"n_workers": 2, "n_updates": 10, "work_time": "trace", "path": "/nonexistent.csv"}, "not found"),
])
def test_bad_input_gives_a_clear_error(kwargs, message):
    with pytest.raises(LawError, match=message):
        simulate(**kwargs)


@pytest.mark.parametrize("content, message", [("", "holds no work times"), ("work\n1.0\nabc\n", "not a number"),
                                              ("1.0\n-2.0\n", "outside")])
def test_bad_trace_files(tmp_path, content, message):
    trace = tmp_path / "t.csv"
    trace.write_text(content)
    with pytest.raises(LawError, match=message):
        simulate(2, 10, "trace", path=str(trace))


def test_named_seeds_differ_by_name_and_by_parent():
    """int_seed(seed, role) is the role's own stream: the tasks of a server run, the repetitions of a model
    estimate and the replicas of a probe never share a seed (they all did while the role was ignored)."""
    from sim.seeds import first_child_seed, int_seed, int_seeds
    tasks = [int_seed(0, f"task-{k}") for k in range(500)]
    assert len(set(tasks)) == 500 and int_seed(0, "task-1") != int_seed(1, "task-1")
    assert int_seed(0, "task-1") == int_seed(0, "task-1") and int_seeds(0, "a", 3) != int_seeds(0, "b", 3)
    assert first_child_seed(0) not in tasks  # the committed CNN chunks' stream is none of the named ones
