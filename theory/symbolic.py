"""The house style of every symbolic check: an exact identity plus a numeric spot check.

`identity(name, lhs, rhs, symbols)` simplifies lhs - rhs and also evaluates it at random rational points, so a
check can only pass if the difference is exactly zero and numerically zero.
"""
from __future__ import annotations

import random

import sympy as sp


def spot_values(symbols, rng: random.Random) -> dict:
    """Random rational values in (-0.9, 0.9) for each symbol; positive symbols get (0.05, 0.95)."""
    values = {}
    for s in symbols:
        if s.is_integer:
            values[s] = sp.Integer(rng.randint(0, 5))
        elif s.is_positive:
            values[s] = sp.Rational(rng.randint(5, 95), 100)
        else:
            values[s] = sp.Rational(rng.randint(-90, 90), 100)
    return values


def identity(name: str, lhs, rhs, symbols=None, n_points: int = 5, seed: int = 0) -> dict:
    """Check lhs == rhs exactly (sympy) and at `n_points` random rational points."""
    diff = sp.simplify(sp.expand(lhs - rhs))
    symbols = sorted(set(symbols or ()) | (lhs - rhs).free_symbols, key=str)
    rng = random.Random(seed)
    worst = 0.0
    for _ in range(n_points):
        value = (lhs - rhs).subs(spot_values(symbols, rng))
        try:
            worst = max(worst, abs(complex(sp.N(value))))
        except (TypeError, ValueError, ZeroDivisionError):
            worst = float("inf")  # did not evaluate to a number: the identity is not established
    return {"name": name, "residual": str(diff), "spot_check_max_abs": worst,
            "holds": bool(diff == 0) and worst < 1e-12}
