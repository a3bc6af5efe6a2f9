"""The later literature's step rules, single-run scoring, the wall clock of synchronous and asynchronous training,
and the advice a systems builder gets from a staleness log."""
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim import advise, compensation, scoring, step_rules
from sim.queue import save_log, simulate

ROOT = Path(__file__).resolve().parent.parent


def test_the_step_rules_read_like_their_papers():
    tau = np.array([0, 1, 4, 8, 16])
    assert step_rules.step("constant", 0.1, tau, 8).tolist() == [0.1] * 5
    np.testing.assert_allclose(step_rules.step("delay_adaptive", 0.1, tau, 8), [0.1, 0.1, 0.1, 0.1, 0.05])
    np.testing.assert_allclose(step_rules.step("staleness_aware", 0.1, tau, 8), [0.1, 0.1, 0.025, 0.0125, 0.00625])
    np.testing.assert_allclose(step_rules.step("threshold", 0.1, tau, 4), [0.1, 0.1, 0.1, 0.05, 0.025])
    with pytest.raises(ValueError, match="unknown step rule"):
        step_rules.step("adam", 0.1, tau, 8)
    with pytest.raises(ValueError, match="non-negative"):
        step_rules.step("constant", 0.1, [-1], 8)


def test_a_per_update_rule_scales_the_loops_step_by_each_updates_staleness():
    q = simulate(8, 300, seed=1)
    mu, lr = compensation.schedule_controls(q.staleness, q.warmup, None, 0.9, 0.5, "keep", n_workers=8, mu_sync=0.9,
                                            per_update="staleness_aware")
    np.testing.assert_allclose(lr, 0.5 / np.maximum(1, q.staleness))
    with pytest.raises(ValueError, match="n_workers"):
        compensation.schedule_controls(q.staleness, q.warmup, None, 0.9, 0.5, "keep", mu_sync=0.9,
                                       per_update="threshold")


def test_the_median_interval_covers_the_median_and_censored_runs_sort_last():
    median, low, high = scoring.median_interval([5, 1, 3, 2, 4, 6, 7, 8, 9, 10])
    assert median == 5.5 and low <= median <= high and (low, high) == (2.0, 9.0)
    assert scoring.median_interval([1, 2, math.inf, math.inf, math.inf])[0] == math.inf


def test_a_synchronous_round_waits_for_the_slowest_worker():
    assert scoring.sync_round_time([1.0] * 4) == pytest.approx(1 + 1 / 2 + 1 / 3 + 1 / 4)
    assert scoring.sync_round_time([0.1, 1.0]) == pytest.approx(10 + 1 - 1 / 1.1)   # E max of Exp(0.1), Exp(1)
    rng = np.random.default_rng(0)
    assert scoring.simulated_sync_time([1.0] * 8, 20000, rng) / 20000 == pytest.approx(scoring.sync_round_time(
        [1.0] * 8), rel=0.02)
    assert scoring.async_time_per_update([1.0] * 8) == 1 / 8


def test_advice_from_a_geometric_log_and_from_a_pure_delay():
    exp = advise.advise(simulate(8, 4000, seed=2), 0.9, None, None)
    assert exp["geometric"] and abs(exp["mu_implicit"] - 0.875) < 0.01
    assert exp["recommended"]["mu_explicit"] == pytest.approx(0.9 - exp["mu_implicit"])
    assert exp["hardware"]["break_even_penalty"] == pytest.approx(8 * sum(1 / k for k in range(1, 9)), rel=0.1)
    assert exp["momentum_applies"] and exp["recommended"]["step_rule"] == "staleness_aware"


def test_a_pure_delay_gets_no_momentum_from_the_momentum_picture_and_the_delays_step_bound():
    """Constant work times: tau = M - 1 always; mu_sync - mu_S (+0.025 at M = 8) would read a delay as momentum."""
    const = advise.advise(simulate(8, 4000, "constant", seed=2), 0.9, None, None)
    assert not const["geometric"] and not const["momentum_applies"]
    assert const["recommended"]["mu_explicit"] is None and "not geometric" in const["recommended"]["rule"]
    assert const["recommended"]["delay_step_bound"] == pytest.approx(2 * math.sin(math.pi / 30))   # tau = 7
    assert const["recommended"]["step_rule"] == "staleness_aware"


