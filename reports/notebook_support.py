"""Helpers for the notebooks: read the results of the run the report is built for, and show one part of the paper —
every experiment of the part with its figures, and every claim with what its verdict means, its check, its numbers
and its controls (the same records as claims.json)."""
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
    """The result of one experiment for this report, or None (not run for this profile: the report says why)."""
    _, loaded = _loaded()
    return loaded[name][0]


def part_of(name: str) -> str:
    return experiments()[name].part


def show_figures(name: str) -> None:
    import matplotlib.pyplot as plt
    result = load_result(name)
    if result is None:
        print(f"{name}: no result for this profile (not run)")
        return
    for fig in experiments()[name].figures(result).values():
        plt.show()
        del fig


def show_part(part: str) -> None:
    """Every experiment of a part of the report: its figures, then each claim's verdict, in words and numbers."""
    from reports.verdict import opening
    _, loaded = _loaded()
    for name in [n for n in experiments() if part_of(n) == part]:
        print(f"== {name}")
        show_figures(name)
        for claim in [c for c in claims() if c.experiment == name]:
            record = judge(claim, loaded[name][0])
            sentence = opening({**record, "id": claim.id, "role": claim.role, "method": claim.method,
                                "meaning": claim.meaning, "power": None})
            print(f"\n{claim.id} [{record['status']}] {sentence}\n  check: {record['expected']}\n  measured: "
                  f"{(record['measured'] or '')[:600]}")
            for control in record["controls"]:
                print(f"  control {control['name']}: {control['status']} (must fail)")
