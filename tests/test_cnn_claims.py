"""The CNN claims' checks read like Figs. 3, 4, 5 and 8, decide on bootstrap intervals over seeds, and fail when
the evidence says otherwise."""
import numpy as np
import pytest

from cnn_experiments import analysis
from reports.experiments import cnn_momentum as exp
from reports.harness.store import Result
from reports.registry import claim_by_id

MU = (-0.675, -0.45, -0.225, 0.0, 0.225, 0.45, 0.675, 0.9)
PAPER_LIKE = {1: 0.675, 2: 0.45, 4: 0.225, 8: 0.0, 16: -0.45}
FLAT = {1: 0.45, 2: 0.45, 4: 0.45, 8: 0.45, 16: 0.45}


def synthetic_times(best_mu: dict, fixed_factor: float = 5.0, workers=(1, 2, 4, 8, 16), n_seeds=5, noise=0.05,
                    seed=0, growth=1.0):
    """Times (targets, M, mu, step, seed): at each M the best momentum best_mu[M] takes 10 M^growth updates, each grid
    step away 15 % more, mu = 0.9 fixed_factor times the best at M > 1; multiplicative seed noise."""
    rng = np.random.default_rng(seed)
    times = np.empty((2, len(workers), len(MU), 3, n_seeds))
    for j, m in enumerate(workers):
        for i, mu in enumerate(MU):
            base = 10.0 * m ** growth * (1 + 0.15 * abs(MU.index(best_mu[m]) - i))
            if mu == 0.9 and m > 1 and best_mu[m] != 0.9:
                base = 10.0 * m ** growth * fixed_factor
            for k in range(3):
                times[0, j, i, k] = base * (1 + 0.3 * abs(k - 1)) * (1 + noise * rng.standard_normal(n_seeds))
    times[1] = 2 * times[0]
    return np.round(times)


def synthetic_loop(times: np.ndarray, best_mu: dict, workers, loop_factor: float) -> dict:
    """The closed loop's evidence beside the grid: at each M > 1 the loop (step kept) takes loop_factor x the best
    configuration's time on every seed, the delay-step loop 1.5 x, the synchronous tuning reused 3 x."""
    best = np.stack([times[:, j, MU.index(best_mu[m]), 1] for j, m in enumerate(workers) if m > 1], axis=1)
    loop = np.stack([3 * best, loop_factor * best, 1.5 * best], axis=2)   # (targets, M, strategy, seed)
    return {"workers": [m for m in workers if m > 1], "strategies": ["no_compensation", "loop_keep", "loop_delay"],
            "times": exp._json_times(np.round(loop)), "budget": 2000, "mu_sync": 0.675, "step_sync": 0.1,
            "lr_sync": 0.0325, "diverged": {},
            "final": {str(m): {"loop_keep": {"mu_explicit": 0.675 - (1 - 1 / m), "lr": 0.0325},
                               "no_compensation": {"mu_explicit": 0.675, "lr": 0.0325}} for m in workers if m > 1}}


def synthetic(best_mu: dict, fixed_factor: float = 5.0, workers=(1, 2, 4, 8, 16), warm_penalty=1.0,
              loop_factor: float = 1.0, **kw):
    times = synthetic_times(best_mu, fixed_factor, workers, **kw)
    warm_workers = [m for m in workers if m <= 8]
    warm = synthetic_times({m: 0.45 for m in warm_workers}, 1.0, warm_workers, growth=0.0, **kw)
    warm[:, 1:] *= warm_penalty
    probes = [{"n_workers": m, "mu": 1 - 1 / m, "mu_se": 0.03, "mu_plain": 0.8 * (1 - 1 / m), "n_replicas": 16}
              for m in (1, 4, 16)]
    return Result(summary={"targets": {"target_1": 1.0, "target_2": 0.5}, "times": exp._json_times(times),
                           "workers": list(workers), "mu_grid": list(MU), "budget": [2000] * len(workers),
                           "grid_step": 0.225,
                           "steps": {str(m): [0.05, 0.1, 0.2] for m in workers}, "probes": probes, "n_seeds": 5,
                           "warm": {"times": exp._json_times(warm), "workers": warm_workers, "mu_grid": list(MU),
                                    "budget": [2000] * len(warm_workers), "targets": {}, "warm_updates": 10},
                           "closed_loop": synthetic_loop(times, best_mu, workers, loop_factor)})


