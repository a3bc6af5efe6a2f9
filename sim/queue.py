"""The one model of asynchrony: M always-busy workers, a work-time law, and the staleness it produces.

A worker reads the model, works for a time drawn from the law, writes its update, and reads again at once.
All workers read the initial model at time 0. Update t (the t-th write, in time order) has staleness
tau_t = number of writes between its worker's read and its write, so it was computed at w_{t - tau_t}.

Warm-up: updates before every worker has written once are kept (their staleness counts from the common read at
time 0) and marked in `.warmup`; statistics of the steady state use `staleness[~warmup]`.

Vectorised: each worker's write times are cumulative sums of its work times; one stable sort of all write
times gives the global order (ties, e.g. constant work times, are broken by worker index), and staleness is the
gap between a worker's consecutive global positions, minus one (a second, integer sort groups them by worker).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.laws import SCALE_RANGE, LawError, make_sampler

MAX_EXTENSIONS = 1000   # draws of more work times when a slow worker has not reached the n-th write yet


@dataclass(frozen=True)
class Schedule:
    """The order of writes of asynchronous workers. Arrays have shape (n_updates,) or (n_replicas, n_updates)."""
    staleness: np.ndarray  # int64: writes between the read and the write of update t
    worker: np.ndarray     # int64: which worker wrote update t
    time: np.ndarray       # float64: when update t was written
    warmup: np.ndarray     # bool: update t happened before every worker had written once
    n_workers: int

    @property
    def read_index(self) -> np.ndarray:
        """Index of the iterate the update was computed at: t - tau_t (0 is the initial model)."""
        return np.arange(self.staleness.shape[-1]) - self.staleness


def warmup_mask(worker, n_workers: int) -> np.ndarray:
    """The one warm-up definition: update t is warm-up when t comes before the first write of the last worker to
    write at all (before every worker has written once). Used by the queue and by logs of real runs alike."""
    worker = np.asarray(worker, dtype=np.int64)
    first = {}
    for t, w in enumerate(worker.tolist()):
        first.setdefault(w, t)
    end = max(first.values()) if len(first) == n_workers else worker.size
    return np.arange(worker.size) < end


def _check_counts(n_workers, n_updates, n_replicas) -> None:
    for name, value in (("n_workers (M)", n_workers), ("n_updates", n_updates), ("n_replicas", n_replicas)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise LawError(f"{name} must be an integer >= 1, got {value!r}")


def simulate_batch(n_workers: int, n_updates: int, n_replicas: int, work_time: str = "exponential",
                   seed: int = 0, **law_params) -> Schedule:
    """Independent queues for `n_replicas` replicas, each from time 0; arrays of shape (n_replicas, n_updates)."""
    _check_counts(n_workers, n_updates, n_replicas)
    sampler = make_sampler(work_time, n_workers, **law_params)
    rng = np.random.default_rng(seed)
    mean_count = n_updates / n_workers  # writes per worker when rates are equal; extended below if short
    per_worker = int(np.ceil(1.2 * mean_count + 6 * np.sqrt(mean_count))) + 8
    work = sampler(rng, (n_replicas, n_workers, per_worker))
    for _ in range(MAX_EXTENSIONS):
        # worker-major (R, M, K): each worker's write times are sorted, and the stable sort (a merge of M runs)
        # breaks ties by worker index
        ends = np.cumsum(work, axis=2)
        k_max = ends.shape[2]
        times = ends.reshape(n_replicas, -1)
        order = np.argsort(times, axis=1, kind="stable")[:, :n_updates]
        time = np.take_along_axis(times, order, axis=1)
        if not np.all(np.isfinite(ends[:, :, -1])):
            raise LawError(f"{work_time} work times overflow (a sum of work times is not finite): use times or "
                           f"rates within {SCALE_RANGE}")
        if np.all(ends[:, :, -1].min(axis=1) > time[:, -1]):  # every worker's sequence reaches past the n-th write
            break
        work = np.concatenate([work, sampler(rng, (n_replicas, n_workers, per_worker))], axis=2)
    else:
        raise LawError(f"{work_time} work times: the queue did not reach {n_updates} writes after "
                       f"{MAX_EXTENSIONS} extensions (one worker is far slower than the others)")
    worker = order // k_max
    # group each replica's updates by worker (stable: in time order within a worker); the staleness of a write
    # is the number of updates since the same worker's previous write (or since the start)
    small = worker.astype(np.int16) if n_workers < 2 ** 15 else worker  # 16-bit keys sort by radix
    by_worker = np.argsort(small, axis=1, kind="stable")
    grouped = np.take_along_axis(worker, by_worker, axis=1)
    first = np.ones_like(grouped, dtype=bool)
    first[:, 1:] = grouped[:, 1:] != grouped[:, :-1]
    previous = np.empty_like(by_worker)
    previous[:, 0] = -1
    previous[:, 1:] = by_worker[:, :-1]
    previous[first] = -1
    staleness = np.empty_like(by_worker)
    np.put_along_axis(staleness, by_worker, by_worker - previous - 1, axis=1)
    n_writers = first.sum(axis=1)
    all_written = np.where(n_writers == n_workers, np.where(first, by_worker, -1).max(axis=1), n_updates)
    warmup = np.arange(n_updates)[None, :] < all_written[:, None]
    return Schedule(staleness=staleness, worker=worker, time=time, warmup=warmup, n_workers=n_workers)


def simulate(n_workers: int, n_updates: int, work_time: str = "exponential", seed: int = 0,
             **law_params) -> Schedule:
    """One queue of M workers: arrays `.staleness`, `.worker`, `.time`, `.warmup` of length n_updates.

    Laws: "exponential" (rate=1, or rates=[...] one per worker), "gamma" (shape, scale), "constant" (value),
    "lognormal" (sigma, mean), "trace" (path: CSV of work times, resampled). Same seed, same schedule.
    """
    batch = simulate_batch(n_workers, n_updates, 1, work_time, seed, **law_params)
    return Schedule(staleness=batch.staleness[0], worker=batch.worker[0], time=batch.time[0],
                    warmup=batch.warmup[0], n_workers=n_workers)


def save_log(path, schedule: Schedule) -> None:
    """Write a staleness log as CSV (update, worker, time, staleness, warmup): the format real runs use too."""
    rows = np.column_stack([np.arange(schedule.staleness.size), schedule.worker, schedule.time,
                            schedule.staleness, schedule.warmup.astype(int)])
    np.savetxt(path, rows, delimiter=",", header="update,worker,time,staleness,warmup", comments="",
               fmt=["%d", "%d", "%.9g", "%d", "%d"])


MAX_LOG_BYTES = 512 * 2 ** 20
MAX_LOG_WORKERS = 1024   # as --workers: a log names at most this many workers


def load_log(path) -> Schedule:
    """Read a staleness log written by `save_log` (or by a real asynchronous run): worker ids 0..M-1, staleness
    and update numbers non-negative integers, finite times, warmup 0 or 1."""
    import io
    import warnings

    from sim.files import read_regular
    try:
        raw = read_regular(path, MAX_LOG_BYTES)   # a FIFO or device is refused at once, never waited on
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")       # "input contained no data": the shape check below says it
            data = np.loadtxt(io.BytesIO(raw), delimiter=",", skiprows=1, ndmin=2)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise LawError(f"cannot read staleness log {str(path)[:200]}: {str(exc)[:200]}") from None
    if data.ndim != 2 or data.shape[0] == 0 or data.shape[1] != 5:
        raise LawError(f"staleness log {path} must have columns update,worker,time,staleness,warmup")
    ints = data[:, [0, 1, 3]]
    if not np.all(np.isfinite(data)) or np.any(ints < 0) or np.any(ints != np.round(ints)) or np.any(ints > 2 ** 53) \
            or not np.all(np.isin(data[:, 4], (0, 1))):
        raise LawError(f"staleness log {path}: update, worker and staleness must be non-negative integers, time "
                       "finite and warmup 0 or 1 on every row")
    n = data.shape[0]
    if np.any(data[:, 3] > np.arange(n)) or np.any(data[:, 1] >= MAX_LOG_WORKERS):
        raise LawError(f"staleness log {path}: a staleness above its update number (the log is not in write order, "
                       f"or its values are not staleness) or a worker id >= {MAX_LOG_WORKERS}")
    if np.any(data[:, 2] < 0) or np.any(np.diff(data[:, 2]) < 0) or data[-1, 2] <= data[0, 2]:
        raise LawError(f"staleness log {path}: times must be non-negative and non-decreasing in write order, and not "
                       "all equal")
    return Schedule(staleness=data[:, 3].astype(np.int64), worker=data[:, 1].astype(np.int64), time=data[:, 2],
                    warmup=data[:, 4].astype(bool), n_workers=int(data[:, 1].max()) + 1)


def tile(schedule: Schedule, times: int) -> Schedule:
    """The batch schedule repeated `times` times along the replica axis: every configuration of a sweep on the same
    queues (common random numbers)."""
    rep = lambda a: np.tile(a, (times, 1))  # noqa: E731
    return Schedule(staleness=rep(schedule.staleness), worker=rep(schedule.worker), time=rep(schedule.time),
                    warmup=rep(schedule.warmup), n_workers=schedule.n_workers)


def queue_pmf(n_workers: int, work_time: str = "exponential", n_updates: int = 4000, n_replicas: int = 64,
              seed: int = 0, **law_params) -> tuple[np.ndarray, np.ndarray]:
    """The stationary staleness pmf of the queue, P(tau = 0), P(tau = 1), ..., and its standard errors.

    Exact where a closed form exists: exponential work times with one rate (Theorem 5: Geom(1/M), truncated where
    the tail is below 1e-12; SE 0) and constant work times (round-robin: tau = M - 1; SE 0). Otherwise estimated
    from `n_replicas` independent queues of `n_updates` writes after their warm-up (every worker has written once):
    the mean of the replicas' empirical pmfs, SE from their spread (replicas are independent; the delays within one
    are not).
    """
    _check_counts(n_workers, n_updates, n_replicas)
    from theory import laws
    if work_time == "exponential" and law_params.get("rates") is None:
        pmf = laws.geometric_pmf(n_workers)
        return pmf, np.zeros_like(pmf)
    if work_time == "constant":
        pmf = laws.constant_pmf(n_workers)
        return pmf, np.zeros_like(pmf)
    batch = simulate_batch(n_workers, n_updates, n_replicas, work_time, seed, **law_params)
    size = int(batch.staleness.max()) + 1
    per = np.array([np.bincount(s[~w], minlength=size) / max(1, (~w).sum())
                    for s, w in zip(batch.staleness, batch.warmup)])
    return per.mean(axis=0), per.std(axis=0, ddof=1) / np.sqrt(n_replicas)
