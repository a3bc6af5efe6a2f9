"""Asynchrony under any stationary staleness law: the expected update of Theorem 2 on a quadratic, its rate, the
explicit momentum that tunes it. The paper's momentum form is the geometric law's special case.

With staleness pmf q (P(tau = l) = q[l]) independent of the iterates and explicit momentum mu_L at the store, the
expected iterate on an eigen-direction lambda follows

    x_{t+1} = x_t + mu_L (x_t - x_{t-1}) - alpha lambda sum_l q[l] x_{t-l},

whose characteristic equation, multiplied out, is a polynomial: for a pmf of finite support K,
    P(z) = z^{K+2} - (1 + mu_L) z^{K+1} + mu_L z^K + alpha lambda sum_l q[l] z^{K+1-l};
for a pmf whose tail from index K on is geometric with ratio r (q[l] = q[K] r^(l-K)), its generating function
sum_{l >= K} q[l] z^-l = q[K] z^(1-K) / (z - r) keeps it finite:
    P(z) = (z^{K+2} - (1 + mu_L) z^{K+1} + mu_L z^K)(z - r) + alpha lambda (sum_{l<K} q[l] z^{K+1-l} (z - r) + q[K] z^2).
For Geom(1/M) (K = 0, r = 1 - 1/M) this is exactly the cubic of recursion (19) (`geometric_reduction`). The
rate of the expected iterate is the largest root modulus, worst over the eigenvalues.

The momentum picture as an approximation (`two_term_fit`): the best two-term model
x_{t+1} - x_t = m (x_t - x_{t-1}) - eta lambda x_t of a law's expected trajectory, and how far it misses.

Public API (takes a pmf, free of the rest of the suite): rate, best_explicit_momentum, recurrence, two_term_fit,
geometric_pmf, constant_pmf, delay_stability_bound, max_stable_step.
"""
from __future__ import annotations

import math

import numpy as np

from theory import rates
from theory.predictions import geometric_weights

GEOMETRIC_TAIL_RTOL = 1e-6
TAIL_MASS = 1e-12


def geometric_pmf(n_workers: int, tail: float = TAIL_MASS) -> np.ndarray:
    """Geom(1/M): P(tau = l) = (1/M)(1 - 1/M)^l, truncated where the remaining tail is below `tail`."""
    ratio = 1 - 1 / n_workers                      # mu_S; n_workers may be fractional (geometric_pmf_with_mean)
    if ratio <= 0:
        return np.array([1.0])
    n = int(math.ceil(math.log(tail) / math.log(ratio))) + 1
    return geometric_weights(1 - ratio, ratio, n)


def geometric_pmf_with_mean(mean: float, tail: float = TAIL_MASS) -> np.ndarray:
    """The geometric law with a given mean staleness (ratio mean / (1 + mean)): the momentum picture of a law."""
    return geometric_pmf(1 + mean, tail) if mean > 0 else np.array([1.0])


def constant_pmf(n_workers: int) -> np.ndarray:
    """Constant work times: round-robin, tau = M - 1 always (pure delay)."""
    out = np.zeros(n_workers)
    out[-1] = 1.0
    return out


def check_pmf(pmf) -> np.ndarray:
    q = np.asarray(pmf, dtype=float)
    if q.ndim != 1 or q.size == 0 or not np.all(np.isfinite(q)) or np.any(q < 0):
        raise ValueError("pmf must be a non-empty 1-D array of probabilities P(tau = 0), P(tau = 1), ...")
    if not abs(q.sum() - 1) < 1e-6:
        raise ValueError(f"pmf must sum to 1 (got {q.sum():.6g}); truncate with trim() and renormalise")
    return np.trim_zeros(q, "b")


def trim(pmf, tail: float = 1e-4) -> np.ndarray:
    """The pmf cut where the remaining tail mass falls below `tail`, renormalised (keeps polynomials small)."""
    q = np.asarray(pmf, dtype=float)
    keep = int(np.searchsorted(np.cumsum(q), 1 - tail)) + 1
    q = q[:min(keep, q.size)]
    return q / q.sum()


