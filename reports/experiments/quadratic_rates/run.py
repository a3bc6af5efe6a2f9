"""The quadratic model's run(config) -> Result (its numerics: sim.quadratic_study)."""
from __future__ import annotations

from reports.experiments.quadratic_rates.config import Config
from reports.harness.store import Result
from sim.quadratic_study import tables


def run(config: Config) -> Result:
    summary, log = tables(config)
    return Result(summary=summary, log=log)

