"""The experiment's knobs (Config) and profiles."""
from __future__ import annotations

import numpy as np

from sim.law_study import LawStudy, law_params  # noqa: F401  (law_params: the named laws, read by the tests)
from sim.laws import MEASURED_TRACE, NAMED_LAWS

LAWS = NAMED_LAWS
TRACE = MEASURED_TRACE
Config = LawStudy   # the experiment's knobs are the study's (sim.law_study)


PROFILES = {"quick": Config(),
            "full": Config(n_replicas=5000, pmf_updates=10_000, pmf_replicas=128,
                           mu_explicit_grid=tuple(np.round(np.arange(-0.6, 0.91, 0.075), 3)))}