def test_paper_like_evidence_passes_every_claim_and_every_control_fails():
    result = synthetic(PAPER_LIKE)
    for claim in exp.EXPERIMENT.claims:
        if claim.id == "cnn-momentum-magnitude":  # the companion of a finding: whether it holds is the result
            continue
        verdict = claim.verdict(result)
        assert verdict.passed, (claim.id, verdict.measured)
        for control in claim.controls:
            assert not claim.check(control.evidence(result), claim.tolerance).passed, (claim.id, control.name)


def test_the_verdicts_carry_bootstrap_intervals_around_their_point_estimates():
    values = claim_by_id("cnn-best-momentum-falls").verdict(synthetic(PAPER_LIKE)).values
    for target in ("target_1", "target_2"):
        assert values[f"{target},drop_low"] <= values[f"{target},drop"] <= values[f"{target},drop_high"]
        assert values[f"{target},drop"] == pytest.approx(-0.45 - 0.675)


def test_momentum_that_does_not_fall_fails():
    assert not claim_by_id("cnn-best-momentum-falls").verdict(synthetic(FLAT)).passed


def test_a_fall_lost_in_seed_noise_fails_on_its_interval():
    """mu* falls at the point estimate but the seeds disagree: the interval reaches 0 and the claim fails."""
    result = synthetic({1: 0.45, 2: 0.45, 4: 0.45, 8: 0.45, 16: 0.0}, noise=0.6, n_seeds=3)
    verdict = claim_by_id("cnn-best-momentum-falls").verdict(result)
    assert not verdict.passed and max(verdict.values["target_1,drop_high"], verdict.values["target_2,drop_high"]) >= 0


def test_fixed_momentum_as_good_as_tuned_fails():
    assert not claim_by_id("cnn-fixed-momentum-penalty").verdict(synthetic(PAPER_LIKE, fixed_factor=1.2)).passed


def test_non_negative_choice_at_16_fails_the_negative_claim():
    assert not claim_by_id("cnn-negative-momentum").verdict(synthetic({**PAPER_LIKE, 16: 0.0})).passed


def test_claims_at_16_are_not_run_without_16_workers():
    result = synthetic(PAPER_LIKE, workers=(1, 2, 4, 8))
    for claim_id in ("cnn-fixed-momentum-penalty", "cnn-negative-momentum"):
        assert claim_by_id(claim_id).verdict(result).passed is None


def test_our_cnn_evidence_beside_the_magnitude_finding_can_fail():
    """A CNN whose best momentum follows mu*(1) - (1 - 1/M) (on the grid) does not show the finding's gap."""
    naive = {1: 0.675, 2: 0.225, 4: 0.0, 8: -0.225, 16: -0.225}
    assert not claim_by_id("cnn-momentum-magnitude").verdict(synthetic(naive)).passed
    assert claim_by_id("cnn-momentum-magnitude").verdict(synthetic({**PAPER_LIKE, 16: 0.225})).passed


def test_warm_start_with_a_penalty_fails_fig5():
    assert claim_by_id("cnn-warm-start").verdict(synthetic(PAPER_LIKE)).passed
    assert not claim_by_id("cnn-warm-start").verdict(synthetic(PAPER_LIKE, warm_penalty=1.5)).passed


