"""From per-run times to target to the paper's quantities, with bootstrap intervals over seeds.

Evidence: `times[target, M, mu_L, step, seed]`, the updates a run needed to reach the target, `inf` when it did not
within the budget (diverged runs included): censored, not dropped. Every configuration of one seed shares its
initial point, mini-batches and queue (common random numbers), so seeds are the unit of resampling.

Score of a configuration (M, mu_L, step) on a set of seeds: the mean over them of min(time, budget of M), a lower
bound when some seed is censored. The best step is chosen per (M, mu_L), and the strategies of Figs. 4 and 8 choose
mu_L within their set (ties go to the larger momentum, the conservative choice for "momentum falls with M").
Penalty = best score of a strategy at M / best score over everything at M = 1 (docs/paper.md section 3).

Every statistic takes `idx`, seed indices of shape (S,) or (B, S) (B bootstrap resamples), and returns one value per
resample, so that `interval` can hand it to scipy.stats.bootstrap vectorised.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STRATEGIES = {"fixed_0.9": lambda mu: abs(mu - 0.9) < 1e-9, "non_negative": lambda mu: mu >= -1e-12,
              "any_sign": lambda mu: True}


@dataclass(frozen=True)
class Evidence:
    times: np.ndarray        # (targets, M, mu, step, seed), inf = censored
    workers: tuple
    mu_grid: tuple
    budget: int | tuple | np.ndarray  # the updates a run had at most: one for all, one per M, or (M, seed)

    def caps(self, idx=None) -> np.ndarray:
        """The budget broadcastable against (targets, M, mu, step, B, S) for the seeds idx ((B, S) indices)."""
        b = np.asarray(self.budget, dtype=float)
        if b.ndim == 2:
            return b[:, seed_index(self.n_seeds, idx)][None, :, None, None]
        return b.reshape(1, -1, 1, 1, 1, 1) if b.ndim else b

    @property
    def n_seeds(self) -> int:
        return self.times.shape[-1]

    def resampled(self, idx) -> "Evidence":
        b = np.asarray(self.budget)
        budget = b[:, np.asarray(idx)] if b.ndim == 2 else self.budget
        return Evidence(self.times[..., np.asarray(idx)], self.workers, self.mu_grid, budget)

    def with_times(self, times: np.ndarray) -> "Evidence":
        return Evidence(times, self.workers, self.mu_grid, self.budget)


def seed_index(n_seeds: int, idx) -> np.ndarray:
    """Seed indices as (B, S): all seeds once when idx is None."""
    return np.arange(n_seeds)[None, :] if idx is None else np.atleast_2d(np.asarray(idx))


def scores(ev: Evidence, idx=None) -> tuple[np.ndarray, np.ndarray]:
    """Mean capped time over the seeds idx, and whether any of them is censored: (targets, M, mu, step, B) each."""
    idx = seed_index(ev.n_seeds, idx)
    picked = ev.times[..., idx]                                   # (..., B, S)
    return np.minimum(picked, ev.caps(idx)).mean(axis=-1), ~np.isfinite(picked).all(axis=-1)


def best_per_momentum(ev: Evidence, idx=None) -> tuple[np.ndarray, np.ndarray]:
    """Best score over the step per (target, M, mu) and the step index that gives it: (targets, M, mu, B)."""
    score, _ = scores(ev, idx)
    return score.min(axis=3), score.argmin(axis=3)


def strategy(ev: Evidence, name: str, idx=None) -> tuple[np.ndarray, np.ndarray]:
    """Best score of a strategy per (target, M) and the chosen mu_L: (targets, M, B) each."""
    per_mu, _ = best_per_momentum(ev, idx)
    allowed = np.array([STRATEGIES[name](mu) for mu in ev.mu_grid])
    order = np.argsort(-np.asarray(ev.mu_grid), kind="stable")      # larger momentum first: it wins ties
    order = order[allowed[order]]
    sub = per_mu[:, :, order]
    pick = sub.argmin(axis=2)
    return np.take_along_axis(sub, pick[:, :, None], axis=2)[:, :, 0], np.asarray(ev.mu_grid)[order][pick]


def censored_best(ev: Evidence, name: str) -> np.ndarray:
    """(targets, M) bool: the strategy's best configuration had a censored seed (its score is a lower bound)."""
    score, cens = scores(ev)
    per_mu_best = score.argmin(axis=3)                             # (targets, M, mu, 1)
    cens_mu = np.take_along_axis(cens, per_mu_best[:, :, :, None], axis=3)[:, :, :, 0, 0]
    best, chosen = strategy(ev, name)
    mu_index = np.array([[list(ev.mu_grid).index(c) for c in row] for row in chosen[:, :, 0]])
    return np.take_along_axis(cens_mu, mu_index[:, :, None], axis=2)[:, :, 0]


def penalty(ev: Evidence, name: str, idx=None) -> np.ndarray:
    """(targets, M, B): best score of the strategy at M over the best score at M = 1 (over every configuration)."""
    score, _ = strategy(ev, name, idx)
    base, _ = strategy(ev, "any_sign", idx)
    with np.errstate(divide="ignore", invalid="ignore"):
        return score / base[:, [list(ev.workers).index(1)]]


def interval(statistic, ev: Evidence, seed: int, n_resamples: int = 999, level: float = 0.95) -> tuple:
    """Percentile bootstrap interval over seeds (scipy.stats.bootstrap) of statistic(ev, idx) -> (B,)."""
    import warnings

    from scipy.stats import bootstrap
    if ev.n_seeds < 2:
        value = float(statistic(ev, None)[0])
        return value, value
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")  # all resamples equal (the seeds agree) is a valid, degenerate interval
        res = bootstrap((np.arange(ev.n_seeds),), lambda i, axis=-1: statistic(ev, i), vectorized=True,
                        paired=False, n_resamples=n_resamples, confidence_level=level, method="percentile",
                        random_state=np.random.default_rng(seed))
    low, high = res.confidence_interval
    return float(low), float(high)


def power(check, ev: Evidence, seed: int, n_resamples: int = 200) -> float:
    """The fraction of seed resamples (with replacement, same size) on which check(ev') passes: the bootstrap
    estimate of the probability that a repetition of the experiment with as many seeds passes."""
    rng = np.random.default_rng(seed)
    return float(np.mean([bool(check(ev.resampled(rng.integers(0, ev.n_seeds, ev.n_seeds))))
                          for _ in range(n_resamples)]))
