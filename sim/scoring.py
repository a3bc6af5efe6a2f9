"""Scoring single runs: updates to a target per run, the median over seeds with an order-statistic interval, and the
wall clock of synchronous and asynchronous training (the hardware side of HE x SE). Pure numpy."""
from __future__ import annotations

import math

import numpy as np
from scipy import integrate, stats


def updates_to_target(x: np.ndarray, w_star: np.ndarray, target: float, every: int) -> np.ndarray:
    """x: (T+1, R, d) iterates -> (R,): the first checked update (every `every`) whose ||w - w*|| / ||w*|| is at
    most `target`; inf when never (a diverged run included)."""
    dist = np.linalg.norm(x[::every] - w_star, axis=-1) / np.linalg.norm(w_star)
    ok = np.nan_to_num(dist, nan=np.inf) <= target
    return np.where(ok.any(axis=0), ok.argmax(axis=0) * every, np.inf).astype(float)


def median_interval(x, level: float = 0.95) -> tuple[float, float, float]:
    """(median, low, high): the sample median and the distribution-free interval between order statistics that
    covers the true median with probability >= level (binomial; censored values are +inf and sort last)."""
    v = np.sort(np.asarray(x, dtype=float))
    n = v.size
    median = float(np.median(v))
    k = int(stats.binom.ppf((1 - level) / 2, n, 0.5))  # P(Binom(n, 1/2) <= k) ~ (1 - level) / 2
    low_i, high_i = max(k - 1, 0), min(n - k, n - 1)
    return median, float(v[low_i]), float(v[high_i])


def async_time_per_update(rates) -> float:
    """Mean time between writes of always-busy workers with exponential work times: 1 / sum of the rates."""
    return 1.0 / float(np.sum(rates))


def sync_round_time(rates) -> float:
    """Mean time of one synchronous round (every worker computes, the round waits for the slowest):
    E[max_i W_i] for W_i ~ Exp(rate_i) = integral of 1 - prod_i (1 - exp(-rate_i t)); H_M / rate for equal rates."""
    rates = np.asarray(rates, dtype=float)
    if np.allclose(rates, rates[0]):
        return float(sum(1.0 / k for k in range(1, rates.size + 1)) / rates[0])
    value, _ = integrate.quad(lambda t: 1 - np.prod(1 - np.exp(-rates * t)), 0, math.inf, limit=200)
    return float(value)


def simulated_sync_time(rates, rounds: int, rng: np.random.Generator) -> float:
    """Wall clock of `rounds` synchronous rounds, drawn: the sum over rounds of the slowest worker's time."""
    rates = np.asarray(rates, dtype=float)
    return float((rng.standard_exponential((int(rounds), rates.size)) / rates).max(axis=1).sum())
