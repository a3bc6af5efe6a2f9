"""Estimators of the total momentum from a trajectory, where the truth is known and where it is not.

Both read a trajectory x_0..x_T (shape (T+1, d)) and the gradients g_t at x_t (shape (T+1, d)).
"""
from __future__ import annotations

import numpy as np


def fit_two_term(x: np.ndarray, g: np.ndarray, start: int = 1) -> tuple[float, float]:
    """Least squares on the two-term model x_{t+1} - x_t = mu (x_t - x_{t-1}) - eta g_t: returns (mu, eta).

    Under Theorem 3 the answer is mu = mu_S, eta = alpha (1 - mu_S); with explicit momentum the third-order
    recurrence (9) is fitted by a second-order one, so mu is mu_L + mu_S only to first order.
    """
    steps = np.diff(x, axis=0)                         # steps[t] = x_{t+1} - x_t
    target = steps[start:].ravel()                     # D_{t+1} for t >= start
    design = np.column_stack([steps[start - 1:-1].ravel(), -g[start:len(steps)].ravel()])
    (mu, eta), *_ = np.linalg.lstsq(design, target, rcond=None)
    return float(mu), float(eta)


def yellowfin_momentum(x: np.ndarray, g: np.ndarray, lr: float, beta: float = 0.0, start: int = 1) -> float:
    """YellowFin's closed-loop estimator (SPEC.md section 4): median over t and coordinates of
    (A_t + lr C_t) / (A_t - B_t), with EMAs (factor beta) A of x_{t+1} - x_t, B of x_{t+1} - 2 x_t + x_{t-1}
    and C of g_t. It assumes the undampened model x_{t+1} - x_t = mu (x_t - x_{t-1}) - lr g_t, so `lr` must be
    the step that multiplies the gradient in that model.
    """
    steps = np.diff(x, axis=0)
    a_raw = steps[start:]
    b_raw = steps[start:] - steps[start - 1:-1]
    c_raw = g[start:len(steps)]
    a, b, c = (_ema(v, beta) for v in (a_raw, b_raw, c_raw))
    denominator = a - b
    ok = np.abs(denominator) > 1e-12 * np.abs(a).max()
    return float(np.median(((a + lr * c)[ok]) / denominator[ok]))


def _ema(values: np.ndarray, beta: float) -> np.ndarray:
    out = np.empty_like(values)
    acc = values[0]
    for t, v in enumerate(values):
        acc = beta * acc + (1 - beta) * v if t else v
        out[t] = acc
    return out
