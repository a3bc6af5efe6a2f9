"""Each Monte Carlo claim fails when the model behind it is deliberately wrong (small, fast configs)."""
import numpy as np
import pytest

from reports.harness.config import override
from reports.registry import claim_by_id
from sim.queue import simulate as real_simulate


def test_staleness_claim_fails_if_work_times_are_not_memoryless(monkeypatch):
    from reports.experiments import mc_staleness as exp
    from sim import staleness_study
    monkeypatch.setattr(staleness_study, "simulate", lambda m, n, work_time="exponential", seed=0, **kw:
                        real_simulate(m, n, "gamma", seed=seed, shape=4.0)
                        if work_time == "exponential" else real_simulate(m, n, work_time, seed=seed, **kw))
    result = exp.run(override(exp.EXPERIMENT.profiles["quick"], {"n_updates": 20000, "workers": [2, 4]}))
    assert not claim_by_id("mc-queue-geometric").verdict(result).passed


def test_trajectory_claims_fail_against_a_wrong_implicit_momentum(monkeypatch):
    from reports.experiments import mc_trajectories as exp
    from sim import trajectory_study
    from theory import predictions
    real = predictions.momentum_recursion

    class WrongTheory:
        def __getattr__(self, name):
            return getattr(predictions, name)

        @staticmethod
        def momentum_recursion(obj, n, lr, mu_s, mu_l, w0):  # mu_S = 1 - 1/M^2 instead of 1 - 1/M
            m = 1 / (1 - mu_s) if mu_s < 1 else 1
            return real(obj, n, lr, 1 - 1 / m ** 2, mu_l, w0)

    monkeypatch.setattr(trajectory_study, "predictions", WrongTheory())
    config = override(exp.EXPERIMENT.profiles["quick"], {"n_replicas": 4000, "chunk": 2000, "n_steps": 20,
                                              "workers": [2, 4], "explicit_cases": [[4.0, 0.5]]})
    result = exp.run(config)
    assert not claim_by_id("mc-async-follows-momentum").verdict(result).passed
    assert not claim_by_id("mc-explicit-plus-implicit").verdict(result).passed


def test_trajectory_claims_pass_at_small_scale_with_the_right_model():
    from reports.experiments import mc_trajectories as exp
    config = override(exp.EXPERIMENT.profiles["quick"], {"n_replicas": 4000, "chunk": 2000, "n_steps": 20,
                                              "workers": [2, 4], "explicit_cases": [[4.0, 0.5]]})
    result = exp.run(config)
    assert all(c.verdict(result).passed for c in exp.EXPERIMENT.claims)


def test_estimator_claim_fails_if_the_estimator_is_biased(monkeypatch):
    from reports.experiments import mc_momentum as exp
    from sim import estimators
    real = estimators.fit_two_term
    monkeypatch.setattr(estimators, "fit_two_term", lambda x, g, start=1: tuple(v * 0.97 for v in real(x, g, start)))
    result = exp.run(override(exp.EXPERIMENT.profiles["quick"], {"n_replicas": 2000, "workers": [2, 4],
                                                      "explicit_cases": [[2.0, 0.1]]}))
    assert not claim_by_id("mc-momentum-estimator").verdict(result).passed


def test_expected_iterate_rate_of_a_geometric_sequence_is_its_ratio():
    from sim.stats import expected_iterate_rate
    t = np.arange(31)[:, None, None]
    mean = np.concatenate([0.9 ** t, -(0.9 ** t)], axis=-1)  # (T+1, 1 config, d = 2)
    assert expected_iterate_rate(mean, burn_in=5)[0] == pytest.approx(0.9, rel=1e-12)
    assert expected_iterate_rate(mean * 1.21 ** t, burn_in=5)[0] == pytest.approx(0.9 * 1.21, rel=1e-12)
    assert expected_iterate_rate(mean * 100.0 ** t, burn_in=5)[0] == np.inf  # diverged


def test_tuning_claim_fails_if_staleness_is_removed(monkeypatch):
    from reports.experiments import mc_tuning as exp
    from sim import quadratic_tuning
    from sim.queue import simulate_batch
    # every queue replaced by one worker: no asynchrony, so the best momentum cannot fall with M
    monkeypatch.setattr(quadratic_tuning, "simulate_batch", lambda m, n, r, seed=0: simulate_batch(1, n, r, seed=seed))
    result = exp.run(override(exp.EXPERIMENT.profiles["quick"], {"n_replicas": 40, "workers": [1, 4, 16]}))
    assert not claim_by_id("mc-tuning-under-asynchrony").verdict(result).passed
    assert np.isfinite(result.summary["per_workers"][4]["best"]["rate"])


def test_noise_corrected_momentum_fit_recovers_one_minus_one_over_m_on_the_queue():
    """Calibration of the CNN probe's estimator where the truth is known: the queue with a quadratic, R = 16 runs
    from one point, 30 updates. The plain fit on the mean is attenuated (0.54 at M = 4); the corrected one is not, and
    its jackknife SE covers the truth."""
    from sim.async_sgd import run_workers
    from sim.estimators import fit_two_term, fit_two_term_corrected, jackknife_se
    from sim.objectives import Quadratic
    from sim.queue import simulate_batch
    objective = Quadratic(tuple(np.linspace(0.05, 1.0, 32)))
    for m in (4, 16):
        zs, plain = [], []
        for rep in range(8):
            runs = run_workers(objective, simulate_batch(m, 30, 16, seed=100 * m + rep), lr=0.1, mu_explicit=0.0,
                               w0=np.ones(32), noise_std=0.1, seed=rep)
            g = objective.gradient(runs.x)
            mu = fit_two_term_corrected(runs.x, g)[0]
            zs.append((mu - (1 - 1 / m)) / jackknife_se(fit_two_term_corrected, runs.x, g))
            plain.append(fit_two_term(runs.x.mean(axis=1), g.mean(axis=1))[0])
        assert np.all(np.abs(zs) < 3), (m, zs)
        assert abs(np.mean(zs)) < 1.5
        if m == 4:
            assert np.mean(plain) < 1 - 1 / m - 0.1  # the bias the correction removes
