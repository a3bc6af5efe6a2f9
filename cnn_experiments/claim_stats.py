"""The statistics each CNN claim of the paper (Figs. 3, 4, 5, 8) is decided on, for one seed set: one number per
seed, then a t interval over seeds (cnn_experiments.paired). Every function takes the typed evidence of one set and
returns named values.

Decided at the last (latest) target; the first target is reported beside it. Effect sizes (the paper's, docs/paper.md
section 3) are the alternatives the number of seeds is sized for.
"""
from __future__ import annotations

import math

import numpy as np

from cnn_experiments import paired
from cnn_experiments.analysis import Evidence
from theory import predictions

LAST = -1
PAPER_FIG3_CIFAR = {1: 0.7, 2: 0.6, 4: 0.2, 8: 0.1}                 # Fig. 3, CIFAR-10 panel (read)
PAPER_FIG3_IMAGENET = {1: 0.6, 2: 0.6, 4: 0.6, 8: 0.6, 16: 0.3, 32: 0.0}
PAPER_FIG4 = {"fixed_0.9": {1: 2, 2: 2, 4: 2, 8: 3, 16: 16}, "non_negative": {1: 1, 2: 1, 4: 2, 8: 2, 16: 6},
              "any_sign": {1: 1, 2: 1, 4: 2, 8: 2, 16: 3}}          # Figs. 4 and 8 (read)
PAPER_FIG8_CHOSEN = {1: 0.675, 2: 0.45, 4: 0.225, 8: 0.0, 16: -0.675}
PAPER_FIG5_WARM = {1: 1.00, 2: 0.92, 4: 0.99, 8: 0.93}
PAPER_SLOPE = (PAPER_FIG3_CIFAR[8] - PAPER_FIG3_CIFAR[1]) / math.log2(8)   # -0.2 per doubling of M


def best_momentum(ev: Evidence, t: int = LAST) -> dict:
    """Per M: the mean over seeds of the smooth best momentum (vertex of log T(mu_L)) with its t interval."""
    vertex = paired.best_momentum(ev)[t]                              # (M, S)
    return {m: paired.t_interval(vertex[j]) for j, m in enumerate(ev.workers)}


def fall(ev: Evidence, t: int = LAST) -> tuple[np.ndarray, tuple]:
    """Per seed the slope of the best momentum against log2 M; and (mean, low, high) of the fall over the range
    of M (slope x log2 M_max / M_min)."""
    slope = paired.slope_per_doubling(ev.workers, paired.best_momentum(ev)[t])
    span = math.log2(max(ev.workers) / min(ev.workers))
    mean, low, high = paired.t_interval(slope)
    return slope, (mean * span, low * span, high * span)


def matched_slope(ev: Evidence, lr_grid, mu_high: float, t: int = LAST) -> tuple[np.ndarray, tuple]:
    """Per seed the slope in log2 M of log T(mu_high) / T(0) at matched effective step, and its (mean, low, high):
    positive when high momentum costs more as M grows (Fig. 3's mechanism, independent of the grid's phase)."""
    contrast = paired.matched_contrast(ev, lr_grid, mu_high, 0.0, t)
    slope = paired.slope_per_doubling(ev.workers, contrast)
    return slope, paired.t_interval(slope)


def by_phase(ev: Evidence, statistic, lr_grid=None) -> dict:
    """statistic(evidence) (statistic(evidence, steps) when lr_grid is given) on the whole step grid and on each of
    its two decade phases (every other half-decade): how much a statistic depends on which steps the grid holds."""
    n = ev.times.shape[3]
    out = {}
    for name, steps in (("all steps", list(range(n))), ("phase A", list(range(0, n, 2))),
                        ("phase B", list(range(1, n, 2)))):
        sub = ev.with_times(ev.times[:, :, :, steps])
        out[name] = statistic(sub) if lr_grid is None else statistic(sub, [lr_grid[k] for k in steps])
    return out


def matched_best(ev: Evidence, lr_grid, t: int = LAST) -> dict:
    """Per M: the mean over seeds of the best momentum at matched effective step (paired.matched_best_momentum)
    with its t interval."""
    best = paired.matched_best_momentum(ev, lr_grid, t)
    return {m: paired.t_interval(best[j]) for j, m in enumerate(ev.workers)}


def matched_gap(ev: Evidence, lr_grid, t: int = LAST) -> np.ndarray:
    """gap() on the best momentum at matched effective step."""
    best = paired.matched_best_momentum(ev, lr_grid, t)
    top = max(ev.workers)
    return best[list(ev.workers).index(top)] - (best[list(ev.workers).index(1)] -
                                                predictions.implicit_momentum(top))


def vertex_fall_by_phase(ev: Evidence, t: int = LAST) -> dict:
    """The vertex's fall over the range of M, on the whole grid and on each decade phase."""
    return by_phase(ev, lambda sub: fall(sub, t)[1][0])


def log_ratio(ev: Evidence, top: str, bottom: str, m: int, t: int = LAST) -> np.ndarray:
    """Per seed log(T(top) / T(bottom)) at M = m, each strategy at the momentum and step the set chose."""
    j = list(ev.workers).index(m)
    a, _ = paired.strategy_times(ev, top)
    b, _ = paired.strategy_times(ev, bottom)
    return np.log(a[t, j] / b[t, j])


def log_ratio_at_cap(ev: Evidence, bottom: str, m: int, t: int = LAST) -> np.ndarray:
    """Per seed log(cap / T(bottom)) at M = m: the largest ratio to `bottom` a censored run can show."""
    j = list(ev.workers).index(m)
    b, _ = paired.strategy_times(ev, bottom)
    caps = np.asarray(ev.caps()[0, j, 0, 0], dtype=float).reshape(-1)
    return np.log(caps / b[t, j])


def censored_share(ev: Evidence, name: str, m: int, t: int = LAST) -> float:
    """The share of seeds whose time for the strategy at M = m is censored (its ratio a lower bound)."""
    j = list(ev.workers).index(m)
    times, chosen = paired.strategy_times(ev, name)
    caps = np.asarray(ev.caps()[0, j, 0, 0], dtype=float).reshape(-1)
    return float(np.mean(times[t, j] >= caps - 1e-9))


def penalty(ev: Evidence, m: int, name: str = "any_sign", t: int = LAST) -> np.ndarray:
    """Per seed log(T(strategy at M) / T(best at M = 1)): the statistical penalty of Figs. 4 and 5."""
    times, _ = paired.strategy_times(ev, name)
    base, _ = paired.strategy_times(ev, "any_sign")
    return np.log(times[t, list(ev.workers).index(m)] / base[t, list(ev.workers).index(1)])


def gap(ev: Evidence, t: int = LAST) -> np.ndarray:
    """Per seed mu*(M_max) - (mu*(1) - (1 - 1/M_max)): how far above the 'momenta add' prediction the best
    momentum at the largest M sits."""
    vertex = paired.best_momentum(ev)[t]
    top = max(ev.workers)
    return vertex[list(ev.workers).index(top)] - (vertex[list(ev.workers).index(1)] -
                                                  predictions.implicit_momentum(top))


def chosen(ev: Evidence, name: str, m: int, t: int = LAST) -> float:
    _, mu = paired.strategy_times(ev, name)
    return float(mu[t, list(ev.workers).index(m)])


def geometric(x) -> tuple[float, float, float]:
    """(ratio, low, high): exp of the mean log ratio and of its t interval."""
    mean, low, high = paired.t_interval(x)
    return math.exp(mean), math.exp(low), math.exp(high)
