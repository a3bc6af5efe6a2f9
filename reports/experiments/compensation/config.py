"""The experiment's knobs (Config: the study's, sim.compensation_study) and profiles."""
from __future__ import annotations

from sim.compensation_study import CompensationStudy

Config = CompensationStudy


PROFILES = {"quick": Config(), "full": Config(workers=(2, 4, 8, 16, 32), n_updates=20_000, max_workers=64)}
