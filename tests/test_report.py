"""The report: claims are data, missing evidence renders not_run, the builder never computes, bad input."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reports import build
from reports.registry import Verdict, claims, experiments, judge

ROOT = Path(__file__).resolve().parent.parent


EXPECTED = [c for c in claims() if c.expect == "pass"]


@pytest.mark.slow
@pytest.mark.parametrize("claim", EXPECTED, ids=lambda c: c.id)
def test_every_claim_expected_to_pass_passes_on_the_quick_evidence_and_its_controls_fail(claim, quick_results):
    """Claims marked expect="result" (the CNN, real asynchrony, several extensions) are results that may honestly
    fail; their checks are tested on synthetic evidence in their own tests."""
    _, results = quick_results
    verdict = claim.verdict(results[claim.experiment])
    assert isinstance(verdict, Verdict) and verdict.expected and verdict.measured and verdict.values
    record = judge(claim, results[claim.experiment])
    assert record["status"] == "pass", (record["measured"], record["controls"])
    assert all(c["status"] == "fail" for c in record["controls"])


def test_missing_evidence_renders_not_run_and_the_builder_never_computes(tmp_path, monkeypatch):
    import dataclasses

    from reports import registry
    failing = {n: dataclasses.replace(e, run=lambda config: pytest.fail("the builder computed"))
               for n, e in experiments().items()}
    monkeypatch.setattr(registry, "TABLE", failing)
    monkeypatch.setattr(build, "load", lambda profile, results, cfgs=None: {n: (None, None) for n in experiments()})
    (tmp_path / "empty-results").mkdir()
    doc = build.build("quick", tmp_path / "empty-results", tmp_path / "out", notebooks=False)
    assert {c["status"] for c in doc["claims"]} == {"not_run"}
    html = (tmp_path / "out" / "report.html").read_text()
    assert "not_run" in html and "pass</b>" not in html
    on_disk = json.loads((tmp_path / "out" / "claims.json").read_text())
    assert set(on_disk) == {"profile", "settings", "notebooks", "generated", "git_sha", "dirty", "claims"}
    assert set(on_disk["claims"][0]) == {"id", "aliases", "paper_ref", "statement", "role", "method",
                                         "expect", "status", "expected", "measured", "values", "controls",
                                         "tolerance", "why", "evidence", "power", "part", "paper_value",
                                         "meaning"}
    assert all(c["controls"] and {k["status"] for k in c["controls"]} == {"not_run"} for c in on_disk["claims"])


@pytest.mark.slow
def test_report_from_stored_results_has_a_table_and_figures(quick_results, tmp_path):
    results, _ = quick_results
    doc = build.build("quick", results, tmp_path / "out", notebooks=False)
    computed = [c for c in doc["claims"] if c["evidence"] is not None]
    assert computed and all(c["status"] in ("pass", "fail", "cannot_fail") for c in computed)
    assert all(c["values"] and c["controls"] for c in computed)
    # what the folder lacks shows as not run; the fixture's own folder lacks the real-async and closed-loop results
    missing = [c for c in doc["claims"] if c["evidence"] is None]
    assert all(c["status"] == "not_run" for c in missing)
    assert missing or os.environ.get("SUITE_QUICK_RESULTS")
    assert (tmp_path / "out" / "figures" / "fig6.png").is_file()
    assert all(c["evidence"]["git_sha"] for c in computed)
    _the_manifest_lists_every_file(tmp_path / "out")
    _every_number_on_a_card_is_the_records(tmp_path / "out", doc)


def _the_manifest_lists_every_file(out):
    import hashlib
    manifest = {f["path"]: f for f in json.loads((out / "manifest.json").read_text())["files"]}
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {"manifest.json",
                                                                                         ".suite-report"}
    assert set(manifest) == on_disk
    for rel in ("report.html", "claims.json", "figures/fig6.png"):
        assert manifest[rel]["sha256"] == hashlib.sha256((out / rel).read_bytes()).hexdigest()
        assert manifest[rel]["command"].startswith("python -m reports.build")


def _every_number_on_a_card_is_the_records(out, doc):
    """The numbers a card lists (its 'ours' column) are the claim record's values, as printed (4 significant
    digits), and the card opens with the generated sentence; the first screen has one verdict line per part."""
    import html as html_mod
    import re
    page = (out / "report.html").read_text()
    assert page.count("<li><a href='#part-") == 6 and "id='verdict'" in page
    for record in doc["claims"]:
        card = page[page.index(f"id='{record['id']}'>"):]
        card = card[:card.index("</article>")]
        assert "class='opening'" in card
        shown = dict(re.findall(r"<li><code>(.*?)</code> = (.*?)</li>", card))
        for key, value in list(record["values"].items())[:12]:
            text = html_mod.unescape(shown[html_mod.escape(key)])
            expected = str(value) if isinstance(value, bool) or value is None else f"{value:.4g}"
            assert text == expected, (record["id"], key, text, value)


@pytest.mark.slow
def test_a_failing_check_shows_fail_and_a_passing_control_shows_cannot_fail(quick_results, tmp_path, monkeypatch):
    import dataclasses

    from reports import registry
    from reports.registry import Control
    results, _ = quick_results
    real = registry.experiments()

    def patched(first_claim):
        theory = dataclasses.replace(real["theory"], claims=(first_claim,) + real["theory"].claims[1:])
        return {**real, "theory": theory}

    first = real["theory"].claims[0]
    monkeypatch.setattr(registry, "TABLE", patched(dataclasses.replace(
        first, check=lambda r, tol: Verdict(False, "x", "y"))))
    doc = build.build("quick", results, tmp_path / "out", notebooks=False)
    assert doc["claims"][0]["status"] == "fail"
    monkeypatch.setattr(registry, "TABLE", patched(dataclasses.replace(
        first, controls=(Control("truth", "the right model itself: a bad control", lambda r: r),))))
    doc = build.build("quick", results, tmp_path / "out2", notebooks=False)
    assert doc["claims"][0]["status"] == "cannot_fail"


def test_a_set_override_run_is_what_the_report_shows(tmp_path):
    """--set reaches the report: the runner records the configs it executed, and the builder reads them."""
    from reports import run as runner
    results = tmp_path / "r"
    runner.compute("quick", results, only=["mc_staleness"], settings=["mc_staleness.n_updates=20000"], quiet=True)
    doc = build.build("quick", results, tmp_path / "out", notebooks=False)
    assert doc["settings"] == ["mc_staleness.n_updates=20000"]
    staleness = [c for c in doc["claims"] if c["evidence"] and c["evidence"]["experiment"] == "mc_staleness"]
    assert staleness and all(c["status"] != "not_run" for c in staleness)
    assert "Override run" in (tmp_path / "out" / "report.html").read_text()


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=ROOT)


@pytest.mark.parametrize("args, message", [
    (("reports.run", "--profile", "huge"), "unknown profile 'huge'"),
    (("reports.build", "--profile", "huge"), "unknown profile 'huge'"),
    (("reports.run", "--set", "theory.bogus=1", "--results", "/tmp/unused-results"), "unknown config key 'bogus'"),
    (("reports.run", "--set", "mc_tuning.n_replicas=abc", "--results", "/tmp/unused-results"), "must be an integer"),
    (("reports.run", "--set", "nothing=1"), "must name an experiment"),
    (("reports.run", "--claim", "no-such-claim"), "unknown claim id"),
    (("reports.run", "--results", "/proc/forbidden"), "not writable"),
])
def test_bad_input_is_one_clear_line_and_a_nonzero_exit(args, message):
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    (tmp_path / "r").mkdir()
    proc = run_cli("reports.build", "--out", str(blocker / "out"), "--results", str(tmp_path / "r"), "--no-notebooks")
    assert proc.returncode == 2 and "not writable" in proc.stderr


def test_missing_dataset_is_one_line_naming_the_package(tmp_path):
    import os
    env = {**os.environ, "FASHION_MNIST_DIR": str(tmp_path / "nothing")}
    proc = subprocess.run([sys.executable, "-m", "reports.run", "--profile", "full", "--allow-cpu", "--only",
                           "cnn_batch_ladder", "--results", str(tmp_path / "r")], capture_output=True, text=True,
                          cwd=ROOT, env=env)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "dataset-fashion-mnist" in lines[0] and "--data-dir" in lines[0]
    assert not any((tmp_path / "r").rglob("summary.json"))


def test_repro_recomputes_what_is_stored_and_leaves_committed_evidence_to_verify(tmp_path, monkeypatch, capsys):
    from reports import common, registry, repro
    from reports import run as runner
    real = registry.experiments()
    few = {name: real[name] for name in ("mc_staleness", "cnn_momentum")}
    monkeypatch.setattr(registry, "TABLE", few)
    runner.compute("quick", tmp_path, only=["mc_staleness"], quiet=True)
    assert repro.main(["--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "mc_staleness: bit-identical" in out and "cnn_momentum: committed evidence, not recomputed" in out
    assert "reproducibility: PASS" in out


@pytest.mark.slow
def test_every_notebook_executes_and_a_failed_one_fails_the_build(quick_results, tmp_path, monkeypatch):
    results, _ = quick_results
    doc = build.build("quick", results, tmp_path / "out", notebooks=True, pdf=False)
    assert doc["notebooks"] == {name: "ok" for name in build.NOTEBOOKS}, doc["notebooks"]
    for name in build.NOTEBOOKS:
        page = (tmp_path / "out" / "notebooks" / f"{name}.html").read_text()
        assert "must fail" in page and "Traceback" not in page
    monkeypatch.setattr(build, "build", lambda *a, **k: {**doc, "notebooks": {"cnn": "failed: NameError"}})
    assert build.main(["--results", str(results), "--out", str(tmp_path / "out2")]) == 1
