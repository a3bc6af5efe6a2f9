"""Theorems 2, 3 and 5: what a staleness law does to the expected update, symbolically.

Notation: G_j = E grad f(w_j), D_{t+1} = E[w_{t+1} - w_t], q_l = P(tau = l), alpha the step size.
"""
from __future__ import annotations

import sympy as sp

from theory.symbolic import identity

alpha = sp.Symbol("alpha", positive=True)
mu = sp.Symbol("mu_S", positive=True)
z = sp.Symbol("z")


def _grad(j: int):
    return sp.Symbol(f"G_{j}" if j >= 0 else f"G_m{-j}")


def theorem2_finite(support: int = 5, index_shift: bool = False) -> dict:
    """Theorem 2 for a general law on {0..K}: the paper's form equals -alpha sum_l q_l G_{t-l}.

    `index_shift` (a control) reads the correction sum at G_{t-l} instead of G_{t-l-1}: an off-by-one slip.
    """
    shift = 0 if index_shift else 1
    q = [sp.Symbol(f"q_{l}", nonnegative=True) for l in range(support + 1)] + [sp.Integer(0)]
    t = support + 2

    def simple(step: int):  # D_{step+1} = -alpha sum_l q_l G_{step-l}
        return -alpha * sum(q[l] * _grad(step - l) for l in range(support + 1))

    paper = (simple(t - 1) - alpha * q[0] * _grad(t)
             + alpha * sum((q[l] - q[l + 1]) * _grad(t - l - shift) for l in range(support + 1)))
    return identity(f"Theorem 2, law on {{0..{support}}}: paper form == -alpha sum q_l G_(t-l)",
                    paper, simple(t))


def theorem2_generating(index_shift: bool = False) -> dict:
    """Theorem 2 for any law, infinite support included, through generating functions.

    With Q(z) = sum q_l z^l, G(z) = sum_t G_t z^t and D(z) = sum_t D_{t+1} z^t, the paper's recurrence reads
    (1 - z) D = -alpha q_0 G + alpha z sum_l (q_l - q_{l+1}) z^l G, and sum_l (q_l - q_{l+1}) z^l = Q - (Q - q_0)/z.
    Solving for D must give the simple form D = -alpha Q G. `index_shift` (a control) drops the delay z of the
    correction sum, the generating-function form of the off-by-one slip.
    """
    Q, G, D, q0 = sp.symbols("Q G D q_0")
    delay = 1 if index_shift else z
    paper = sp.Eq((1 - z) * D, -alpha * q0 * G + alpha * delay * (Q - (Q - q0) / z) * G)
    solved = sp.solve(paper, D)[0]
    return identity("Theorem 2, any law (generating functions): D(z) == -alpha Q(z) G(z)", solved, -alpha * Q * G,
                    symbols=[alpha, Q, G, q0])


def theorem3_generating(law=None, undampened: bool = False) -> dict:
    """Theorem 3: a geometric law Q(z) = (1-mu)/(1-mu z) turns D = -alpha Q G into momentum form (7).

    (7) in generating functions: D - mu z D = -(1-mu) alpha G. `law` lets a test pass a wrong Q(z);
    `undampened` (a control) checks against heavy ball's -alpha G instead.
    """
    G = sp.Symbol("G")
    Q = (1 - mu) / (1 - mu * z) if law is None else law
    D = -alpha * Q * G
    step = alpha if undampened else (1 - mu) * alpha
    return identity("Theorem 3: geometric staleness gives D_(t+1) = mu_S D_t - (1-mu_S) alpha G_t",
                    sp.simplify(D - mu * z * D), -step * G, symbols=[alpha, mu, G, z])


def theorem3_finite(n_steps: int = 6, undampened: bool = False) -> dict:
    """Theorem 3 step by step, with the consistent history the identity needs (D_0 = -alpha G_0).

    With a constant pre-history (w_j = w_0 for j < 0) the simple form gives D_{t+1} = -alpha sum_l q_l G_{t-l}
    with G_j = G_0 for j < 0. Then (7) holds for every t >= 1 exactly; at t = 0 it holds only if D_0 is taken as
    -alpha G_0 rather than 0, which is the note in docs/paper.md.
    """
    q = lambda l: (1 - mu) * mu ** l  # noqa: E731
    tail = lambda l: mu ** l          # noqa: E731  P(tau >= l)

    def simple(step: int):
        head = sum(q(l) * _grad(step - l) for l in range(step + 1))
        return -alpha * (head + tail(step + 1) * _grad(0))

    lhs = sum(sp.simplify(simple(t) - mu * simple(t - 1)) for t in range(1, n_steps))
    step = alpha if undampened else (1 - mu) * alpha  # undampened: a control (heavy ball's gradient term)
    rhs = sum(-step * _grad(t) for t in range(1, n_steps))
    first = sp.simplify(simple(0) - (mu * 0 - (1 - mu) * alpha * _grad(0)))
    result = identity(f"Theorem 3, steps 1..{n_steps - 1} with constant pre-history", lhs, rhs)
    result["first_step_mismatch_if_D0_is_0"] = str(first)
    return result


def dampened_long_run_step(undampened: bool = False) -> dict:
    """Under a constant gradient g, form (7) moves -alpha g per step in the long run (dampened momentum).

    `undampened` (a control) puts heavy ball's -alpha g in place of (7)'s gradient term.
    """
    g, d = sp.symbols("g d")
    step = alpha if undampened else (1 - mu) * alpha
    fixed = sp.solve(sp.Eq(d, mu * d - step * g), d)[0]
    heavy_ball = sp.solve(sp.Eq(d, mu * d - alpha * g), d)[0]
    result = identity("Theorem 3 is dampened momentum: long-run step under constant g is -alpha g",
                      fixed, -alpha * g, symbols=[alpha, mu, g])
    result["undampened_heavy_ball_long_run_step"] = str(sp.simplify(heavy_ball))
    return result


