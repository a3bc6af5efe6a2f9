"""The design of the step rules' replay on the real parameter server (Config), its profiles and smoke config.

The workload, the target, the grids and the queue's seeds are those of the queue study (sim.tuning; the same
fields, the same defaults as reports/experiments/step_rules.py), so that its per-M oracle and its synchronous
tuning are the ones the server replays. On the server a write costs about 17 ms of Dask round trip and
bookkeeping on this 2-core machine (about 50 writes per second at most): the injected exponential work times are
scaled so that writes come every `seconds_per_update` on average (work mean = seconds_per_update x M), under half
of the server's capacity, room for its own time, and runs stop at a cap (a multiple of the queue oracle's median)
or when the distance to w* exceeds `diverged` times ||w*||.
"""
from __future__ import annotations

from dataclasses import dataclass

STRATEGIES = ("oracle", "no_compensation", "delay_adaptive_alone", "first_order+staleness_aware",
              "theorem7+delay_adaptive")


@dataclass(frozen=True)
class Config:
    workers: tuple = (4, 8, 16)
    strategies: tuple = STRATEGIES   # two of the queue study's controllers, the literature's rule alone, controls
    n_seeds: int = 10                # single runs per (M, strategy); seed k shares its work times across strategies
    seconds_per_update: float = 0.04  # mean time between writes the injected work times aim at
    oracle_cap: float = 3.0          # the oracle's runs stop at this many times the queue oracle's median updates
    cap: float = 2.0                 # the other strategies' runs at this many (a ratio above it is "> cap")
    diverged: float = 100.0          # ||w - w*|| / ||w*|| above this: the run is recorded as diverged
    compensate_every: int = 100      # the controllers' reset interval (as the queue study's replay)
    # the queue study's design (sim.tuning), with the queue study's defaults
    updates: int = 1200
    every: int = 10
    target: float = 0.02
    noise_std: float = 0.002
    examples: int = 512
    mu_grid: tuple = (-0.3, 0.0, 0.3, 0.6, 0.9)
    lr_grid: tuple = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
    condition_number: float = 100.0
    seed: int = 0

    def validate(self) -> None:
        if not self.workers or min(self.workers) < 2 or max(self.workers) > 64:
            raise ValueError("workers must be in 2..64 (one process each)")
        unknown = set(self.strategies) - set(strategy_names())
        if not self.strategies or "oracle" not in self.strategies or unknown:
            raise ValueError(f"strategies must include oracle and be among {', '.join(strategy_names())}")
        if not (3 <= self.n_seeds <= 100 and 0.001 <= self.seconds_per_update <= 10 and 1 < self.cap <= 10
                and 1 < self.oracle_cap <= 10 and 1 < self.diverged <= 1e6 and 10 <= self.compensate_every <= 1000):
            raise ValueError("n_seeds in 3..100, seconds_per_update in [0.001, 10], cap and oracle_cap in (1, 10], "
                             "diverged in (1, 1e6], compensate_every in 10..1000")
        if not (100 <= self.updates <= 10 ** 5 and 1 <= self.every <= self.updates and 0 < self.target < 1
                and 0 <= self.noise_std <= 1 and 16 <= self.examples <= 10 ** 5 and 0.0 in self.mu_grid
                and all(-1 < m < 1 for m in self.mu_grid) and self.lr_grid and all(0 < a < 100 for a in self.lr_grid)
                and 1 < self.condition_number <= 10 ** 6):
            raise ValueError("updates in 100..10^5, every in 1..updates, target in (0, 1), noise_std in [0, 1], "
                             "examples in 16..10^5, mu_grid in (-1, 1) with 0, lr_grid in (0, 100), Q in (1, 10^6]")


def strategy_names() -> tuple:
    from sim.step_rules import RULES
    return ("oracle", "no_compensation") + tuple(f"{r}_alone" for r in RULES) + tuple(
        f"{m}+{r}" for m in ("first_order", "theorem7") for r in RULES)


PROFILES = {"quick": Config(), "full": Config(n_seeds=20)}

SMOKE = Config(workers=(2,), strategies=("oracle", "no_compensation", "first_order+staleness_aware"), n_seeds=3,
               seconds_per_update=0.005, updates=200, target=0.2, mu_grid=(0.0, 0.6), lr_grid=(1.0, 4.0))
