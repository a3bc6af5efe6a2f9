"""The experiment's run(config) -> Result over the study's numerics (sim.compensation_study)."""
from __future__ import annotations

from reports.harness.store import Result
from sim.compensation_study import study
from reports.experiments.compensation.config import Config


def run(config: Config) -> Result:
    return Result(summary=study(config), arrays={})
