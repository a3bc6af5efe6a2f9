"""Paired-seed statistics of a CNN sweep: one number per seed, a t interval over seeds, and the power of a decision
rule at a given effect size (to size the number of seeds from a pilot's spread).

Per seed (the unit: every configuration of a seed shares its start, mini-batches and queue): the time of a
configuration capped at the seed's stop (a lower bound when censored); the step chosen per (target, M, mu_L) by the
seed set's mean score (analysis.best_per_momentum), so that every seed is read at the same configurations; the best
momentum as the vertex of a quadratic fitted to log T(mu_L) on the grid points around the minimum (a smooth
estimate between grid values, clipped to the fitted window, the grid argmin where the fit is not convex).
"""
from __future__ import annotations

import functools
import math

import numpy as np
from scipy import stats

from cnn_experiments import analysis
from cnn_experiments.analysis import Evidence

LEVEL = 0.95
WINDOW = 2          # grid points on each side of the minimum used by the quadratic fit


def seed_times(ev: Evidence) -> np.ndarray:
    """(targets, M, mu, seed): each seed's capped time at the step the seed set chose for (target, M, mu)."""
    capped = np.minimum(ev.times, ev.caps()[..., 0, :])             # (targets, M, mu, step, S)
    _, step = analysis.best_per_momentum(ev)                        # (targets, M, mu, 1)
    return np.take_along_axis(capped, step[..., None], axis=3)[:, :, :, 0, :]


