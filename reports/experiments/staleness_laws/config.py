"""The experiment's knobs (Config) and profiles."""
from __future__ import annotations
from dataclasses import dataclass

import numpy as np
from sim.laws import MEASURED_TRACE, NAMED_LAWS, named_law






LAWS = NAMED_LAWS
TRACE = MEASURED_TRACE
law_params = named_law  # (sim.queue work-time law, its parameters) of a named law


@dataclass(frozen=True)
class Config:
    laws: tuple = LAWS
    workers: tuple = (2, 4, 8, 16)
    condition_number: float = 10.0
    mu_explicit_grid: tuple = (-0.6, -0.45, -0.3, -0.15, 0.0, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9)
    lr_per_worker_grid: tuple = (0.03, 0.06, 0.1, 0.17, 0.3, 0.5, 0.85, 1.4)  # alpha / M
    trajectory_lr: float = 0.05   # the mean-trajectory check: mu_L = 0 and this alpha (stable for every law up
    #                               to M = 16: the pure delay's bound at tau = 15 is 0.101)
    n_replicas: int = 1000
    n_steps: int = 60
    burn_in: int = 10
    pmf_updates: int = 2000
    pmf_replicas: int = 32
    pmf_tail: float = 1e-4       # estimated pmfs are cut where the tail mass falls below this (renormalised)
    max_delay: int = 15          # the pure-delay stability bound is checked for tau = 1..max_delay
    fit_steps: int = 200         # horizon of the two-term fit to each law's expected trajectory
    stationary_rounds: int = 60  # the stationary start: the queue runs this many writes per worker before update 0
    #                              (20 left a residual at M = 8, 16 for the most regular laws: a burn-in too short)
    seed: int = 0

    def validate(self) -> None:
        if not self.laws or len(set(self.laws)) != len(self.laws):
            raise ValueError(f"laws must be a non-empty list of distinct named laws ({', '.join(NAMED_LAWS)})")
        for name in self.laws:
            law_params(name, 2)
        if not 10 <= self.n_replicas <= 10 ** 5 or not 20 <= self.n_steps <= 10 ** 4:
            raise ValueError("n_replicas must be in 10..10^5 and n_steps in 20..10^4")
        if not self.workers or min(self.workers) < 2 or max(self.workers) > 64:
            raise ValueError("workers must be in 2..64")
        if 0.0 not in self.mu_explicit_grid or any(not -1 < mu < 1 for mu in self.mu_explicit_grid):
            raise ValueError("mu_explicit_grid must lie in (-1, 1) and contain 0.0")
        if not 2 <= self.burn_in <= self.n_steps - 5 or not 0 < self.pmf_tail < 0.01 or self.max_delay < 1:
            raise ValueError("burn_in in 2..n_steps - 5, pmf_tail in (0, 0.01), max_delay >= 1")
        if not 20 <= self.fit_steps <= 10 ** 4 or not 1 <= self.stationary_rounds <= 1000:
            raise ValueError("fit_steps must be in 20..10^4 and stationary_rounds in 1..1000")


PROFILES = {"quick": Config(),
            "full": Config(n_replicas=5000, pmf_updates=10_000, pmf_replicas=128,
                           mu_explicit_grid=tuple(np.round(np.arange(-0.6, 0.91, 0.075), 3)))}
