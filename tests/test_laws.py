"""Staleness laws beyond the geometric (theory.laws, sim.queue.queue_pmf): the paper's case is recovered exactly,
the pure delay has its classical bound, and the queue's pmf is exact where a closed form exists."""
import numpy as np
import pytest

from sim.queue import queue_pmf
from theory import laws, predictions, rates
from sim.objectives import Quadratic


@pytest.mark.parametrize("m", [2, 4, 16])
def test_the_geometric_law_is_recursion_19(m):
    lam = rates.spread_eigenvalues(10, 17)
    q = laws.geometric_pmf(m)
    assert laws.geometric_tail(q)[0] == 0
    for mu, lr in ((0.0, 0.3), (-0.3, 0.5), (0.5, 0.05)):
        assert laws.rate(q, mu, lr, lam) == pytest.approx(rates.rate(1 - 1 / m, mu, lr, lam), abs=1e-10)


def test_the_geometric_law_gives_theorem_7s_tuned_numbers():
    mu, lr, rate = laws.best_explicit_momentum(laws.geometric_pmf(4), 10.0)
    mu7, lr7, rate7 = rates.best_explicit_momentum(0.75, 10.0)
    assert abs(mu - mu7) < 1e-4 and abs(rate - rate7) < 1e-8 and abs(lr / lr7 - 1) < 1e-3


def test_the_reduction_to_19_is_symbolic():
    assert laws.geometric_reduction() == 0


@pytest.mark.parametrize("tau", [1, 2, 5, 15])
def test_a_constant_delay_has_the_classical_stability_bound(tau):
    assert laws.max_stable_step(laws.constant_pmf(tau + 1)) == pytest.approx(laws.delay_stability_bound(tau), rel=1e-8)


def test_a_law_with_the_same_mean_has_another_bound():
    """The control of the stability claim: the geometric law with the same mean is stable for larger steps."""
    assert laws.max_stable_step(laws.geometric_pmf_with_mean(5)) > 1.5 * laws.delay_stability_bound(5)


def test_the_law_recurrence_is_the_momentum_recursion_for_the_geometric_law():
    quad = Quadratic((1.0, 0.1))
    law = laws.recurrence(laws.geometric_pmf(4), 0.3, 0.2, quad.eigenvalues, 40, np.ones(2))
    ref = predictions.momentum_recursion(quad, 40, 0.2, 0.75, 0.3, np.ones(2))
    np.testing.assert_allclose(law, ref, rtol=1e-9, atol=1e-12)


def test_finite_support_polynomial_matches_iterating_the_recurrence():
    """The rate from the roots equals the decay of the iterated recurrence (a pmf with no geometric tail)."""
    q = np.array([0.2, 0.5, 0.3])
    x = laws.recurrence(q, 0.1, 0.3, [1.0], 400, [1.0])[:, 0]
    state = np.sqrt(x[2:] ** 2 + x[1:-1] ** 2 + x[:-2] ** 2)  # the norm of (x_t, x_{t-1}, x_{t-2}): no phase
    observed = (state[-1] / state[-301]) ** (1 / 300)
    assert observed == pytest.approx(laws.rate(q, 0.1, 0.3, [1.0]), rel=2e-3)


def test_queue_pmf_is_exact_where_a_closed_form_exists():
    pmf, se = queue_pmf(4, "exponential")
    np.testing.assert_allclose(pmf[:5], 0.25 * 0.75 ** np.arange(5))
    assert se.max() == 0
    pmf, se = queue_pmf(5, "constant")
    assert pmf.tolist() == [0, 0, 0, 0, 1.0] and se.max() == 0


def test_an_estimated_pmf_has_mean_m_minus_1_within_its_errors():
    """Any law: the mean staleness of the stationary queue is M - 1 (mc-any-law-mean); the pmf sums to 1."""
    pmf, se = queue_pmf(4, "gamma", n_updates=2000, n_replicas=16, seed=3, shape=2.0)
    assert pmf.sum() == pytest.approx(1.0) and se.max() > 0
    assert abs(laws.mean_staleness(pmf) - 3.0) < 0.05


def test_bad_pmfs_are_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="sum to 1"):
        laws.rate([0.5, 0.2], 0.0, 0.1, [1.0])
    with pytest.raises(ValueError, match="1-D array"):
        laws.rate([[1.0]], 0.0, 0.1, [1.0])
    with pytest.raises(ValueError, match="1-D array"):
        laws.rate([1.2, -0.2], 0.0, 0.1, [1.0])


@pytest.mark.parametrize("m", [2, 8])
def test_the_momentum_picture_fits_the_geometric_law_exactly(m):
    """Theorem 3 as a fit: the two-term model reproduces Geom(1/M)'s expected trajectory, m = 1 - 1/M, eta = lr / M."""
    momentum, eta, error = laws.two_term_fit(laws.geometric_pmf(m), 0.05, [1.0, 0.1])
    assert momentum == pytest.approx(1 - 1 / m, abs=1e-9) and eta == pytest.approx(0.05 / m, rel=1e-9)
    assert error < 1e-9


def test_a_pure_delay_is_not_momentum():
    """Constant work times: the best two-term fit misses the pure delay's trajectory, more at larger M."""
    errors = [laws.two_term_fit(laws.constant_pmf(m), 0.05, [1.0, 0.1])[2] for m in (2, 4, 8)]
    assert errors[0] > 1e-3 and errors[0] < errors[1] < errors[2]


def test_the_measured_trace_is_a_law_of_the_queue():
    """The committed trace of a real run (data/traces) drives the queue; its staleness has mean M - 1 and is far less
    spread than the geometric law's (work times with CV 0.25: near round-robin)."""
    from sim.laws import MEASURED_TRACE as TRACE
    pmf, se = queue_pmf(4, "trace", n_updates=1000, n_replicas=8, seed=2, path=str(TRACE))
    mean = laws.mean_staleness(pmf)
    assert abs(mean - 3.0) < 0.05 and se.max() > 0
    variance = float((np.arange(pmf.size) ** 2 * pmf).sum() - mean ** 2)
    assert variance < 0.25 * 12  # Geom(1/4): variance M (M - 1) = 12
