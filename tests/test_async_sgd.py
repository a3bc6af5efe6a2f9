"""Asynchronous SGD simulator: invariants the paper's model implies, exactly."""
import numpy as np
import pytest

from theory import predictions
from sim import async_sgd
from sim.objectives import DoubleWell, Quadratic
from sim.queue import simulate_batch

QUAD = Quadratic((1.0, 0.2))


@pytest.mark.parametrize("mu_l", [0.0, 0.5, -0.3])
def test_one_worker_is_synchronous_heavy_ball_exactly(mu_l):
    schedule = simulate_batch(1, 30, 4, seed=0)
    x = async_sgd.run_workers(QUAD, schedule, 0.3, mu_l, [1.0, -2.0]).x
    expected = async_sgd.heavy_ball(QUAD, 30, 0.3, mu_l, [1.0, -2.0])
    assert np.array_equal(x[:, 0], expected) and np.array_equal(x[:, 3], expected)


@pytest.mark.parametrize("mu_l", [0.0, 0.7])
def test_zero_staleness_with_momentum_is_heavy_ball_exactly(mu_l):
    x = async_sgd.run_iid(DoubleWell(1), np.zeros((2, 25), dtype=int), 0.2, mu_l, 0.3).x
    expected = async_sgd.heavy_ball(DoubleWell(1), 25, 0.2, mu_l, [0.3])
    assert np.array_equal(x[:, 0], expected)


def test_staleness_used_in_training_is_the_schedule():
    schedule = simulate_batch(6, 80, 50, seed=4)
    traj = async_sgd.run_workers(QUAD, schedule, 0.1, 0.2, [1.0, 1.0])
    assert np.array_equal(traj.read_index, schedule.read_index)


def test_seeds_reproduce_noisy_runs():
    schedule = simulate_batch(4, 40, 10, seed=1)
    a = async_sgd.run_workers(QUAD, schedule, 0.1, 0.0, [1, 1], noise_std=0.3, seed=9).x
    b = async_sgd.run_workers(QUAD, schedule, 0.1, 0.0, [1, 1], noise_std=0.3, seed=9).x
    assert np.array_equal(a, b)


@pytest.mark.parametrize("m, mu_l", [(2, 0.0), (4, 0.5), (8, -0.3)])
def test_momentum_recursion_equals_theorem2_with_the_geometric_law(m, mu_l):
    simple = predictions.expected_simple_form(QUAD, predictions.geometric_pmf(1 / m, 60), 60, 0.2, mu_l, [1.0, 1.0])
    paper = predictions.momentum_recursion(QUAD, 60, 0.2, 1 - 1 / m, mu_l, [1.0, 1.0])
    np.testing.assert_allclose(simple, paper, atol=1e-12)


def test_monte_carlo_mean_matches_the_recursion_and_not_a_wrong_one():
    from sim.stats import max_abs_z
    schedule = simulate_batch(4, 25, 20000, seed=2)
    x = async_sgd.run_workers(QUAD, schedule, 0.3, 0.0, [1.0, 1.0], noise_std=0.3, seed=3).x
    mean, se = x.mean(axis=1), x.std(axis=1, ddof=1) / np.sqrt(x.shape[1])
    right = predictions.momentum_recursion(QUAD, 25, 0.3, 0.75, 0.0, [1.0, 1.0])
    wrong = predictions.momentum_recursion(QUAD, 25, 0.3, 1 - 1 / 16, 0.0, [1.0, 1.0])
    assert max_abs_z(mean[1:], se[1:], right[1:]) < 4.5
    assert max_abs_z(mean[1:], se[1:], wrong[1:]) > 20


@pytest.mark.parametrize("lr, mu", [(float("nan"), 0.0), (-0.1, 0.0), (0.1, 1.0), (0.1, float("nan"))])
def test_bad_step_or_momentum_is_rejected(lr, mu):
    with pytest.raises(ValueError, match="lr|mu_explicit"):
        async_sgd.run_workers(QUAD, simulate_batch(2, 5, 1), lr, mu, [1.0, 1.0])


def test_a_controller_may_change_the_explicit_momentum_during_the_run():
    """mu_L of shape (replicas, updates): the same bits as a scalar when constant; a change takes effect at its
    update; a wrong shape is refused."""
    from sim.objectives import Quadratic
    from sim.queue import simulate_batch
    quad = Quadratic((1.0, 0.1))
    schedule = simulate_batch(4, 60, 3, seed=2)
    scalar = async_sgd.run_workers(quad, schedule, 0.1, 0.3, np.ones(2)).x
    per_update = async_sgd.run_workers(quad, schedule, 0.1, np.full((3, 60), 0.3), np.ones(2)).x
    assert np.array_equal(scalar, per_update)
    switched = np.full((3, 60), 0.3)
    switched[:, 30:] = -0.2
    x = async_sgd.run_workers(quad, schedule, 0.1, switched, np.ones(2)).x
    assert np.array_equal(x[:31], scalar[:31]) and not np.array_equal(x[31:], scalar[31:])
    with pytest.raises(ValueError, match="shape"):
        async_sgd.run_workers(quad, schedule, 0.1, np.full((3, 59), 0.3), np.ones(2))
