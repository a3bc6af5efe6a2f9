"""Helpers for the notebooks: read the stored results of the profile the report is built for."""
from __future__ import annotations

import os
from pathlib import Path

from reports.common import DEFAULT_RESULTS, load
from reports.registry import claims, experiments


def _profile() -> tuple[str, Path]:
    return os.environ.get("SUITE_PROFILE", "quick"), Path(os.environ.get("SUITE_RESULTS", DEFAULT_RESULTS))


def load_result(name: str):
    profile, results = _profile()
    result, _ = load(profile, results)[name]
    if result is None:  # not computed for this profile (e.g. the full CNN sweep without GPU evidence)
        raise RuntimeError(f"no stored {profile} result for {name}; run `make report` first")
    return result


def show_figures(name: str) -> None:
    import matplotlib.pyplot as plt
    for fig in experiments()[name].figures(load_result(name)).values():
        plt.show()
        del fig


def claims_table(kinds: list[str]) -> None:
    profile, results = _profile()
    loaded = load(profile, results)
    for claim in claims():
        if claim.kind not in kinds:
            continue
        result, _ = loaded[claim.experiment]
        passed = None if result is None else claim.check(result).passed
        status = "not_run" if passed is None else ("pass" if passed else "fail")
        print(f"{status:8s} {claim.id}")
