"""Where asynchrony and momentum cost steps: the stability region of the expected recurrence (19) (numpy only).

On a quadratic direction of curvature lam, asynchronous SGD with M workers (q = mu_S = 1 - 1/M) and explicit
momentum mu_L has the characteristic polynomial (Theorem 6, eq. (19), x = alpha lam)

    (z - 1)(z - q)(z - mu_L) + x (1 - q) z^2.

Near z = 1 its slowest root is about 1 - x / (1 - mu_L): synchronous momentum SGD with the effective step
eta = alpha / (1 - mu_L). While the best step is small, (alpha, mu_L) trade one for one along eta and asynchrony costs
nothing; a penalty appears only where the step is capped by stability. `largest_stable_step` is that cap,
eta_max(M, mu_L) lam: the supremum of x / (1 - mu_L) over the stable x (all roots inside the unit circle). A real root
leaves through z = -1 at x = 2 (1 + q)(1 + mu_L) / (1 - q) (`minus_one_crossing`, checked symbolically); for large
mu_L a complex pair leaves first, found by bisection on the exact roots.

Near z = 1 the small-step picture holds only while x / (1 - mu_L) << 1 - q = 1/M: beyond it the queue slows the
slowest root even far from the stability cap. `predicted_time` therefore uses the exact roots: a run at (M, mu_L) on
the measured sharpest direction lam_max, with its effective step tuned but capped at the synchronous optimum eta*
(the noise limit measured at M = 1), takes a time proportional to min over eta <= eta* of 1 / (1 - r(M, mu_L,
eta (1 - mu_L) lam_max)). The ratios of Figs. 4 and 8 at M workers follow (`predicted_ratios`): the regime-aware
alternative to the paper's fixed ratios, computed from two measured numbers and no fit.
"""
from __future__ import annotations

import numpy as np


def _q(n_workers: int) -> float:
    from theory.predictions import implicit_momentum
    return implicit_momentum(n_workers)


def largest_root(n_workers: int, mu_explicit: float, x: float) -> float:
    """The largest root modulus of (z - 1)(z - q)(z - mu_L) + x (1 - q) z^2 (x = alpha lam)."""
    q, mu = _q(n_workers), float(mu_explicit)
    coeffs = [1.0, -(1 + q + mu) + x * (1 - q), q + mu + q * mu, -q * mu]
    return float(np.abs(np.roots(coeffs)).max())


def minus_one_crossing(n_workers: int, mu_explicit: float) -> float:
    """The x at which a real root passes through z = -1: 2 (1 + q)(1 + mu_L) / (1 - q)."""
    q = _q(n_workers)
    return 2 * (1 + q) * (1 + mu_explicit) / (1 - q)


def largest_stable_x(n_workers: int, mu_explicit: float, tol: float = 1e-10) -> float:
    """sup{x > 0: every root of the polynomial lies strictly inside the unit circle} (bisection; the stable x form an
    interval (0, x_max), checked on a grid in the tests)."""
    hi = minus_one_crossing(n_workers, mu_explicit)
    lo = 0.0
    if largest_root(n_workers, mu_explicit, hi * (1 - 1e-12)) < 1:
        return hi
    while hi - lo > tol * max(1.0, hi):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if largest_root(n_workers, mu_explicit, mid) < 1 else (lo, mid)
    return lo


def largest_stable_step(n_workers: int, mu_explicit: float) -> float:
    """eta_max(M, mu_L) lam = x_max / (1 - mu_L): the largest stable effective step times the curvature."""
    return largest_stable_x(n_workers, mu_explicit) / (1 - mu_explicit)


def predicted_time(n_workers: int, mu_explicit: float, eta_star: float, sharpness: float, points: int = 400) -> float:
    """Relative time to target at (M, mu_L): min over effective steps eta in [eta* / 10^4, eta*] (log grid) of
    1 / (1 - r), r the largest root modulus at x = eta (1 - mu_L) lam_max; inf where no step is stable."""
    best = np.inf
    for eta in np.geomspace(float(eta_star) * 1e-4, float(eta_star), points):
        r = largest_root(n_workers, mu_explicit, eta * (1 - mu_explicit) * float(sharpness))
        if r < 1:
            best = min(best, 1 / (1 - r))
    return float(best)


def predicted_ratios(n_workers: int, mu_grid, eta_star: float, sharpness: float) -> dict:
    """Fig. 4's ratio T(mu_L = 0.9) / T(best mu_L >= 0) and Fig. 8's T(best mu_L >= 0) / T(best mu_L of any sign) at
    M = n_workers over the momentum grid, from the regime (eta*, lam_max)."""
    times = {mu: predicted_time(n_workers, mu, eta_star, sharpness) for mu in mu_grid}
    non_negative = min(t for mu, t in times.items() if mu >= 0)
    return {"fixed_0.9_over_non_negative": predicted_time(n_workers, 0.9, eta_star, sharpness) / non_negative,
            "non_negative_over_any_sign": non_negative / min(times.values())}
