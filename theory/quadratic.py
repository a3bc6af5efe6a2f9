"""Theorem 7: rates of the expected iterates on quadratics, symbolic and numeric.

For f(w) = 1/2 ||A w - b||^2 each eigen-direction of A^T A (eigenvalue lam_i) follows (19) with
grad = lam_i (w - w*): e_{t+1} = z_i e_t - c e_{t-1} + d e_{t-2}, z_i = 1 + mu_S + mu_L - alpha (1 - mu_S) lam_i,
c = mu_S + mu_L + mu_S mu_L, d = mu_S mu_L. The rate gamma is the largest root modulus of
r^3 - z_i r^2 + c r - d over i (equivalently max_i 1/|t*_i| for the paper's g_i(t)).
"""
from __future__ import annotations

import math

import numpy as np
import sympy as sp

from theory.momentum import alpha, characteristic_polynomial, mu_l, mu_s, r
from theory.symbolic import identity

lam = sp.Symbol("lambda_i", positive=True)
t, x = sp.symbols("t x")
e0, e1, e2 = sp.symbols("e_0 e_1 e_2")
C_TERM = mu_s + mu_l + mu_s * mu_l


def g_paper(c_term=C_TERM):
    """The paper's g_i(t), eq. (11); `c_term` replaces its t^2 coefficient (a control)."""
    z_i = 1 + mu_s + mu_l - alpha * (1 - mu_s) * lam
    return mu_s * mu_l * t ** 3 - c_term * t ** 2 + z_i * t - 1


def theorem7_growth_polynomial(c_term=C_TERM) -> dict:
    """g_i(t) = -t^3 p(1/t) with p the characteristic polynomial of (19): its roots are the reciprocals.

    `c_term` (a control) builds g_i with another t^2 coefficient, e.g. App. E's mu_S + mu_L.
    """
    p = characteristic_polynomial(curvature=lam)
    return identity("Theorem 7: g_i(t) == -t^3 p_i(1/t), so gamma = max 1/|t*_i| = max root modulus of p_i",
                    g_paper(c_term), sp.expand(-t ** 3 * p.subs(r, 1 / t)), symbols=[alpha, mu_s, mu_l, lam, t])


def derived_numerator():
    """E(x) = sum_t e_t x^t = q(x)/g(x) for recursion (20); returns q(x) from the initial values e_0, e_1, e_2."""
    z_i = 1 + mu_s + mu_l - alpha * (1 - mu_s) * lam
    return sp.expand(-(e0 + (e1 - z_i * e0) * x + (e2 - z_i * e1 + C_TERM * e0) * x ** 2))


# App. E's numerator as printed (SPEC.md): q(x) = q_0 + q_1 x + q_2 x^2 with the e_0 term of q_2 written
# -(mu_L + mu_S) where recursion (20) gives -(mu_S + mu_L + mu_S mu_L). Transcribed, not built from the derivation.
PAPER_Q2_E0_CONSTANT = -(mu_l + mu_s)


def paper_numerator(q2_e0_constant=PAPER_Q2_E0_CONSTANT):
    """The paper's q(x) with the constant of q_2's e_0 term as printed; the rest of q agrees with the derivation."""
    z_i = 1 + mu_s + mu_l - alpha * (1 - mu_s) * lam
    q0, q1 = -e0, -(e1 - z_i * e0)
    q2 = -e2 + z_i * e1 + q2_e0_constant * e0
    return sp.expand(q0 + q1 * x + q2 * x ** 2)


def app_e_slip(n_terms: int = 7, q2_e0_constant=PAPER_Q2_E0_CONSTANT) -> dict:
    """App. E's constant term of q_2: the paper's q(x)/g(x), as printed, against iterating recursion (20).

    The derived numerator reproduces the iterates term by term; the printed one must not (it misses the x^2 iterate
    by mu_S mu_L e_0). `q2_e0_constant` lets a control pretend the paper printed the derived -(mu_S+mu_L+mu_S mu_L).
    The denominator, hence the rate, is the same in both.
    """
    q_derived = derived_numerator()
    q_paper = paper_numerator(q2_e0_constant)
    z_i = 1 + mu_s + mu_l - alpha * (1 - mu_s) * lam
    iterates = [e0, e1, e2]
    for _ in range(n_terms - 3):
        iterates.append(sp.expand(z_i * iterates[-1] - C_TERM * iterates[-2] + mu_s * mu_l * iterates[-3]))
    g = g_paper().subs(t, x)
    series = sp.series(q_derived / g, x, 0, n_terms).removeO()
    derived = identity("App. E: series of q(x)/g(x) reproduces recursion (20)",
                       sum(sp.expand(series.coeff(x, k) - iterates[k]) ** 2 for k in range(n_terms)), sp.Integer(0))
    paper_series = sp.series(q_paper / g, x, 0, n_terms).removeO()
    paper_errors = [sp.simplify(paper_series.coeff(x, k) - iterates[k]) for k in range(n_terms)]
    first_wrong = next((k for k, err in enumerate(paper_errors) if err != 0), None)
    q2_e0 = sp.expand(q_derived.coeff(x, 2)).coeff(e0)
    return {"name": "App. E slip in the constant term of q_2", "derived_constant": str(q2_e0), "paper_constant": str(q2_e0_constant),
            "paper_series_error_at_x2": str(paper_errors[2]), "paper_first_wrong_iterate": first_wrong,
            "derived_matches_recursion": derived["holds"],
            "holds": derived["holds"] and first_wrong is not None,
            "residual": derived["residual"], "spot_check_max_abs": derived["spot_check_max_abs"]}


