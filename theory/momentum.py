"""Theorem 6: explicit momentum mu_L at the store plus geometric staleness (implicit momentum mu_S)."""
from __future__ import annotations

import sympy as sp

from theory.symbolic import identity

alpha = sp.Symbol("alpha", positive=True)
mu_s = sp.Symbol("mu_S", positive=True)
mu_l = sp.Symbol("mu_L", real=True)
z, r = sp.symbols("z r")


def theorem6_generating(law=None, additive: bool = False) -> dict:
    """Store update D_{t+1} = mu_L D_t - alpha sum_l q_l G_{t-l}: in generating functions D (1 - mu_L z) = -alpha Q G.

    With Q geometric this must equal (9): D (1 - (mu_L + mu_S) z + mu_L mu_S z^2) = -alpha (1 - mu_S) G.
    `additive` (a control) checks against the model in which the momenta add exactly (no mu_L mu_S term).
    """
    G = sp.Symbol("G")
    Q = (1 - mu_s) / (1 - mu_s * z) if law is None else law
    D = -alpha * Q * G / (1 - mu_l * z)
    product = 0 if additive else mu_l * mu_s
    lhs = sp.simplify(D * (1 - (mu_l + mu_s) * z + product * z ** 2))
    return identity("Theorem 6, eq. (9): D_(t+1) = (mu_L+mu_S) D_t - mu_L mu_S D_(t-1) - alpha (1-mu_S) G_t",
                    lhs, -alpha * (1 - mu_s) * G, symbols=[alpha, mu_s, mu_l, G, z])


def theorem6_nine_equals_nineteen(c_term=None) -> dict:
    """Eq. (9) in differences and eq. (19) in iterates are the same recurrence.

    `c_term` (a control) replaces (19)'s coefficient mu_S + mu_L + mu_S mu_L, e.g. by App. E's mu_S + mu_L.
    """
    c = mu_s + mu_l + mu_s * mu_l if c_term is None else c_term
    w0, w1, w2, w3, g = sp.symbols("w_tm2 w_tm1 w_t w_tp1 G_t")
    from_nine = w2 + (mu_l + mu_s) * (w2 - w1) - mu_l * mu_s * (w1 - w0) - alpha * (1 - mu_s) * g
    from_nineteen = ((1 + mu_s + mu_l) * w2 - alpha * (1 - mu_s) * g - c * w1
                     + mu_s * mu_l * w0)
    return identity("Theorem 6: eq. (9) == eq. (19)", from_nine, from_nineteen)


def characteristic_polynomial(lr=alpha, curvature=sp.Integer(0), c_term=None):
    """Characteristic polynomial of (19) on the mode grad f = curvature * (w - w*); `c_term` replaces its
    coefficient mu_S + mu_L + mu_S mu_L (a control)."""
    z_i = 1 + mu_s + mu_l - lr * (1 - mu_s) * curvature
    c = mu_s + mu_l + mu_s * mu_l if c_term is None else c_term
    return r ** 3 - z_i * r ** 2 + c * r - mu_s * mu_l


def theorem6_roots_at_zero_step(c_term=None) -> dict:
    """At alpha = 0 the characteristic polynomial of (19) factors as (r - 1)(r - mu_S)(r - mu_L)."""
    p = characteristic_polynomial(curvature=0, c_term=c_term)
    result = identity("Theorem 6: at alpha = 0, char. polynomial == (r-1)(r-mu_S)(r-mu_L)",
                      p, (r - 1) * (r - mu_s) * (r - mu_l))
    result["factored"] = str(sp.factor(p))
    return result


def momenta_add_to_first_order(additive_exact: bool = False) -> dict:
    """'The momenta add' only to first order: the recurrence differs from heavy ball with mu_L + mu_S by mu_L mu_S.

    Exact: D (1 - mu_L z)(1 - mu_S z); the additive model: D (1 - (mu_L + mu_S) z). Their difference must be the
    second-order term mu_L mu_S z^2, which vanishes only when one of the momenta is zero. `additive_exact` (a
    control) takes the exact recurrence to be the additive one, as if the momenta added exactly.
    """
    exact = (1 - (mu_l + mu_s) * z) if additive_exact else (1 - mu_l * z) * (1 - mu_s * z)
    difference = sp.expand(exact - (1 - (mu_l + mu_s) * z))
    result = identity("Theorem 6: exact minus additive model == mu_L mu_S z^2 (second order)", difference,
                      mu_l * mu_s * z ** 2, symbols=[mu_l, mu_s, z])
    result["second_order_term"] = str(difference)
    result["holds"] = result["holds"] and difference != 0
    return result
