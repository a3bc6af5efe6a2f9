"""The CNN claims' checks read like Figs. 3, 4 and 8, and fail when the evidence says otherwise."""
import math

import numpy as np
import pytest

from cnn_experiments import analysis
from reports.experiments import cnn_momentum as exp
from reports.harness.store import Result
from reports.registry import claim_by_id


def synthetic(best_mu: dict, fixed_factor: float, workers=(1, 2, 4, 8, 16)):
    """Runs whose best momentum at each M is best_mu[M]; mu = 0.9 is fixed_factor times slower at M > 1."""
    rows = []
    for m in workers:
        for mu in (-0.45, 0.0, 0.45, 0.9):
            for lr in (0.1,):
                steps = 10 * m if mu == best_mu[m] else 10 * m * 1.3
                if mu == 0.9 and m > 1 and best_mu[m] != 0.9:
                    steps = 10 * m * fixed_factor
                rows.append({"n_workers": m, "mu_explicit": mu, "lr": lr, "seed": 0, "diverged": False,
                             "reached": {"target_1": steps, "target_2": 2 * steps}, "updates": 2 * steps})
    summaries = {t: analysis.summarise(rows, t, list(workers)) for t in ("target_1", "target_2")}
    probes = [{"n_workers": m, "mu": 1 - 1 / m, "n_replicas": 4} for m in (1, 4, 16)]
    return Result(summary={"targets": {"target_1": 1.0, "target_2": 0.5}, "summaries": summaries, "runs": rows,
                           "probes": probes, "workers": list(workers), "mu_grid": [-0.45, 0.0, 0.45, 0.9],
                           "grid_step": 0.45})


PAPER_LIKE = {1: 0.9, 2: 0.45, 4: 0.45, 8: 0.0, 16: -0.45}
FLAT = {1: 0.45, 2: 0.45, 4: 0.45, 8: 0.45, 16: 0.45}


def test_paper_like_evidence_passes_every_claim():
    result = synthetic(PAPER_LIKE, fixed_factor=5.0)
    for claim in exp.EXPERIMENT.claims:
        if claim.id == "cnn-momentum-magnitude":  # the companion of a finding: whether it holds is the result
            continue
        assert claim.verdict(result).passed, (claim.id, claim.verdict(result).measured)


def test_our_cnn_evidence_beside_the_magnitude_finding_can_fail():
    """A CNN whose best momentum follows mu*(1) - (1 - 1/M) exactly does not show the finding's gap."""
    naive = {1: 0.9, 2: 0.45, 4: 0.0, 8: -0.45, 16: -0.45}  # at or below 0.9 - (1 - 1/M) on the 0.45 grid
    assert not claim_by_id("cnn-momentum-magnitude").verdict(synthetic(naive, fixed_factor=5.0)).passed


def test_momentum_that_does_not_fall_fails():
    assert not claim_by_id("cnn-best-momentum-falls").verdict(synthetic(FLAT, fixed_factor=5.0)).passed


def test_fixed_momentum_as_good_as_tuned_fails():
    assert not claim_by_id("cnn-fixed-momentum-penalty").verdict(synthetic(PAPER_LIKE, fixed_factor=1.2)).passed


def test_non_negative_choice_at_16_fails_the_negative_claim():
    assert not claim_by_id("cnn-negative-momentum").verdict(synthetic({**PAPER_LIKE, 16: 0.0}, fixed_factor=5.0)).passed


def test_claims_at_16_are_not_run_without_16_workers():
    result = synthetic(PAPER_LIKE, fixed_factor=5.0, workers=(1, 2, 4, 8))
    assert claim_by_id("cnn-fixed-momentum-penalty").verdict(result).passed is None and claim_by_id("cnn-negative-momentum").verdict(result).passed is None


def test_censored_runs_count_as_never_reached():
    rows = [{"n_workers": 1, "mu_explicit": 0.0, "lr": 0.1, "seed": s, "reached": {"t": None if s else 5}}
            for s in range(2)]
    assert analysis.scores(rows, "t") == {(1, 0.0, 0.1): math.inf}