def strategy_times(ev: Evidence, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(targets, M, seed) capped times of a strategy (analysis.STRATEGIES: fixed_0.9, non_negative, any_sign) at the
    momentum it chose on the whole seed set, and that momentum (targets, M)."""
    per_mu = seed_times(ev)
    _, chosen = analysis.strategy(ev, name)                         # (targets, M, 1)
    index = np.array([[list(ev.mu_grid).index(mu) for mu in row] for row in chosen[:, :, 0]])
    return np.take_along_axis(per_mu, index[:, :, None, None], axis=2)[:, :, 0, :], chosen[:, :, 0]


def vertex(mu_grid, log_times: np.ndarray, window: int = WINDOW) -> float:
    """The best momentum of one seed: the vertex of a least-squares quadratic through log T at the grid points
    within `window` of the minimum (ties: the larger momentum), clipped to those points' range."""
    mu = np.asarray(mu_grid, dtype=float)
    y = np.asarray(log_times, dtype=float)
    order = np.argsort(-mu, kind="stable")
    i = int(order[np.argmin(y[order])])
    lo, hi = max(0, i - window), min(mu.size, i + window + 1)
    if hi - lo < 3 or not np.all(np.isfinite(y[lo:hi])):
        return float(mu[i])
    a, b, _ = np.polyfit(mu[lo:hi], y[lo:hi], 2)
    if a <= 0:
        return float(mu[i])
    return float(np.clip(-b / (2 * a), mu[lo:hi].min(), mu[lo:hi].max()))


def best_momentum(ev: Evidence) -> np.ndarray:
    """(targets, M, seed): the smooth best momentum of every seed (vertex of log T(mu_L))."""
    per_mu = np.log(seed_times(ev))
    out = np.empty((per_mu.shape[0], per_mu.shape[1], per_mu.shape[3]))
    for t, j, s in np.ndindex(out.shape):
        out[t, j, s] = vertex(ev.mu_grid, per_mu[t, j, :, s])
    return out


def matched_contrast(ev: Evidence, lr_grid, mu_high: float, mu_low: float = 0.0, t: int = -1) -> np.ndarray:
    """(M, seed): log T(mu_high) - log T(mu_low) at the same effective step alpha / (1 - mu_L): mu_low at the step
    the seed set chose for it at that M, mu_high at the grid step nearest alpha (1 - mu_high) / (1 - mu_low) (NaN
    where none lies within 20 %). It compares momenta where they trade one for one in the small-step regime, so it
    does not depend on which steps the grid holds (its phase), unlike the best momentum's vertex."""
    lr = np.asarray(lr_grid, dtype=float)
    capped = np.minimum(ev.times, ev.caps()[..., 0, :])               # (targets, M, mu, step, S)
    _, step = analysis.best_per_momentum(ev)                          # (targets, M, mu, 1)
    out = np.full((capped.shape[1], capped.shape[-1]), np.nan)
    if mu_low not in ev.mu_grid or mu_high not in ev.mu_grid:
        return out   # a momentum the grid lacks: no comparison
    low, high = list(ev.mu_grid).index(mu_low), list(ev.mu_grid).index(mu_high)
    for j in range(capped.shape[1]):
        k = int(step[t, j, low, 0])
        want = lr[k] * (1 - mu_high) / (1 - mu_low)
        kk = int(np.argmin(np.abs(np.log(lr / want))))
        if abs(math.log(lr[kk] / want)) <= math.log(1.2):
            out[j] = np.log(capped[t, j, high, kk]) - np.log(capped[t, j, low, k])
    return out


def log_time_at(log_times: np.ndarray, log_steps: np.ndarray, x: float) -> float:
    """log T at log step x between grid steps: the quadratic through the three grid steps nearest x where it is
    convex (the shape of a time to target around its best step), else the line between the two grid steps around x;
    NaN outside the grid."""
    if not log_steps.min() - 1e-9 <= x <= log_steps.max() + 1e-9 or log_steps.size < 3:
        return math.nan
    near = np.argsort(np.abs(log_steps - x), kind="stable")[:3]
    curve = np.polyfit(log_steps[near], log_times[near], 2)
    if curve[0] > 0 and np.all(np.isfinite(curve)):
        return float(np.polyval(curve, x))
    order = np.argsort(log_steps)
    return float(np.interp(x, log_steps[order], log_times[order]))


def matched_profile(ev: Evidence, lr_grid, anchor: float = 0.0, t: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """(M, mu, seed): log T(mu_L) along the line of constant effective step alpha / (1 - mu_L) through the best step
    of mu_L = anchor (the vertex, in log alpha, of the seed set's mean log T at that momentum: a smooth optimum, not
    a grid point), each point interpolated between grid steps (log_time_at); and that step per M. Every momentum is
    read at the same effective step, wherever the grid's steps lie."""
    log_lr = np.log(np.asarray(lr_grid, dtype=float))
    capped = np.log(np.minimum(ev.times, ev.caps()[..., 0, :])[t])   # (M, mu, step, S)
    a = list(ev.mu_grid).index(anchor)
    out = np.full((capped.shape[0], capped.shape[1], capped.shape[3]), np.nan)
    steps = np.empty(capped.shape[0])
    for j in range(capped.shape[0]):
        x0 = vertex(log_lr, capped[j, a].mean(axis=-1), window=1)
        steps[j] = math.exp(x0)
        for i, mu in enumerate(ev.mu_grid):
            x = x0 + math.log((1 - mu) / (1 - anchor))
            for s in range(capped.shape[3]):
                out[j, i, s] = log_time_at(capped[j, i, :, s], log_lr, x)
    return out, steps


def matched_best_momentum(ev: Evidence, lr_grid, t: int = -1) -> np.ndarray:
    """(M, seed): the best momentum at matched effective step: the vertex of log T(mu_L) along matched_profile's
    line (the momenta whose step falls outside the grid left out)."""
    profile, _ = matched_profile(ev, lr_grid, t=t)
    mu = np.asarray(ev.mu_grid, dtype=float)
    out = np.full((profile.shape[0], profile.shape[2]), np.nan)
    for j, s in np.ndindex(out.shape):
        inside = np.isfinite(profile[j, :, s])
        if inside.sum() >= 3:
            out[j, s] = vertex(mu[inside], profile[j, inside, s])
    return out


def slope_per_doubling(workers, values: np.ndarray) -> np.ndarray:
    """Least-squares slope of values (M, seed) against log2 M, per seed."""
    x = np.log2(np.asarray(workers, dtype=float))
    xc = x - x.mean()
    return (xc[:, None] * (values - values.mean(axis=0))).sum(axis=0) / (xc ** 2).sum()


@functools.lru_cache(maxsize=None)
def _t_quantile(level: float, df: int) -> float:
    return float(stats.t.ppf(0.5 + level / 2, df))


def t_interval(x, level: float = LEVEL) -> tuple[float, float, float]:
    """(mean, low, high) of the mean of x over seeds: Student t interval (the seed is the unit)."""
    x = np.asarray(x, dtype=float)
    mean = float(x.mean())
    if x.size < 2 or not np.all(np.isfinite(x)):
        return mean, mean, mean
    half = float(_t_quantile(level, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return mean, mean - half, mean + half


def power(rule, effect: float, sd: float, n: int, draws: int = 4000, seed: int = 0) -> float:
    """Pass rate of `rule(x) -> bool` over samples x of n seeds drawn from Normal(effect, sd): the power of the
    decision at that effect size, given a seed-to-seed spread."""
    rng = np.random.default_rng(seed)
    samples = effect + sd * rng.standard_normal((draws, n))
    return float(np.mean([bool(rule(x)) for x in samples]))


def seeds_needed(rule, effect: float, sd: float, target: float = 0.8, smallest: int = 3, largest: int = 64) -> int:
    """The smallest number of seeds whose decision has power >= target at the effect size (largest + 1: none);
    bisection, power growing with n."""
    if power(rule, effect, sd, largest) < target:
        return largest + 1
    low, high = smallest - 1, largest          # power(high) >= target; low: below it (or below the range)
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if power(rule, effect, sd, mid) >= target else (mid, high)
    return high