def test_a_closed_loop_as_fast_as_the_oracle_passes_and_one_a_fifth_slower_fails():
    claim = claim_by_id("extension-closed-loop-cnn")
    assert claim.verdict(synthetic(PAPER_LIKE, loop_factor=1.05)).passed
    verdict = claim.verdict(synthetic(PAPER_LIKE, loop_factor=1.2))
    assert not verdict.passed and verdict.values["target_1,M=4,ratio"] == pytest.approx(1.2, abs=0.01)


def test_a_closed_loop_no_faster_than_fixed_momentum_at_16_fails():
    """The oracle is matched but mu_L = 0.9 costs no more than 1.5x at 16: the second half of the claim fails."""
    assert not claim_by_id("extension-closed-loop-cnn").verdict(synthetic(PAPER_LIKE, fixed_factor=1.5)).passed


def test_the_closed_loop_claim_is_not_run_without_its_evidence():
    from reports.registry import with_summary
    claim = claim_by_id("extension-closed-loop-cnn")
    assert claim.verdict(with_summary(synthetic(PAPER_LIKE), closed_loop=None)).passed is None
    assert claim.verdict(synthetic(PAPER_LIKE, workers=(1, 2))).passed is None


def test_the_closed_loop_power_resamples_grid_and_loops_together():
    claim = claim_by_id("extension-closed-loop-cnn")
    record = claim.power(synthetic(PAPER_LIKE), claim.tolerance)
    assert record["pass_rate"] >= 0.95 and record["control_pass_rate"] == 0.0 and record["seeds"] == 5


def test_censored_runs_count_as_censored_lower_bounds():
    times = np.array([10.0, np.inf]).reshape(1, 1, 1, 1, 2)
    ev = analysis.Evidence(times, (1,), (0.0,), budget=100)
    score, censored = analysis.scores(ev)
    assert score.item() == 55.0 and censored.item()
    assert analysis.censored_best(ev, "any_sign")[0, 0]


def test_power_is_high_on_clear_evidence_and_the_control_rarely_passes():
    claim = claim_by_id("cnn-best-momentum-falls")
    record = claim.power(synthetic(PAPER_LIKE), claim.tolerance)
    assert record["pass_rate"] >= 0.95 and record["control_pass_rate"] <= 0.05 and record["seeds"] == 5
    weak = claim.power(synthetic({1: 0.45, 2: 0.45, 4: 0.45, 8: 0.45, 16: 0.0}, noise=0.6, n_seeds=3), claim.tolerance)
    assert weak["pass_rate"] < 0.95


def test_a_probe_at_m1_away_from_zero_fails_the_calibration():
    result = synthetic(PAPER_LIKE)
    probes = [{**p, "mu": p["mu"] + (0.15 if p["n_workers"] == 1 else 0)} for p in result.summary["probes"]]
    from reports.registry import with_summary
    assert not claim_by_id("cnn-measured-momentum-grows").verdict(with_summary(result, probes=probes)).passed


def test_tiny_cnn_sweep_end_to_end(tmp_path, monkeypatch):
    """The whole experiment on a tiny synthetic dataset: every claim returns a verdict with its numbers."""
    from tests.test_cnn import tiny_dataset
    monkeypatch.setattr("cnn_experiments.data.load", lambda name, data_dir=None: tiny_dataset(n=256))
    from reports.harness.config import override
    config = override(exp.EXPERIMENT.profiles["quick"], {"n_train": 256, "n_eval": 64, "batch_size": 8, "workers": [1, 2],
                                              "mu_grid": [0.0, 0.5], "step_grid": [0.05], "seeds": [0, 1], "budget": 20, "sync_budget": 20,
                                              "eval_every": 5, "probe_workers": [1, 2], "probe_replicas": 3,
                                              "probe_steps": 3, "probe_examples": 16, "warm_updates": 5,
                                              "warm_workers": [1, 2], "warm_mu_grid": [0.0], "warm_budget": 10})
    result = exp.run(config, progress=False)
    assert set(result.summary["targets"]) == {"target_1", "target_2"}
    assert result.arrays["curves"].shape[0] == 4  # 2 M x 2 momenta x 1 step, mean over the seeds
    assert np.array(result.summary["times"]).shape == (2, 2, 2, 1, 2)
    for claim in exp.EXPERIMENT.claims:
        verdict = claim.verdict(result)
        assert verdict.expected and verdict.measured


