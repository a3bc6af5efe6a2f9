"""The stability region of the expected recurrence (19) with explicit momentum (theory.stability): where asynchrony and
momentum stop trading one for one along the effective step alpha / (1 - mu_L)."""
import numpy as np
import pytest
import sympy as sp

from theory import stability


def test_a_real_root_leaves_through_minus_one_where_the_formula_says():
    z, x, q, mu = sp.symbols("z x q mu")
    poly = (z - 1) * (z - q) * (z - mu) + x * (1 - q) * z ** 2
    at_minus_one = sp.solve(sp.Eq(poly.subs(z, -1), 0), x)
    assert len(at_minus_one) == 1 and sp.simplify(at_minus_one[0] - 2 * (1 + q) * (1 + mu) / (1 - q)) == 0
    assert stability.minus_one_crossing(16, 0.0) == pytest.approx(62.0)   # 2 (1 + 15/16) x 16


@pytest.mark.parametrize("mu", [0.0, 0.5, 0.9, -0.45])
def test_one_worker_is_heavy_ball_stable_for_steps_below_2_1_plus_mu(mu):
    assert stability.largest_stable_x(1, mu) == pytest.approx(2 * (1 + mu), rel=1e-8)


@pytest.mark.parametrize("m, mu", [(16, 0.0), (16, 0.9), (16, -0.45), (4, 0.675)])
def test_the_stable_steps_form_an_interval_up_to_the_cap(m, mu):
    cap = stability.largest_stable_x(m, mu)
    inside = [stability.largest_root(m, mu, x) for x in np.linspace(cap * 1e-3, cap * 0.999, 200)]
    assert max(inside) < 1 and stability.largest_root(m, mu, cap * 1.01) > 1


def test_at_sixteen_workers_high_momentum_caps_the_effective_step_three_hundredfold_lower():
    assert stability.largest_stable_step(16, 0.0) == pytest.approx(62.0, rel=1e-6)
    assert stability.largest_stable_step(16, 0.9) == pytest.approx(0.185, abs=0.001)


@pytest.mark.parametrize("m, mu", [(1, 0.9), (16, 0.0), (16, -0.45)])
def test_small_steps_trade_one_for_one_along_the_effective_step(m, mu):
    eta = 1e-4   # x / (1 - mu_L) << 1/M: the slowest root is 1 - eta, whatever M and mu_L
    x = eta * (1 - mu)
    assert stability.largest_root(m, mu, x) == pytest.approx(1 - eta, abs=50 * eta ** 2 * m)
