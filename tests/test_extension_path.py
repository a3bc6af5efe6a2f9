"""The README's "add a claim or an experiment", tried: a toy experiment declared as documented (a frozen Config, the
two profiles and a smoke config, a pure run, figures, a claim with a Tolerance and a negative control) is computed by
reports.run, judged, and shown in the report as any other."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from reports import build, registry
from reports import run as runner
from reports.harness.store import Result
from reports.registry import Claim, Control, Experiment, Tolerance, Verdict, validate_experiment, with_summary


@dataclass(frozen=True)
class ToyConfig:
    n_workers: int = 4

    def validate(self) -> None:
        if not 1 <= self.n_workers <= 64:
            raise ValueError("n_workers must be in 1..64")


def toy_run(config: ToyConfig) -> Result:
    return Result(summary={"mean_staleness": {config.n_workers: config.n_workers - 1.0}})


def toy_check(result: Result, tol: Tolerance) -> Verdict:
    (m, mean), = result.summary["mean_staleness"].items()
    return Verdict(abs(mean - (m - 1)) <= tol.value, "mean staleness M - 1", f"M={m}: {mean:g}", {f"M={m}": mean})


TOY = Experiment(
    name="toy", method="monte_carlo", part="beyond", version=1, config=ToyConfig,
    profiles={"quick": ToyConfig(), "full": ToyConfig(n_workers=16)}, smoke=ToyConfig(n_workers=2), run=toy_run,
    figures=lambda result: {}, uses_model=False,
    claims=(Claim(id="extension-toy-mean", paper_ref="Theorem 5", statement="The toy's mean staleness is M - 1.",
                  check=toy_check, tolerance=Tolerance(0.0, "absolute", "an exact identity"),
                  controls=(Control("one-more", "a staleness one update longer", lambda r: with_summary(
                      r, mean_staleness={m: v + 1 for m, v in r.summary["mean_staleness"].items()})),),
                  paper="Theorem 5: mean staleness M - 1"),))


def test_a_toy_experiment_declared_as_documented_runs_and_reaches_the_report(tmp_path, monkeypatch):
    validate_experiment(TOY)
    theory = registry.experiment("theory")
    monkeypatch.setattr(registry, "TABLE", {"toy": TOY, "theory": dataclasses.replace(theory, claims=theory.claims[:1])})
    results = runner.compute("quick", tmp_path / "results", only=["toy"], quiet=True)
    assert results["toy"].summary["mean_staleness"] == {4: 3.0}     # int keys survive the store
    doc = build.build("quick", tmp_path / "results", tmp_path / "out", notebooks=False, pdf=False)
    record = next(c for c in doc["claims"] if c["id"] == "extension-toy-mean")
    assert record["status"] == "pass" and record["role"] == "extension" and record["part"] == "beyond"
    assert record["controls"][0]["status"] == "fail" and record["paper_value"] == "Theorem 5: mean staleness M - 1"
    assert "extension-toy-mean" in (tmp_path / "out" / "report.html").read_text()