def heavy_ball_limit(undampened: bool = False) -> dict:
    """With mu_L = 0, (19) is heavy ball with momentum mu_S and step alpha (1 - mu_S); root product mu_S.

    `undampened` (a control) compares with heavy ball whose step is the nominal alpha.
    """
    p = characteristic_polynomial(curvature=lam).subs(mu_l, 0)
    step = alpha if undampened else alpha * (1 - mu_s)
    heavy = r * (r ** 2 - (1 + mu_s - step * lam) * r + mu_s)
    result = identity("Theorem 7, mu_L = 0: p(r) == r (r^2 - (1 + mu_S - alpha (1-mu_S) lam) r + mu_S)", p, heavy)
    quadratic_part = sp.Poly(sp.cancel(p / r), r)
    product = sp.simplify(quadratic_part.all_coeffs()[-1] / quadratic_part.all_coeffs()[0])
    result["root_product"] = str(product)
    result["holds"] = result["holds"] and sp.simplify(product - mu_s) == 0
    return result


# ---------------------------------------------------------------- numeric -----------------------------------

def root_moduli(mu_implicit, mu_explicit, lr, eigenvalues) -> np.ndarray:
    """Largest root modulus of p_i for every eigenvalue, broadcasting over array arguments.

    Output shape: broadcast(mu_implicit, mu_explicit, lr).shape + (n_eigenvalues,).
    """
    mu_i, mu_e, a = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (mu_implicit, mu_explicit, lr)))
    lam_ = np.asarray(eigenvalues, dtype=float)
    z_i = (1 + mu_i + mu_e)[..., None] - (a * (1 - mu_i))[..., None] * lam_
    c = np.broadcast_to((mu_i + mu_e + mu_i * mu_e)[..., None], z_i.shape)
    d = np.broadcast_to((mu_i * mu_e)[..., None], z_i.shape)
    companion = np.zeros(z_i.shape + (3, 3))
    companion[..., 0, 0], companion[..., 0, 1], companion[..., 0, 2] = z_i, -c, d
    companion[..., 1, 0] = companion[..., 2, 1] = 1.0
    return np.abs(np.linalg.eigvals(companion)).max(axis=-1)


def rate(mu_implicit: float, mu_explicit: float, lr: float, eigenvalues) -> float:
    """Worst-case rate gamma = max_i (largest root modulus of p_i): ||E w_t - w*|| = O(gamma^t)."""
    return float(root_moduli(mu_implicit, mu_explicit, lr, eigenvalues).max())


def spread_eigenvalues(condition_number: float, n: int = 17) -> np.ndarray:
    """Eigenvalues spread evenly over [1, Q] (Fig. 6 and 7's quadratics)."""
    return np.linspace(1.0, float(condition_number), n)


def polyak_momentum(condition_number: float) -> float:
    """Optimal heavy-ball momentum ((sqrt(Q) - 1)/(sqrt(Q) + 1))^2 (Polyak)."""
    s = math.sqrt(condition_number)
    return ((s - 1) / (s + 1)) ** 2


def _lr_grid(mu_implicit: float, condition_number: float, n: int) -> np.ndarray:
    # effective step alpha (1 - mu_S) times lam_max ranges over (1e-3, 4): stability needs less than 2(1+c+d)
    return np.geomspace(1e-3, 4.0, n) / condition_number / (1 - mu_implicit)


def best_lr(moduli, mu_explicit: float, lam: np.ndarray, lr_grid: np.ndarray) -> tuple[float, float]:
    """(lr, rate) minimising max(moduli(mu_L, lr, lam)) over lr: log grid, then bounded Brent in log lr. `moduli`
    returns the largest root modulus per eigenvalue, broadcasting over (mu_L, lr) (root_moduli's contract)."""
    from scipy.optimize import minimize_scalar
    rates = moduli(mu_explicit, lr_grid, lam).max(axis=-1)
    j = int(np.argmin(rates))
    lo, hi = np.log(lr_grid[max(j - 1, 0)]), np.log(lr_grid[min(j + 1, lr_grid.size - 1)])
    f = lambda log_lr: float(moduli(mu_explicit, np.exp(log_lr), lam).max())  # noqa: E731
    res = minimize_scalar(f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10})
    if res.fun < rates[j]:
        return float(np.exp(res.x)), float(res.fun)
    return float(lr_grid[j]), float(rates[j])