def queue_staleness_pmf(rate_others=None):
    """P(tau = l) of Assumption 4 by integration: a Poisson count of the other workers' writes (rate lambda (M-1))
    during one Exp(lambda) work time. Returns (pmf, (M, lambda, l)). `rate_others` lets a control pass a wrong rate.
    """
    lam, x = sp.symbols("lambda x", positive=True)
    M = sp.Symbol("M", positive=True)
    l = sp.Symbol("l", integer=True, nonnegative=True)
    rate = lam * (M - 1) if rate_others is None else rate_others(lam, M)
    integrand = lam * sp.exp(-lam * x) * sp.exp(-rate * x) * (rate * x) ** l / sp.factorial(l)
    return sp.simplify(sp.integrate(integrand, (x, 0, sp.oo), conds="none")), (M, lam, l)


def theorem5_staleness_pmf(rate_others=None) -> dict:
    """Theorem 5: a Poisson count (rate lam (M-1)) at an independent Exp(lam) time is Geom(1/M).

    The pmf is derived by integration; `rate_others` lets a test pass a wrong rate.
    """
    pmf, (M, lam, l) = queue_staleness_pmf(rate_others)
    geometric = (1 / M) * (1 - 1 / M) ** l
    checks = [identity("Theorem 5: P(tau = l) == (1/M)(1 - 1/M)^l", sp.simplify(pmf / geometric), sp.Integer(1),
                       symbols=[M, lam])]
    for l_value in range(4):  # spot check with M an integer >= 2, where the law is a proper geometric
        for m_value in (2, 3, 5, 16):
            value = pmf.subs({l: l_value, M: m_value, lam: sp.Rational(7, 3)})
            checks.append({"holds": sp.simplify(value - geometric.subs({l: l_value, M: m_value})) == 0})
    result = checks[0]
    result["holds"] = all(c["holds"] for c in checks)
    result["pmf"] = str(pmf)
    return result


def geometric_moments(p=None) -> dict:
    """Mean M - 1 and variance M(M - 1) of Geom(1/M) on {0, 1, ...}, by summing the series.

    The series are summed in the success probability p (0 < p < 1, where they converge), then p = 1/M.
    `p` lets a test pass a wrong success probability, as a function of M.
    """
    M = sp.Symbol("M", positive=True)
    P = sp.Symbol("p", positive=True)
    l = sp.Symbol("l", integer=True, nonnegative=True)
    pmf = P * (1 - P) ** l

    def series(weight):  # summation gives Piecewise((closed form, |1 - p| < 1), (Sum, True)); 0 < p < 1 here
        value = sp.summation(weight * pmf, (l, 0, sp.oo))
        return sp.simplify(value.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[0][0]))

    total, mean, second = series(1), series(l), series(l ** 2)
    to_m = {P: 1 / M if p is None else p(M)}
    mean_m = sp.simplify(mean.subs(to_m))
    var_m = sp.simplify((second - mean ** 2).subs(to_m))
    checks = [identity("Geom(p) sums to 1", total, sp.Integer(1), symbols=[P]),
              identity("Geom(1/M) mean == M - 1", mean_m, M - 1, symbols=[M]),
              identity("Geom(1/M) variance == M (M - 1)", var_m, M * (M - 1), symbols=[M])]
    return {"name": "Theorem 5: staleness mean M - 1, variance M(M - 1)", "mean": str(mean_m),
            "variance": str(var_m), "holds": all(c["holds"] for c in checks),
            "residual": "; ".join(c["residual"] for c in checks),
            "spot_check_max_abs": max(c["spot_check_max_abs"] for c in checks)}


def implicit_momentum_formula(n_workers):
    """mu_S = 1 - 1/M: the implicit momentum of M workers with exponential work times (Theorem 5)."""
    return 1 - sp.Integer(1) / n_workers if isinstance(n_workers, sp.Basic) else 1.0 - 1.0 / n_workers


def theorem5_momentum(rate_others=None) -> dict:
    """mu_S and the effective step from the pmf obtained by integration (not from the geometric form):
    q_(l+1)/q_l must be a constant (the law is geometric, Theorem 3 applies) equal to 1 - 1/M, and the step
    alpha q_0 = alpha (1 - mu_S) must be alpha / M. `rate_others` lets a control pass a wrong Poisson rate.
    """
    pmf, (M, lam, l) = queue_staleness_pmf(rate_others)
    ratio = sp.simplify(sp.powsimp(sp.expand_power_base(pmf.subs(l, l + 1) / pmf, force=True), force=True))
    result = identity("Theorem 5: mu_S = q_(l+1)/q_l (from the integrated pmf) == 1 - 1/M", ratio,
                      implicit_momentum_formula(M), symbols=[M, lam, l])
    step = identity("Theorem 5: effective step alpha q_0 = alpha (1 - mu_S) == alpha / M",
                    sp.simplify(alpha * pmf.subs(l, 0)), alpha / M, symbols=[M, lam, alpha])
    result["holds"] = result["holds"] and step["holds"] and l not in ratio.free_symbols
    result["mu_implicit"] = str(ratio)
    result["effective_step"] = str(sp.simplify(alpha * pmf.subs(l, 0)))
    return result