def geometric_tail(pmf) -> tuple[int, float] | None:
    """(K, r) when pmf[l] = pmf[K] r^(l - K) for every l >= K up to the end (at least 8 terms), else None."""
    q = np.asarray(pmf, dtype=float)
    if q.size < 8 or np.any(q[-8:] <= 0):
        return None
    ratios = q[1:] / np.where(q[:-1] > 0, q[:-1], np.nan)
    r = ratios[-1]
    same = np.abs(ratios - r) <= GEOMETRIC_TAIL_RTOL * r
    k = ratios.size
    while k > 0 and same[k - 1]:
        k -= 1
    return (k, float(r)) if ratios.size - k >= 7 and 0 < r < 1 else None


def _coefficients(q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P(z) = A + mu_L B + (alpha lambda) C, coefficient vectors, highest power first (A monic)."""
    tail = geometric_tail(q)
    if tail is None:
        k = q.size - 1
        n = k + 2
        a, b, c = np.zeros(n + 1), np.zeros(n + 1), np.zeros(n + 1)
        a[0], a[1] = 1.0, -1.0                    # z^{K+2} - z^{K+1}
        b[1], b[2] = -1.0, 1.0                    # mu_L (-z^{K+1} + z^K)
        c[1:1 + q.size] = q                       # sum_l q_l z^{K+1-l}
        return a, b, c
    k, r = tail
    n = k + 3
    a, b, c = np.zeros(n + 1), np.zeros(n + 1), np.zeros(n + 1)
    base_a = np.zeros(n)
    base_a[0], base_a[1] = 1.0, -1.0              # z^{K+2} - z^{K+1}
    base_b = np.zeros(n)
    base_b[1], base_b[2] = -1.0, 1.0              # -z^{K+1} + z^K
    a[:] = np.convolve(base_a, [1.0, -r])
    b[:] = np.convolve(base_b, [1.0, -r])
    head = np.zeros(n)                            # sum_{l<K} q_l z^{K+1-l}: degree K+1 down to 2
    head[1:1 + k] = q[:k]
    c[:] = np.convolve(head, [1.0, -r])
    c[n - 2] += q[k]                              # + q_K z^2
    return a, b, c


def root_moduli(pmf, mu_explicit, lr, eigenvalues) -> np.ndarray:
    """Largest root modulus of P for every eigenvalue: shape broadcast(mu_L, lr).shape + (n_eigenvalues,)."""
    q = check_pmf(pmf)
    a, b, c = _coefficients(q)
    mu, alpha = np.broadcast_arrays(np.asarray(mu_explicit, dtype=float), np.asarray(lr, dtype=float))
    lam = np.asarray(eigenvalues, dtype=float)
    coef = (a + mu[..., None, None] * b + (alpha[..., None] * lam)[..., None] * c)  # (..., n_lam, n+1)
    n = a.size - 1
    companion = np.zeros(coef.shape[:-1] + (n, n))
    companion[..., 0, :] = -coef[..., 1:]
    if n > 1:
        idx = np.arange(n - 1)
        companion[..., idx + 1, idx] = 1.0
    return np.abs(np.linalg.eigvals(companion)).max(axis=-1)


def rate(pmf, mu_explicit: float, lr: float, eigenvalues) -> float:
    """Worst-case rate of the expected iterate over the eigenvalues: ||E w_t - w*|| = O(rate^t)."""
    return float(root_moduli(pmf, mu_explicit, lr, eigenvalues).max())


def mean_staleness(pmf) -> float:
    q = check_pmf(pmf)
    return float((np.arange(q.size) * q).sum())


def equivalent_implicit_momentum(pmf) -> float:
    """The momentum picture of a law: the geometric law with the same mean, mu_S = E tau / (1 + E tau)."""
    m = mean_staleness(pmf)
    return m / (1 + m)


def best_explicit_momentum(pmf, condition_number: float, n_eigenvalues: int = 17,
                           mu_range: tuple[float, float] = (-0.95, 0.95)) -> tuple[float, float, float]:
    """(mu_L, lr, rate) minimising the worst-case rate over eigenvalues spread over [1, Q] for this law: the same
    search as theory.rates.best_explicit_momentum (so Geom(1/M) gives its numbers); for polynomials of degree
    above 8 the locating grid is coarser (mu_L step 0.05, 60 steps), the Brent refinement the same."""
    q = check_pmf(pmf)
    mu_s = equivalent_implicit_momentum(q)
    small = _coefficients(q)[0].size <= 9
    lrs = np.geomspace(1e-3, 4.0, 200 if small else 60) / condition_number / (1 - mu_s)
    moduli = lambda mu, lr, lam: root_moduli(q, mu, lr, lam)  # noqa: E731
    return rates.search_momentum(moduli, lrs, condition_number, None, n_eigenvalues, mu_range,
                                     step=0.02 if small else 0.05)


def rate_at(pmf, condition_number: float, mu_explicit: float, lr: float, n_eigenvalues: int = 17) -> float:
    return rate(pmf, mu_explicit, lr, rates.spread_eigenvalues(condition_number, n_eigenvalues))


def recurrence(pmf, mu_explicit: float, lr: float, eigenvalues, n_steps: int, x0) -> np.ndarray:
    """The expected iterate x_t (t = 0..T) on a diagonal quadratic, x_{t-l} = x_0 before the start: (T+1, d)."""
    q = check_pmf(pmf)
    lam = np.asarray(eigenvalues, dtype=float)
    x = np.empty((n_steps + 1, lam.size))
    x[0] = np.broadcast_to(np.asarray(x0, dtype=float), lam.shape)
    for t in range(n_steps):
        lags = np.clip(t - np.arange(q.size), 0, None)
        grad = lam * (q[:, None] * x[lags]).sum(axis=0)
        momentum = mu_explicit * (x[t] - x[t - 1]) if t else 0.0
        x[t + 1] = x[t] - lr * grad + momentum
    return x


def two_term_fit(pmf, lr: float, eigenvalues, n_steps: int = 200) -> tuple[float, float, float]:
    """The momentum picture of a law, fitted: (m, eta, relative error).

    The law's expected trajectory at mu_L = 0 and step `lr` (from x_0 = 1 on every eigenvalue) is fitted by least
    squares with the two-term model x_{t+1} - x_t = m (x_t - x_{t-1}) - eta lambda x_t (t >= 1: the first step of
    every law is plain gradient descent); the error is the relative RMS distance between the law's trajectory and the
    two-term model's, run from the law's x_0, x_1. Geom(1/M) is fitted exactly: m = 1 - 1/M, eta = lr / M, error at
    rounding level (Theorem 3); any other law leaves an error, its longer memory.
    """
    lam = np.asarray(eigenvalues, dtype=float)
    x = recurrence(pmf, 0.0, lr, lam, n_steps, np.ones(lam.size))
    steps = np.diff(x, axis=0)
    design = np.column_stack([steps[:-1].ravel(), -(lam * x[1:-1]).ravel()])
    (m, eta), *_ = np.linalg.lstsq(design, steps[1:].ravel(), rcond=None)
    y = np.empty_like(x)
    y[:2] = x[:2]
    for t in range(1, n_steps):
        y[t + 1] = y[t] + m * (y[t] - y[t - 1]) - eta * lam * y[t]
    error = math.sqrt(float(np.square(y - x).sum() / np.square(x).sum()))
    return float(m), float(eta), error


def delay_stability_bound(tau: int) -> float:
    """Classical bound for the pure delay x_{t+1} = x_t - a x_{t-tau}: stable iff 0 < a < 2 sin(pi / (2(2 tau + 1)))."""
    return 2 * math.sin(math.pi / (2 * (2 * tau + 1)))


def max_stable_step(pmf, mu_explicit: float = 0.0, tol: float = 1e-10) -> float:
    """The largest alpha lambda with every root inside the unit circle (bisection on the rate)."""
    lo, hi = 0.0, 4.0
    while hi - lo > tol:
        mid = (lo + hi) / 2
        if rate(pmf, mu_explicit, mid, [1.0]) < 1:
            lo = mid
        else:
            hi = mid
    return lo


def geometric_reduction():
    """SymPy: the law polynomial of Geom(1/M) (K = 0, r = mu_S) minus (19)'s cubic z^3 - z_i z^2 + c z - d. Zero."""
    import sympy as sp
    z, mu_l, mu_s, a, lam = sp.symbols("z mu_L mu_S alpha lambda")
    law = (z ** 2 - (1 + mu_l) * z + mu_l) * (z - mu_s) + a * lam * (1 - mu_s) * z ** 2
    z_i = 1 + mu_s + mu_l - a * (1 - mu_s) * lam
    cubic = z ** 3 - z_i * z ** 2 + (mu_s + mu_l + mu_s * mu_l) * z - mu_s * mu_l
    return sp.expand(law - cubic)
