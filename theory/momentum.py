"""Theorem 6: explicit momentum mu_L at the store plus geometric staleness (implicit momentum mu_S)."""
from __future__ import annotations

import sympy as sp

from theory.symbolic import identity

alpha = sp.Symbol("alpha", positive=True)
mu_s = sp.Symbol("mu_S", positive=True)
mu_l = sp.Symbol("mu_L", real=True)
z, r = sp.symbols("z r")


def theorem6_generating(law=None) -> dict:
    """Store update D_{t+1} = mu_L D_t - alpha sum_l q_l G_{t-l}: in generating functions D (1 - mu_L z) = -alpha Q G.

    With Q geometric this must equal (9): D (1 - (mu_L + mu_S) z + mu_L mu_S z^2) = -alpha (1 - mu_S) G.
    """
    G = sp.Symbol("G")
    Q = (1 - mu_s) / (1 - mu_s * z) if law is None else law
    D = -alpha * Q * G / (1 - mu_l * z)
    lhs = sp.simplify(D * (1 - (mu_l + mu_s) * z + mu_l * mu_s * z ** 2))
    return identity("Theorem 6, eq. (9): D_(t+1) = (mu_L+mu_S) D_t - mu_L mu_S D_(t-1) - alpha (1-mu_S) G_t",
                    lhs, -alpha * (1 - mu_s) * G, symbols=[alpha, mu_s, mu_l, G, z])


def theorem6_nine_equals_nineteen() -> dict:
    """Eq. (9) in differences and eq. (19) in iterates are the same recurrence."""
    w0, w1, w2, w3, g = sp.symbols("w_tm2 w_tm1 w_t w_tp1 G_t")
    from_nine = w2 + (mu_l + mu_s) * (w2 - w1) - mu_l * mu_s * (w1 - w0) - alpha * (1 - mu_s) * g
    from_nineteen = ((1 + mu_s + mu_l) * w2 - alpha * (1 - mu_s) * g - (mu_s + mu_l + mu_s * mu_l) * w1
                     + mu_s * mu_l * w0)
    _ = w3
    return identity("Theorem 6: eq. (9) == eq. (19)", from_nine, from_nineteen)


def characteristic_polynomial(lr=alpha, curvature=sp.Integer(0)):
    """Characteristic polynomial of (19) on the mode grad f = curvature * (w - w*)."""
    z_i = 1 + mu_s + mu_l - lr * (1 - mu_s) * curvature
    return r ** 3 - z_i * r ** 2 + (mu_s + mu_l + mu_s * mu_l) * r - mu_s * mu_l


def theorem6_roots_at_zero_step() -> dict:
    """At alpha = 0 the characteristic polynomial of (19) factors as (r - 1)(r - mu_S)(r - mu_L)."""
    result = identity("Theorem 6: at alpha = 0, char. polynomial == (r-1)(r-mu_S)(r-mu_L)",
                      characteristic_polynomial(curvature=0), (r - 1) * (r - mu_s) * (r - mu_l))
    result["factored"] = str(sp.factor(characteristic_polynomial(curvature=0)))
    return result


def momenta_add_to_first_order() -> dict:
    """'The momenta add' only to first order: the recurrence differs from heavy ball with mu_L + mu_S by mu_L mu_S.

    Exact: D (1 - mu_L z)(1 - mu_S z); the additive model: D (1 - (mu_L + mu_S) z). Their difference must be the
    second-order term mu_L mu_S z^2, which vanishes only when one of the momenta is zero.
    """
    difference = sp.expand((1 - mu_l * z) * (1 - mu_s * z) - (1 - (mu_l + mu_s) * z))
    result = identity("Theorem 6: exact minus additive model == mu_L mu_S z^2 (second order)", difference,
                      mu_l * mu_s * z ** 2, symbols=[mu_l, mu_s, z])
    result["second_order_term"] = str(difference)
    result["holds"] = result["holds"] and difference != 0
    return result
