"""Power: a random claim's pass rate, and its main control's, over independent seeds; the report shows them."""
import json

import pytest

from reports import build, power
from reports.registry import Control, Tolerance, Verdict, claim_by_id


def test_a_config_with_inner_tuples_read_back_from_json_is_the_same_config():
    """mc_trajectories' explicit_cases holds tuples inside a tuple: JSON gives lists back, the power is kept."""
    from reports.common import configs
    from reports.harness.config import as_dict
    config = as_dict(configs("quick")["mc_trajectories"])
    assert any(isinstance(v, list) and v and isinstance(v[0], tuple) for v in config.values())
    assert power.same_config(json.loads(json.dumps(config)), config)
    assert not power.same_config({**json.loads(json.dumps(config)), "seed": 5}, config)


def test_rates_count_the_check_and_the_main_control_over_results():
    from reports.registry import Claim
    check = lambda r, tol: Verdict(r["x"] <= tol.value, "x small", str(r["x"]))  # noqa: E731
    claim = Claim(id="c", paper_ref="ref", statement="statement", check=check,
                  tolerance=Tolerance(1.0, "absolute", "why"),
                  controls=(Control("doubled", "twice x", lambda r: {"x": 2 * r["x"]}),))
    out = power.rates(claim, [power.record_of(claim, {"x": x}) for x in (0.2, 0.7, 3.0, 0.1)])
    assert out["seeds"] == 4 and out["pass_rate"] == 0.75 and out["control_pass_rate"] == 0.5
    assert not out["meets_target"] and out["control"] == "doubled"


SMALL = ["mc_staleness.n_updates=2000", "mc_staleness.workers=[2,4,16]", "mc_staleness.dependence_workers=4"]


def _small_plan(results):
    """A small mc_staleness plan in `results` (the power study re-runs the plan the last run executed)."""
    from reports.run import compute
    compute("quick", results, only=["mc_staleness"], settings=SMALL, quiet=True)


def test_study_reruns_on_independent_seeds_and_the_report_shows_power(tmp_path, capsys):
    _small_plan(tmp_path)
    out = power.study("quick", tmp_path, n_seeds=2, only=["mc_staleness"], jobs=1, quiet=True)
    record = out["mc-queue-geometric"]
    assert record["seeds"] == 2 and 0 <= record["pass_rate"] <= 1 and "control_pass_rate" in record
    doc = json.loads(power.power_path(tmp_path, "quick").read_text())
    assert doc["target"] == {"pass_rate": 0.95, "control_pass_rate": 0.05}
    # the report built from this folder carries the power of the claims it covers, and says why others have none
    records, _, _ = build.evaluate("quick", tmp_path)
    by_id = {r["id"]: r for r in records}
    assert by_id["mc-queue-geometric"]["power"]["seeds"] == 2
    assert by_id["real-async-momentum"]["power"]["seeds"] == 0 and by_id["real-async-momentum"]["power"]["note"]
    assert by_id["fig6-optimal-explicit-momentum"]["power"] is None  # deterministic
    assert "seeds" in build.power_text(by_id["mc-queue-geometric"])


def test_power_from_other_settings_is_not_shown(tmp_path):
    _small_plan(tmp_path)
    power.study("quick", tmp_path, n_seeds=2, only=["mc_staleness"], jobs=1, quiet=True)
    from reports.common import configs
    other = configs("quick", ["mc_staleness.n_updates=20000"])
    assert "other settings" in power.read(tmp_path, "quick", other)["mc-queue-geometric"]["note"]


def test_power_cli_rejects_bad_input_without_writing(tmp_path, capsys):
    for argv in (["--seeds", "1"], ["--only", "nope"], ["--profile", "huge"], ["--jobs", "0"]):
        with pytest.raises(SystemExit) as exc:
            power.main([*argv, "--results", str(tmp_path / "r")])
        assert exc.value.code == 2
        assert capsys.readouterr().err.startswith("error:")
    assert not (tmp_path / "r").exists()


def test_the_claims_with_power_are_the_random_ones():
    assert claim_by_id("mc-tuning-under-asynchrony").experiment == "mc_tuning"
    from reports.registry import experiments
    for exp in experiments().values():
        assert (exp.power_seeds > 0) <= exp.seeded


@pytest.mark.slow
def test_the_committed_cnn_evidence_gets_its_replication_records(tmp_path):
    """The CNN's records come from its committed chunks and state their own target (no pass rate: replication)."""
    out = power.study("quick", tmp_path, only=["cnn_momentum"], jobs=1, quiet=True)
    assert out and {r["kind"] for r in out.values()} == {"replication"}
    assert all(r["decision"] in ("pass", "fail") and isinstance(r["meets_target"], bool) for r in out.values())
