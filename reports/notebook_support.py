"""Helpers for the notebooks: read the stored results of the run the report is built for."""
from __future__ import annotations

import os
from pathlib import Path

from reports.common import DEFAULT_RESULTS, load, read_plan
from reports.registry import claims, experiments, judge


def _loaded() -> tuple[str, dict]:
    profile, results = os.environ.get("SUITE_PROFILE", "quick"), Path(os.environ.get("SUITE_RESULTS", DEFAULT_RESULTS))
    cfgs, _ = read_plan(results, profile)
    return profile, load(profile, results, cfgs=cfgs)


def load_result(name: str):
    profile, loaded = _loaded()
    result, _ = loaded[name]
    if result is None:  # not computed for this profile (e.g. the full CNN sweep without GPU evidence)
        raise RuntimeError(f"no stored {profile} result for {name}; run `make report` first")
    return result


def show_figures(name: str) -> None:
    import matplotlib.pyplot as plt
    for fig in experiments()[name].figures(load_result(name)).values():
        plt.show()
        del fig


def claims_table(evidence: list[str]) -> None:
    """Status of the claims decided by this evidence (symbolic, quadratic, monte_carlo, cnn, real_async), by role."""
    _, loaded = _loaded()
    for claim in claims():
        if claim.evidence in evidence:
            record = judge(claim, loaded[claim.experiment][0])
            print(f"{record['status']:12s} {claim.role:10s} {claim.id}")