def test_tiny_cnn_sweep_end_to_end(tmp_path, monkeypatch):
    """The whole experiment on a tiny synthetic dataset: every claim returns a verdict with its numbers."""
    from tests.test_cnn import tiny_dataset
    monkeypatch.setattr("cnn_experiments.data.load", lambda name, data_dir=None: tiny_dataset(n=256))
    from reports.harness.config import override
    config = override(exp.EXPERIMENT.profiles["quick"], {"n_train": 256, "n_eval": 64, "batch_size": 8, "workers": [1, 2],
                                              "mu_grid": [0.0, 0.5], "lr_grid": [0.05], "seeds": [0], "budget": 20,
                                              "eval_every": 5, "probe_workers": [1, 2], "probe_replicas": 2,
                                              "probe_steps": 3, "probe_examples": 16})
    result = exp.run(config, progress=False)
    assert set(result.summary["targets"]) == {"target_1", "target_2"}
    assert result.arrays["curves"].shape[0] == 4
    for claim in exp.EXPERIMENT.claims:
        verdict = claim.verdict(result)
        assert verdict.expected and verdict.measured
    assert np.isfinite(result.summary["summaries"]["target_1"]["baseline_updates"])


def test_a_sweep_stopped_at_its_deadline_resumes_to_the_same_bits(tmp_path, monkeypatch):
    """Chunks are stored as they finish; a run stopped part-way continues from them and ends with the result of an
    uninterrupted run, bit for bit."""
    from reports.harness.checkpoint import Folder, Incomplete, Memory, progress
    from reports.harness.config import override
    from tests.test_cnn import tiny_dataset
    monkeypatch.setattr("cnn_experiments.data.load", lambda name, data_dir=None: tiny_dataset(n=256))
    config = override(exp.EXPERIMENT.profiles["quick"], {"n_train": 256, "n_eval": 64, "batch_size": 8,
                                                         "workers": [1, 2, 4], "mu_grid": [0.0, 0.5],
                                                         "lr_grid": [0.05], "seeds": [0, 1], "budget": 20,
                                                         "eval_every": 5, "probe_workers": [1, 2],
                                                         "probe_replicas": 2, "probe_steps": 3, "probe_examples": 16})

    class StopAfterThree(Folder):
        def check_deadline(self, done, total):
            super().check_deadline(done, total)
            if done >= 3:
                raise Incomplete(done, total)

    folder = tmp_path / ".chunks-x"
    with pytest.raises(Incomplete, match="3 of 7 chunks"):
        exp.run(config, checkpoint=StopAfterThree(folder), progress=False)
    assert progress(folder) == (3, 7) and len(list(folder.glob("M*.json"))) == 3
    resumed = exp.run(config, checkpoint=Folder(folder), progress=False)
    plain = exp.run(config, checkpoint=Memory(), progress=False)
    assert np.array_equal(resumed.arrays["curves"], plain.arrays["curves"], equal_nan=True)
    assert resumed.summary["runs"] == plain.summary["runs"] and resumed.summary["targets"] == plain.summary["targets"]
    (folder / "M2-seed0.json").write_text("{truncated")  # a damaged chunk is computed again, never trusted
    again = exp.run(config, checkpoint=Folder(folder), progress=False)
    assert np.array_equal(again.arrays["curves"], plain.arrays["curves"], equal_nan=True)


def test_the_runner_stops_at_the_deadline_and_the_report_says_how_far(tmp_path, monkeypatch):
    from reports import build
    from reports.run import compute
    from tests.test_cnn import tiny_dataset
    monkeypatch.setattr("cnn_experiments.data.load", lambda name, data_dir=None: tiny_dataset(n=256))
    settings = ["cnn_momentum.n_train=256", "cnn_momentum.n_eval=64", "cnn_momentum.batch_size=8",
                "cnn_momentum.workers=[1,2]", "cnn_momentum.mu_grid=[0.0,0.5]", "cnn_momentum.lr_grid=[0.05]",
                "cnn_momentum.seeds=[0]", "cnn_momentum.budget=20", "cnn_momentum.eval_every=5"]
    stopped = []
    out = compute("quick", tmp_path, only=["cnn_momentum"], settings=settings, quiet=True, deadline=0.0,
                  stopped=stopped)
    assert stopped == ["cnn_momentum"] and out["cnn_momentum"] is None
    records, _, _ = build.evaluate("quick", tmp_path)
    record = next(r for r in records if r["id"] == "cnn-best-momentum-falls")
    assert record["status"] == "not_run" and "0 of 3 chunks stored" in record["measured"]