def test_a_straggler_is_named_beside_the_step_rule(tmp_path):
    log = tmp_path / "s.csv"
    save_log(log, simulate(8, 4000, rates=[0.1] + [1.0] * 7, seed=3))
    proc = subprocess.run([sys.executable, "-m", "sim.advise", "--log", str(log), "--json"], capture_output=True,
                          text=True, cwd=ROOT)
    advice = json.loads(proc.stdout)
    assert advice["hardware"]["slowest_worker_ratio"] > 3 and "straggler" in advice["recommended"]["step_rule_why"]


@pytest.mark.parametrize("args", [[], ["--log", "/nope.csv"], ["--workers", "0"], ["--workers", "4", "--log", "x"],
                                  ["--workers", "4", "--mu-sync", "2"], ["--workers", "4", "--condition-number", "1"]])
def test_bad_input_to_advise_is_one_line(args):
    proc = subprocess.run([sys.executable, "-m", "sim.advise", *args], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert proc.stderr.startswith("error:")


@pytest.mark.slow
def test_advice_on_a_log_the_real_server_wrote(tmp_path):
    log = tmp_path / "real.csv"
    real = subprocess.run([sys.executable, "-m", "cnn_experiments.real_async", "--n-workers", "4", "--updates", "300",
                           "--log", str(log)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert real.returncode == 0, real.stderr[-500:]
    proc = subprocess.run([sys.executable, "-m", "sim.advise", "--log", str(log)], capture_output=True, text=True,
                          cwd=ROOT)
    assert proc.returncode == 0 and "M = 4 workers" in proc.stdout and "implicit momentum" in proc.stdout


def test_the_advice_claim_fails_where_the_advice_and_the_oracle_both_never_reach_the_target():
    from reports.experiments import step_rules as study
    from reports.harness.store import Result
    from reports.registry import Tolerance

    def case(advised, oracle):
        return {"advice": {"strategy": "first_order+staleness_aware",
                           "advised": {"median": advised, "low": advised, "high": advised}},
                "oracle": {"median": oracle}}
    censored = Result(summary={"cases": {"M=4": case(100, 100), "M=8": case(math.inf, math.inf)}})   # the codec keeps inf
    verdict = study._advised(censored, Tolerance(2.0, "ratio", "the claim's bar"))
    assert verdict.passed is False and verdict.values["worst_ratio"] == math.inf


def test_a_log_that_is_not_geometric_gets_the_laws_own_recurrence_given_a_curvature_range():
    """Gamma-10 work at M = 4 (not memoryless): with Q the advice is the explicit momentum the law's own recurrence
    makes best (negative, at the clamp: the suite's extension-laws-best-momentum found it negative at every M), said to
    lie at or beyond it; without Q no momentum is advised; a straggler's long tail is not searched (minutes)."""
    gamma = simulate(4, 4000, "gamma", seed=5, shape=10.0)
    law = advise.advise(gamma, 0.9, None, 10.0)["recommended"]
    assert law["mu_explicit"] == pytest.approx(-advise.CLAMP, abs=1e-3) and "law's own recurrence" in law["rule"]
    assert "at the clamp" in law["rule"] and law["interval"][0] <= law["mu_explicit"] <= law["interval"][1]
    assert advise.advise(gamma, 0.9, None, None)["recommended"]["mu_explicit"] is None
    straggler = advise.advise(simulate(8, 4000, rates=[0.1] + [1.0] * 7, seed=5), 0.9, None, 100.0)["recommended"]
    assert straggler["mu_explicit"] is None and "not searched" in straggler["rule"]


def test_the_laws_pmf_carries_its_sampling_error_from_blocks_of_the_log():
    steady = simulate(4, 20000, "gamma", seed=1, shape=2.0).staleness[2000:]
    pmf, se = advise.law_pmf(steady)
    assert pmf.sum() == pytest.approx(1.0) and np.all(se >= 0) and se.max() > 0
    assert advise.law_pmf(np.full(1000, 3))[1].max() == 0      # a pure delay: every block alike