def best_explicit_momentum(mu_implicit: float, condition_number: float, mu_explicit: float | None = None,
                           n_eigenvalues: int = 17, mu_range: tuple[float, float] = (-0.95, 0.95)
                           ) -> tuple[float, float, float]:
    """(mu_L, lr, rate) minimising the worst-case rate over eigenvalues spread over [1, Q].

    `mu_explicit` fixes mu_L (only lr is tuned); `mu_range` restricts the search (e.g. (0, 0.95): non-negative).
    A grid over mu_L (step 0.02) and log lr (200 points) finds the basin; bounded Brent searches then refine lr
    for each mu_L and mu_L around the three best grid points. The optimum sits on a sharp corner of the rate
    surface, which a pure grid only approaches slowly.
    """
    lrs = _lr_grid(mu_implicit, condition_number, 200)
    moduli = lambda mu, lr, lam_: root_moduli(mu_implicit, mu, lr, lam_)  # noqa: E731
    return search_momentum(moduli, lrs, condition_number, mu_explicit, n_eigenvalues, mu_range)


def search_momentum(moduli, lrs: np.ndarray, condition_number: float, mu_explicit: float | None = None,
                    n_eigenvalues: int = 17, mu_range: tuple[float, float] = (-0.95, 0.95), step: float = 0.02
                    ) -> tuple[float, float, float]:
    """best_explicit_momentum's search for any model whose root moduli `moduli(mu_L, lr, lam)` broadcast like
    root_moduli's (theory.laws uses it for staleness laws other than the geometric); `step`: the mu_L grid."""
    from scipy.optimize import minimize_scalar
    lam_ = spread_eigenvalues(condition_number, n_eigenvalues)
    if mu_explicit is not None:
        return (float(mu_explicit), *best_lr(moduli, mu_explicit, lam_, lrs))
    lo, hi = mu_range
    mus = np.arange(lo, hi + 1e-9, step)
    coarse_lam = spread_eigenvalues(condition_number, 5)  # the grid only locates the basin; refinement uses lam_
    table = moduli(mus[:, None], lrs[None, :], coarse_lam).max(axis=-1)
    grid = table.min(axis=1)
    best = (math.nan, math.nan, math.inf)
    for i in np.argsort(grid)[:3]:
        a, b = max(lo, mus[i] - step), min(hi, mus[i] + step)
        local = lrs[int(np.argmin(table[i]))] * np.geomspace(1 / 1.5, 1.5, 25)  # the basin found by the grid
        res = minimize_scalar(lambda m: best_lr(moduli, m, lam_, local)[1], bounds=(a, b), method="bounded",
                              options={"xatol": 1e-6})
        for mu in (float(res.x), float(mus[i])):
            lr, rate = best_lr(moduli, mu, lam_, local)
            if rate < best[2]:
                best = (mu, lr, rate)
    return best


def best_additive_momentum(mu_implicit: float, condition_number: float, n_eigenvalues: int = 17
                           ) -> tuple[float, float, float]:
    """The optimum if the momenta added exactly (a control): heavy ball with total momentum mu_S + mu_L and the
    effective step tuned, searched over mu_L; returns (mu_L, effective lr, rate). Its mu_L is mu*(Q) - mu_S."""
    lo, hi = max(-0.95, mu_implicit - 0.95), min(0.999, mu_implicit + 0.95)
    mu_total, lr, rate = best_explicit_momentum(0.0, condition_number, n_eigenvalues=n_eigenvalues, mu_range=(lo, hi))
    return mu_total - mu_implicit, lr, rate


def rate_by_iteration(mu_implicit: float, mu_explicit: float, lr: float, eigenvalues, n_steps: int = 3000) -> float:
    """Iterate recurrence (19) on a diagonal quadratic from e = 1 and fit the decay of the state norm.

    The state (e_t, e_{t-1}, e_{t-2}) over all eigen-directions is renormalised every step (no underflow); the
    rate is the geometric mean growth over the second half, which converges to the largest root modulus.
    """
    lam_ = np.asarray(eigenvalues, dtype=float)
    z_i = 1 + mu_implicit + mu_explicit - lr * (1 - mu_implicit) * lam_
    c, d = mu_implicit + mu_explicit + mu_implicit * mu_explicit, mu_implicit * mu_explicit
    state = np.ones((3, lam_.size))
    log_growth = []
    for _ in range(n_steps):
        new = z_i * state[0] - c * state[1] + d * state[2]
        state = np.stack([new, state[0], state[1]])
        norm = np.linalg.norm(state)
        log_growth.append(math.log(norm))
        state /= norm
    return float(math.exp(np.mean(log_growth[n_steps // 2:])))
