"""The paper's theorems, symbolically: each identity holds, and a wrong formula fails the same check."""
import math

import numpy as np
import pytest
import sympy as sp

import theory
from theory import momentum, quadratic, rates, staleness


@pytest.mark.parametrize("check", [
    staleness.theorem2_finite, staleness.theorem2_generating, staleness.theorem3_generating,
    staleness.theorem3_finite, staleness.dampened_long_run_step, staleness.theorem5_staleness_pmf,
    staleness.geometric_moments, staleness.theorem5_momentum, momentum.theorem6_generating,
    momentum.theorem6_nine_equals_nineteen, momentum.theorem6_roots_at_zero_step,
    momentum.momenta_add_to_first_order, quadratic.theorem7_growth_polynomial, quadratic.heavy_ball_limit,
    pytest.param(quadratic.app_e_slip, marks=pytest.mark.slow)])   # ~30 s of SymPy
def test_each_symbolic_result_holds(check):
    assert check()["holds"] is True


def test_theorem3_fails_for_a_non_geometric_law():
    wrong = (1 - staleness.mu) / (1 - staleness.mu * staleness.z ** 2)
    assert staleness.theorem3_generating(law=wrong)["holds"] is False


def test_theorem5_fails_with_the_wrong_poisson_rate():
    assert staleness.theorem5_staleness_pmf(rate_others=lambda lam, M: lam * M)["holds"] is False


def test_moments_fail_with_the_wrong_success_probability():
    assert staleness.geometric_moments(p=lambda M: 1 / M ** 2)["holds"] is False


def test_theorem6_fails_for_a_non_geometric_law():
    wrong = (1 - momentum.mu_s) / (1 - momentum.mu_s * momentum.z) ** 2
    assert momentum.theorem6_generating(law=wrong)["holds"] is False


def test_theorem3_first_step_needs_consistent_history():
    # with D_0 = 0 instead of -alpha G_0 the first step of (7) is off by -alpha mu_S G_0 (docs/paper.md note)
    assert staleness.theorem3_finite()["first_step_mismatch_if_D0_is_0"] == "-G_0*alpha*mu_S"


@pytest.mark.slow
def test_app_e_as_printed_misses_the_x2_iterate_by_the_product_of_momenta():
    result = quadratic.app_e_slip()
    assert result["paper_series_error_at_x2"] == "-e_0*mu_L*mu_S" and result["paper_first_wrong_iterate"] == 2
    assert result["derived_matches_recursion"] and result["holds"]
    assert not quadratic.app_e_slip(q2_e0_constant=-quadratic.C_TERM)["holds"]  # had it printed the derived one


def test_implicit_momentum_is_one_minus_one_over_m():
    assert [theory.implicit_momentum(m) for m in (1, 2, 4, 16)] == [0.0, 0.5, 0.75, 0.9375]


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "4"])
def test_implicit_momentum_rejects_bad_worker_counts(bad):
    with pytest.raises(ValueError, match="n_workers"):
        theory.implicit_momentum(bad)


@pytest.mark.parametrize("case", [(0.5, 0.2, 0.3, (1, 5)), (0.75, -0.3, 0.5, (1, 4, 10)), (0.0, 0.4, 0.13, (1, 20))])
def test_rate_is_the_decay_of_iterating_recurrence_19(case):
    mu_s, mu_l, lr, lam = case
    assert rates.rate(mu_s, mu_l, lr, lam) == pytest.approx(rates.rate_by_iteration(mu_s, mu_l, lr, lam),
                                                                rel=1e-3)


def test_a_wrong_rate_formula_would_be_caught_by_iteration():
    # the 'momenta add' model (heavy ball with mu_L + mu_S, step alpha (1 - mu_S)) misses by more than the
    # claim's 1e-3 relative tolerance
    lam = (1, 5)
    additive = rates.rate(0.0, 0.5 + 0.4, 0.3 * 0.5, lam)
    iterated = rates.rate_by_iteration(0.5, 0.4, 0.3, lam)
    assert abs(additive - iterated) / iterated > 3e-3


def test_best_momentum_at_zero_implicit_is_polyak():
    mu_l, lr, rate = rates.best_explicit_momentum(0.0, 9.0)
    assert mu_l == pytest.approx(rates.polyak_momentum(9.0), abs=2e-3)
    assert rate == pytest.approx((3 - 1) / (3 + 1), abs=1e-3)


def test_best_rate_with_fixed_momentum_only_tunes_the_step():
    mu_l, lr, rate = rates.best_explicit_momentum(0.3, 10.0, mu_explicit=0.0)
    assert mu_l == 0.0 and rate >= math.sqrt(0.3) - 1e-12


def test_root_moduli_broadcast_over_grids():
    out = rates.root_moduli(0.5, np.zeros((3, 1)), np.full((1, 4), 0.1), [1.0, 2.0])
    assert out.shape == (3, 4, 2)


def test_symbolic_identity_detects_a_false_statement():
    from theory.symbolic import identity
    x = sp.Symbol("x")
    assert identity("false", (x + 1) ** 2, x ** 2 + 1)["holds"] is False


def test_the_additive_models_optimum_is_the_first_order_rule():
    mu_l, _, rate = rates.best_additive_momentum(0.3, 20.0)
    assert mu_l == pytest.approx(rates.polyak_momentum(20.0) - 0.3, abs=2e-3)
    assert rate == pytest.approx(math.sqrt(rates.polyak_momentum(20.0)), abs=1e-4)


def test_theorem7_optimum_departs_from_the_first_order_rule_at_large_condition_numbers():
    """Q = 100, M = 4: mu* - mu_S = -0.081 but Theorem 7's optimum is about -0.27; the rate is flat in between."""
    rule = rates.polyak_momentum(100.0) - 0.75
    mu_l, lr, rate = rates.best_explicit_momentum(0.75, 100.0)
    assert abs(mu_l - rule) > 0.1
    assert rates.best_explicit_momentum(0.75, 100.0, mu_explicit=rule)[2] - rate < 0.005


def test_below_m0_a_little_implicit_momentum_already_costs_rate():
    """The constant-total-momentum picture would keep the sequential rate sqrt(mu*) for mu_S < mu*."""
    sequential = rates.best_explicit_momentum(0.0, 100.0)[2]
    assert rates.best_explicit_momentum(0.05, 100.0)[2] > sequential + 0.03
