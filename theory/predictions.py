"""The paper's predictions in one place, as numbers: every check of the suite reads them from here.

Implicit momentum and effective step (Theorem 5), the staleness law (Theorems 3 and 5), and the expected-iterate
recursions (Theorem 2's simple form, Theorem 3's (7), Theorem 6's (9)/(19)) together with the nearest wrong
models a skeptic would propose (undampened momentum, momenta that add exactly). Gradients are duck-typed:
`objective.gradient(w)`; theory imports nothing of the rest of the suite.
"""
from __future__ import annotations

import numpy as np


def _check_workers(n_workers) -> int:
    if isinstance(n_workers, bool) or not isinstance(n_workers, (int, np.integer)) or n_workers < 1:
        raise ValueError(f"n_workers (M) must be an integer >= 1, got {n_workers!r}")
    return int(n_workers)


def implicit_momentum(n_workers: int) -> float:
    """mu_S = 1 - 1/M: implicit momentum of M asynchronous workers with exponential work times (Theorem 5)."""
    return 1.0 - 1.0 / _check_workers(n_workers)


def staleness_mean(n_workers: int) -> int:
    """E[tau] = M - 1 (Theorem 5's Geom(1/M) on {0, 1, ...}; the mean is M - 1 under any work-time law)."""
    return _check_workers(n_workers) - 1


def staleness_variance(n_workers: int) -> int:
    """Var[tau] = M (M - 1) for Geom(1/M) on {0, 1, ...} (Theorem 5): what tells the memoryless queue apart."""
    m = _check_workers(n_workers)
    return m * (m - 1)


def effective_step(lr: float, n_workers: int) -> float:
    """alpha (1 - mu_S) = alpha / M: the gradient step of the momentum form (Theorem 5)."""
    return lr * (1.0 - implicit_momentum(n_workers))


def geometric_weights(first: float, ratio: float, n_terms: int) -> np.ndarray:
    """The geometric law's P(tau = l) = first * ratio^l, l < n_terms (first = 1 - ratio; each caller passes both as
    it computes them, so that the bits do not depend on which of the two was derived): the one place it is typed."""
    return first * ratio ** np.arange(n_terms)


def geometric_pmf(p: float, n_steps: int) -> np.ndarray:
    """q_l = p (1 - p)^l for l < n_steps, with the tail P(tau >= n_steps) lumped into the last entry."""
    q = geometric_weights(p, 1 - p, n_steps + 1)
    q[-1] = (1 - p) ** n_steps
    return q


def staleness_pmf(n_workers: int, n_terms: int) -> np.ndarray:
    """P(tau = l), l < n_terms, of M workers with exponential work times: Geom(1/M) on {0, 1, ...} (Theorem 5)."""
    p = 1.0 / _check_workers(n_workers)
    return geometric_weights(p, 1 - p, n_terms)


def expected_simple_form(objective, pmf: np.ndarray, n_steps: int, lr: float, mu_explicit: float, w0):
    """Theorem 2's simple form with explicit momentum, for an affine gradient:
    m_{t+1} = m_t + mu_L (m_t - m_{t-1}) - alpha sum_l q_l grad f(m_{max(t-l, 0)}),
    constant pre-history (every read before the start is of w_0); pmf entries beyond its length are zero,
    and the last entry of `pmf` is read as P(tau >= len(pmf) - 1). Returns (T+1, d).
    """
    m = [np.asarray(w0, dtype=float)]
    grads = [objective.gradient(m[0])]
    tail_index = len(pmf) - 1
    for t in range(n_steps):
        expected_grad = np.zeros_like(m[0])
        for l in range(min(t, tail_index - 1) + 1):
            expected_grad += pmf[l] * grads[t - l]
        rest = 1.0 - pmf[:min(t, tail_index - 1) + 1].sum()
        expected_grad += rest * grads[max(t - min(t, tail_index - 1) - 1, 0)] if rest > 0 else 0.0
        momentum = mu_explicit * (m[t] - m[t - 1]) if t > 0 else 0.0
        m.append(m[t] - lr * expected_grad + momentum)
        grads.append(objective.gradient(m[-1]))
    return np.array(m)


def third_order_recursion(objective, n_steps: int, first_step_lr: float, step: float, momentum_sum: float,
                          momentum_product: float, w0):
    """D_{t+1} = momentum_sum D_t - momentum_product D_{t-1} - step grad f(m_t) for t >= 1, with D_0 = 0 and
    D_1 = -first_step_lr grad f(w_0) (every worker read w_0). Returns the iterates m_t, shape (T+1, d)."""
    m = [np.asarray(w0, dtype=float)]
    m.append(m[0] - first_step_lr * objective.gradient(m[0]))
    steps = [np.zeros_like(m[0]), m[1] - m[0]]
    for t in range(1, n_steps):
        d = momentum_sum * steps[-1] - momentum_product * steps[-2] - step * objective.gradient(m[t])
        steps.append(d)
        m.append(m[t] + d)
    return np.array(m[:n_steps + 1])


def momentum_recursion(objective, n_steps: int, lr: float, mu_implicit: float, mu_explicit: float, w0):
    """The paper's prediction, eq. (9) (Theorem 3 when mu_L = 0), with consistent initial conditions:
    D_1 = -alpha grad f(w_0), D_0 = 0, then D_{t+1} = (mu_L + mu_S) D_t - mu_L mu_S D_{t-1} - alpha (1 - mu_S) grad f(m_t).
    """
    return third_order_recursion(objective, n_steps, lr, lr * (1 - mu_implicit), mu_explicit + mu_implicit,
                                 mu_explicit * mu_implicit, w0)


def undampened_recursion(objective, n_steps: int, lr: float, mu_implicit: float, mu_explicit: float, w0):
    """Wrong model (a control): heavy ball whose gradient term is the full -alpha grad f, not -(1 - mu_S) alpha."""
    return third_order_recursion(objective, n_steps, lr, lr, mu_explicit + mu_implicit, mu_explicit * mu_implicit, w0)


def additive_recursion(objective, n_steps: int, lr: float, mu_implicit: float, mu_explicit: float, w0):
    """Wrong model (a control): 'the momenta add' exactly, heavy ball with momentum mu_L + mu_S and the same
    effective step alpha (1 - mu_S) as (19); (19) differs from it by the second-order term mu_L mu_S."""
    return third_order_recursion(objective, n_steps, lr, lr * (1 - mu_implicit), mu_explicit + mu_implicit, 0.0, w0)
