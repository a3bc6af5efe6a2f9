"""Statistics of staleness samples, shared by the Monte Carlo and the real-asynchrony experiments."""
from __future__ import annotations

import math

import numpy as np

from theory.predictions import geometric_weights, staleness_variance


def batch_se(x, n_batches: int = 50) -> float:
    """Standard error of the mean of a correlated series, by batch means."""
    batches = np.array_split(np.asarray(x, dtype=float), n_batches)
    return float(np.std([b.mean() for b in batches], ddof=1) / np.sqrt(n_batches))


def geometric_tv(x: np.ndarray, p: float) -> float:
    """Total variation distance between the empirical law of x and Geom(p) on {0, 1, ...}."""
    counts = np.bincount(x) / x.size
    pmf = geometric_weights(p, 1 - p, counts.size)
    return float(0.5 * (np.abs(counts - pmf).sum() + (1 - pmf.sum())))


def law_tv(a: np.ndarray, b: np.ndarray) -> float:
    """Total variation distance between the empirical laws of two integer samples."""
    n = max(a.max(), b.max()) + 1
    return float(0.5 * np.abs(np.bincount(a, minlength=n) / a.size - np.bincount(b, minlength=n) / b.size).sum())


class Pool:
    """Running sums for a mean and its standard error over replicas (axis 1 of the arrays added)."""

    def __init__(self):
        self.n, self.s, self.s2 = 0, 0.0, 0.0

    def add(self, values: np.ndarray) -> None:
        self.n += values.shape[1]
        self.s = self.s + values.sum(axis=1)
        self.s2 = self.s2 + (values ** 2).sum(axis=1)

    def mean_se(self) -> tuple[np.ndarray, np.ndarray]:
        mean = self.s / self.n
        var = np.maximum(self.s2 / self.n - mean ** 2, 0.0) * self.n / (self.n - 1)
        return mean, np.sqrt(var / self.n)


def expected_iterate_rate(mean: np.ndarray, burn_in: int) -> np.ndarray:
    """(s_T / s_t0)^(1/(T - t0)) with s_t the norm of (m_t, m_{t-1}, m_{t-2}); mean has shape (T+1, ..., d)."""
    norms = np.sqrt(sum(np.square(mean[k:mean.shape[0] - 2 + k]).sum(axis=-1) for k in range(3)))  # s_{t}, t >= 2
    first, last = norms[burn_in - 2], norms[-1]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rate = (last / first) ** (1.0 / (mean.shape[0] - 1 - burn_in))
    return np.where(np.isfinite(rate) & (last < 1e6), rate, np.inf)


def queue_law_stats(x: np.ndarray, m: int, seed: int, references: int = 1000) -> dict:
    """Staleness statistics of one run against Geom(1/M): mean and variance with batch-means SEs, and the TV to
    Geom(1/M) beside the TV exact samples of the same size from the queue model (same dependence) reach: their
    mean and their 99th percentile (a TV above it has a 1 % chance under the model)."""
    from sim.queue import simulate_batch   # sim.queue imports this module: here, where it is needed
    exact = simulate_batch(m, x.size + 4 * m, references, seed=seed)
    samples = [row[~w][:x.size] for row, w in zip(exact.staleness, exact.warmup)]
    tvs = [geometric_tv(sample, 1 / m) for sample in samples]
    return {"mean": float(x.mean()), "mean_se": batch_se(x, 20), "var": float(x.var()), "var_se": var_se(x),
            "tv": geometric_tv(x, 1 / m), "tv_reference": float(np.mean(tvs)),
            "tv_reference_q99": float(np.quantile(tvs, 0.99)), "n": int(x.size),
            "pmf": (np.bincount(x, minlength=4 * m)[:4 * m] / x.size).tolist(),
            # the check's sampling distribution under the model, for its power: each exact sample's z and TV
            "exact_z_var": [z_var(sample, m) for sample in samples], "exact_tv": [float(v) for v in tvs],
            "staleness": [int(v) for v in x]}


def var_se(x: np.ndarray) -> float:
    return batch_se((x - x.mean()) ** 2, 20)


def z_var(x: np.ndarray, m: int) -> float:
    se = var_se(x)
    return float(abs(x.var() - staleness_variance(m)) / se) if se > 0 else math.inf


def block_bootstrap(x: np.ndarray, n: int, seed: int, block: int = 20) -> list[np.ndarray]:
    """n resamples of a dependent series by blocks of `block` consecutive values."""
    rng = np.random.default_rng(seed)
    starts = np.arange(0, x.size - block + 1)
    k = -(-x.size // block)
    return [np.concatenate([x[i:i + block] for i in rng.choice(starts, k)])[:x.size] for _ in range(n)]


def max_abs_z(mean, se, reference, exact_tol: float = 1e-9) -> float:
    """Largest |mean - reference| / se over entries with se > 0; entries with se == 0 must match exactly."""
    mean, se, reference = (np.asarray(v, dtype=float) for v in (mean, se, reference))
    diff = np.abs(mean - reference)
    zero = se <= 0
    if np.any(diff[zero] > exact_tol):
        return float("inf")
    return float((diff[~zero] / se[~zero]).max()) if np.any(~zero) else 0.0
