"""Closed-loop compensation (sim.compensation): the system-side estimator on schedules with a known answer, the
controller at the true mu_S is Theorem 7's oracle, and the Omnivore rule halves only while the best momentum is 0."""
import numpy as np
import pytest

from sim import compensation
from sim.queue import simulate
from theory import quadratic


@pytest.mark.parametrize("m", [2, 4, 8, 16])
def test_the_system_estimator_recovers_one_minus_one_over_m_from_one_run(m):
    schedule = simulate(m, 2000, seed=11 + m)
    counts, estimates = compensation.system_estimates(schedule.staleness[~schedule.warmup], every=100)
    assert counts[0] == 100 and abs(estimates[-1] - (1 - 1 / m)) < 0.02
    low = compensation.lower_bound(schedule.staleness[~schedule.warmup])
    assert estimates[-1] - 0.02 < low < estimates[-1]


def test_round_robin_staleness_gives_the_estimate_of_its_mean():
    """Constant work times: staleness M - 1 every time; the estimator (a moment estimator) reads (M - 1) / M."""
    counts, estimates = compensation.system_estimates(np.full(500, 3), every=250)
    assert counts.tolist() == [250, 500] and estimates.tolist() == [0.75, 0.75]


def test_the_controller_at_the_true_implicit_momentum_is_the_oracle():
    mu, lr = compensation.controller(0.75, 100.0)
    oracle = quadratic.best_explicit_momentum(0.75, 100.0)
    rate = quadratic.rate(0.75, mu, lr, quadratic.spread_eigenvalues(100.0))
    assert rate == pytest.approx(oracle[2], rel=1e-5)  # the optimum's mu_L is flat to 1e-2 along its ridge
    first_mu, _ = compensation.controller(0.75, 100.0, "first_order")
    assert first_mu == pytest.approx(quadratic.polyak_momentum(100.0) - 0.75)


def test_the_omnivore_rule_halves_only_while_the_best_momentum_is_zero():
    speed = lambda m: 1.0 / min(m, 8)  # noqa: E731
    rule = compensation.omnivore(32, 100.0, speed)
    kept = compensation.omnivore(32, 100.0, speed, halve=False)
    assert kept["n_workers"] == 32 and rule["n_workers"] < 32 and rule["mu_explicit"] > 0


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="staleness must be"):
        compensation.system_estimates(np.array([-1, 2]))
    with pytest.raises(ValueError, match="unknown rule"):
        compensation.controller(0.5, 10.0, "bang-bang")
    assert compensation.updates_to_target(1.0) == float("inf")
