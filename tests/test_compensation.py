"""Closed-loop compensation (sim.compensation): the system-side estimator on schedules with a known answer, the
controller at the true mu_S is Theorem 7's oracle, and the Omnivore rule halves only while the best momentum is 0."""
import math

import numpy as np
import pytest

from sim import compensation
from sim.queue import simulate
from theory import rates


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
    oracle = rates.best_explicit_momentum(0.75, 100.0)
    rate = rates.rate(0.75, mu, lr, rates.spread_eigenvalues(100.0))
    assert rate == pytest.approx(oracle[2], rel=1e-5)  # the optimum's mu_L is flat to 1e-2 along its ridge
    first_mu, _ = compensation.controller(0.75, 100.0, "first_order")
    assert first_mu == pytest.approx(rates.polyak_momentum(100.0) - 0.75)


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


def test_the_staleness_law_estimator_reads_a_pure_delay_as_its_two_term_momentum():
    """Round-robin staleness (tau = M - 1 always): the law estimator is the pure delay's two-term momentum, below
    the geometric reading (M - 1) / M; on exponential staleness both read 1 - 1/M."""
    from theory import laws
    lam = np.geomspace(0.1, 1.0, 8)
    _, estimates = compensation.law_estimates(np.full(400, 3), 0.05, lam, every=200)
    assert estimates[-1] == pytest.approx(laws.two_term_fit(laws.constant_pmf(4), 0.05, lam)[0], abs=1e-12)
    assert estimates[-1] < 0.75 - 0.02
    schedule = simulate(8, 2000, seed=5)
    _, estimates = compensation.law_estimates(schedule.staleness[~schedule.warmup], 0.05, lam)
    assert abs(estimates[-1] - 0.875) < 0.02


def test_the_iv_fit_is_exact_on_a_noise_free_two_term_trajectory_and_yellowfin_needs_the_right_step():
    """On x_{t+1} - x_t = mu (x_t - x_{t-1}) - eta g_t exactly, the IV fit returns (mu, eta); YellowFin's estimator
    returns mu only when given eta as its step (with the nominal alpha = eta / (1 - mu) it reads far less)."""
    from sim.objectives import Quadratic
    quad = Quadratic(tuple(np.geomspace(0.1, 1.0, 6)))
    mu, eta = 0.75, 0.02
    x = np.empty((301, 6))
    x[0] = x[1] = 1.0
    for t in range(1, 300):
        x[t + 1] = x[t] + mu * (x[t] - x[t - 1]) - eta * quad.gradient(x[t])
    g = quad.gradient(x)
    assert compensation.iv_two_term(x, g) == pytest.approx((mu, eta), abs=1e-8)
    online = compensation.trajectory_estimates(x, g, eta, every=100, beta=0.0)
    assert online["counts"].tolist() == [100, 200, 300]
    assert online["yellowfin"][-1] == pytest.approx(mu, abs=1e-6)
    assert compensation.trajectory_estimates(x, g, eta / (1 - mu), every=300, beta=0.0)["yellowfin"][-1] < mu - 0.2


def test_the_replayed_loop_resets_every_100_updates_from_the_staleness_logged_before():
    """schedule_controls: before the first reset the rule at what M alone says (mu_S = 1 - 1/M); afterwards the
    server's control on the steady-state staleness logged so far; the delay rule shrinks the step as the staleness
    grows, the kept step stays."""
    schedule = simulate(8, 400, seed=3)
    mu, lr = compensation.schedule_controls(schedule.staleness, schedule.warmup, 100.0, 0.3, 8.0, "keep",
                                            n_workers=8)
    assert np.all(lr == 8.0) and mu[0] == compensation.control_at(7 / 8, 7, 100.0, 8.0)[0]
    steady = schedule.staleness[:200][~schedule.warmup[:200]]
    assert mu[250] == compensation.control(steady, 100.0, 0.3, 8.0)[0]
    assert len(set(mu[100:200])) == 1 and len(set(mu[200:300])) == 1
    _, delay = compensation.schedule_controls(schedule.staleness, schedule.warmup, 100.0, 0.3, 8.0, "delay",
                                              n_workers=8)
    assert np.all(delay < 8.0 * 0.2)  # sin(pi / 30) ~ 0.10 at mean staleness 7
    with pytest.raises(ValueError, match="step rule"):
        compensation.control_at(0.5, 1.0, 100.0, 1.0, "bogus")


def test_the_first_order_rule_subtracts_the_implicit_momentum_from_the_synchronous_one():
    """mu_L = mu_sync - mu_S (rounded down to RESOLUTION), clamped to [-0.9, 0.9]; no curvature range needed."""
    assert compensation.control_at(0.7504, 3.0, None, 0.1, mu_sync=0.5) == (pytest.approx(-0.25), 0.1)
    assert compensation.control_at(0.99, 99.0, None, 0.1, mu_sync=0.0)[0] == -0.9
    _, lr = compensation.control_at(0.75, 3.0, None, 0.1, "delay", mu_sync=0.5)
    assert lr == pytest.approx(0.1 * np.sin(np.pi / 14))
    with pytest.raises(ValueError, match="curvature range"):
        compensation.control_at(0.75, 3.0, None, 0.1, "theorem7", mu_sync=0.5)
    with pytest.raises(ValueError, match="curvature range"):
        compensation.control_at(0.75, 3.0, None, 0.1)


def test_the_first_order_loop_replayed_on_a_queue_follows_its_staleness():
    schedule = simulate(8, 400, seed=2)
    mu, _ = compensation.schedule_controls(schedule.staleness, schedule.warmup, None, 0.6, 0.1, n_workers=8,
                                           mu_sync=0.6)
    assert mu[0] == pytest.approx(0.6 - 7 / 8)
    steady = schedule.staleness[:300][~schedule.warmup[:300]]
    assert mu[350] == pytest.approx(0.6 - math.floor(compensation.lower_bound(steady) / 1e-3) * 1e-3)
