"""Theorem 7: rates of the expected iterates on quadratics, symbolic (the numbers: theory.rates, re-exported here).

For f(w) = 1/2 ||A w - b||^2 each eigen-direction of A^T A (eigenvalue lam_i) follows (19) with
grad = lam_i (w - w*): e_{t+1} = z_i e_t - c e_{t-1} + d e_{t-2}, z_i = 1 + mu_S + mu_L - alpha (1 - mu_S) lam_i,
c = mu_S + mu_L + mu_S mu_L, d = mu_S mu_L. The rate gamma is the largest root modulus of
r^3 - z_i r^2 + c r - d over i (equivalently max_i 1/|t*_i| for the paper's g_i(t)).
"""
from __future__ import annotations

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


# App. E's numerator as printed (docs/paper.md): q(x) = q_0 + q_1 x + q_2 x^2 with the e_0 term of q_2 written
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
