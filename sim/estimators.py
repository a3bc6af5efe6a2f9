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
    """YellowFin's closed-loop estimator (docs/paper.md section 4): median over t and coordinates of
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


def fit_two_term_corrected(x: np.ndarray, g: np.ndarray, start: int = 1) -> tuple[float, float]:
    """The two-term fit on the mean of R runs, corrected for the noise of that mean (errors in variables).

    x, g: shape (T+1, R, d), R >= 2 runs from one initial point. Averaging R runs leaves noise of variance
    Sigma / R in the regressors (the previous step, the gradient) and in the target; the plain fit on the means is
    biased by it (towards 0 for the previous step: attenuation). The noise's covariances are estimated from the
    spread of the runs around their mean and subtracted from the normal equations:
    beta = (X'X - S_XX / R)^-1 (X'y - S_Xy / R). Consistent in T d at fixed R where the expected iterates follow
    the two-term model (Theorem 3 on a quadratic); exact at R = infinity like fit_two_term.
    """
    n_runs = x.shape[1]
    if n_runs < 2:
        raise ValueError("fit_two_term_corrected needs at least 2 runs (their spread measures the noise)")
    steps = np.diff(x, axis=0)                                     # (T, R, d)
    columns = np.stack([steps[start - 1:-1], -g[start:len(steps)], steps[start:]])  # (3, T', R, d): D_t, -g_t, D_{t+1}
    mean = columns.mean(axis=2)                                    # (3, T', d)
    centred = columns - mean[:, :, None]
    noise = np.einsum("atrd,btrd->ab", centred, centred) / (n_runs - 1) / n_runs  # summed covariance of the means
    moments = np.einsum("atd,btd->ab", mean, mean) - noise
    mu, eta = np.linalg.solve(moments[:2, :2], moments[:2, 2])
    return float(mu), float(eta)


def jackknife_se(estimate, x: np.ndarray, g: np.ndarray) -> float:
    """Delete-one-run jackknife SE of estimate(x, g) (first return value) over the runs axis (axis 1)."""
    n_runs = x.shape[1]
    values = np.array([estimate(np.delete(x, r, axis=1), np.delete(g, r, axis=1))[0] for r in range(n_runs)])
    return float(np.sqrt((n_runs - 1) / n_runs * ((values - values.mean()) ** 2).sum()))