def test_a_sweep_stopped_at_its_deadline_resumes_to_the_same_bits(tmp_path, monkeypatch):
    """Chunks are stored as they finish; a run stopped part-way continues from them and ends with the result of an
    uninterrupted run, bit for bit."""
    from reports.harness.checkpoint import Folder, Incomplete, Memory, progress
    from reports.harness.config import override
    from tests.test_cnn import tiny_dataset
    monkeypatch.setattr("cnn_experiments.data.load", lambda name, data_dir=None: tiny_dataset(n=256))
    config = override(exp.EXPERIMENT.profiles["quick"], {"n_train": 256, "n_eval": 64, "batch_size": 8,
                                                         "workers": [1, 2, 4], "mu_grid": [0.0, 0.5],
                                                         "step_grid": [0.05], "seeds": [0, 1], "budget": 20, "sync_budget": 20,
                                                         "eval_every": 5, "probe_workers": [1, 2],
                                                         "probe_replicas": 3, "probe_steps": 3, "probe_examples": 16,
                                                         "warm_updates": 5, "warm_workers": [1, 2],
                                                         "warm_mu_grid": [0.0], "warm_budget": 10})

    class StopAfterThree(Folder):
        def check_deadline(self, done, total):
            super().check_deadline(done, total)
            if done >= 3:
                raise Incomplete(done, total)

    folder = tmp_path / ".chunks-x"
    with pytest.raises(Incomplete, match="3 of 11 chunks"):
        exp.run(config, checkpoint=StopAfterThree(folder), progress=False)
    assert progress(folder) == (3, 11) and len(list(folder.glob("M*.json"))) == 3
    resumed = exp.run(config, checkpoint=Folder(folder), progress=False)
    plain = exp.run(config, checkpoint=Memory(), progress=False)
    assert np.array_equal(resumed.arrays["curves"], plain.arrays["curves"], equal_nan=True)
    assert resumed.summary["times"] == plain.summary["times"] and resumed.summary["targets"] == plain.summary["targets"]
    assert resumed.summary["closed_loop"] == plain.summary["closed_loop"] is not None
    (folder / "M2-seed0.json").write_text("{truncated")  # a damaged chunk is computed again, never trusted
    again = exp.run(config, checkpoint=Folder(folder), progress=False)
    assert np.array_equal(again.arrays["curves"], plain.arrays["curves"], equal_nan=True)


def test_the_runner_stops_at_the_deadline_and_the_report_says_how_far(tmp_path, monkeypatch):
    from reports import build
    from reports.run import compute
    from tests.test_cnn import tiny_dataset
    monkeypatch.setattr("cnn_experiments.data.load", lambda name, data_dir=None: tiny_dataset(n=256))
    settings = ["cnn_momentum.n_train=256", "cnn_momentum.n_eval=64", "cnn_momentum.batch_size=8",
                "cnn_momentum.workers=[1,2]", "cnn_momentum.mu_grid=[0.0,0.5]", "cnn_momentum.step_grid=[0.05]",
                "cnn_momentum.seeds=[0]", "cnn_momentum.budget=20", "cnn_momentum.sync_budget=20", "cnn_momentum.eval_every=5"]
    stopped = []
    out = compute("quick", tmp_path, only=["cnn_momentum"], settings=settings, quiet=True, deadline=0.0,
                  stopped=stopped)
    assert stopped == ["cnn_momentum"] and out["cnn_momentum"] is None
    records, _, _ = build.evaluate("quick", tmp_path)
    record = next(r for r in records if r["id"] == "cnn-best-momentum-falls")
    assert record["status"] == "not_run" and "0 of 5 chunks stored" in record["measured"]
