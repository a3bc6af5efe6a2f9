"""The experiment's run(config) -> Result over the study's numerics (sim.law_study)."""
from __future__ import annotations

import numpy as np

from reports.harness.store import Result
from sim.law_study import delay_stability, fit_noise_floor, geometric_reduction, one_law
from sim.seeds import seed_tree
from reports.experiments.staleness_laws.config import Config


def run(config: Config) -> Result:
    roles = seed_tree(config.seed, "laws", "fit-floor")  # two roles, two streams (one call: they never coincide)
    seeds = roles["laws"].spawn(len(config.laws) * len(config.workers))
    per = {}
    for i, name in enumerate(config.laws):
        per[name] = {m: one_law(config, name, m, seeds[i * len(config.workers) + j])
                     for j, m in enumerate(config.workers)}
    floor = fit_noise_floor(config, roles["fit-floor"])
    stability, reduction = delay_stability(config.max_delay), geometric_reduction()
    summary = {"per_law": per, "stability": stability, "reduction": reduction, "workers": list(config.workers),
               "fit_noise_floor": floor,
               "grid_step": float(np.diff(config.mu_explicit_grid).max()), "laws": list(config.laws)}
    return Result(summary=summary, arrays={})

