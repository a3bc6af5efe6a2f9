"""The real-asynchrony experiment's knobs (Config), its profiles and smoke config."""
from __future__ import annotations

from dataclasses import dataclass

@dataclass(frozen=True)
class Config:
    geometric_workers: tuple = (2, 4, 8)
    geometric_updates: int = 300
    work_mean: float = 0.2            # seconds; the ~5 ms of a Dask return trip delays each read by 2-3 % of it
    natural_workers: int = 4
    natural_updates: int = 400
    momentum_workers: tuple = (2, 4)
    momentum_replicas: int = 16
    momentum_model_repeats: int = 50  # Monte Carlo repetitions of the same estimator under the queue model
    momentum_updates: int = 40
    momentum_lr: float = 0.5
    momentum_batch_size: int = 4096   # full-batch gradients: only the schedule is random, so few runs suffice
    momentum_work_mean: float = 0.1
    efficiency_workers: tuple = (1, 2, 4, 8)
    efficiency_updates: int = 200
    efficiency_work_mean: float = 0.03
    efficiency_lr: float = 0.5
    efficiency_batch_size: int = 1_000_000  # full-batch gradients: SE then measures staleness, not batch noise
    efficiency_target_at: float = 0.3  # target: the loss M = 1 reaches at this fraction of its updates
    seed: int = 0

    def validate(self) -> None:
        if not self.geometric_workers or min(self.geometric_workers) < 2 or self.geometric_updates < 100:
            raise ValueError("geometric_workers must be >= 2 and geometric_updates >= 100")
        workers = (*self.geometric_workers, *self.momentum_workers, *self.efficiency_workers, self.natural_workers)
        if max(workers) > 64:
            raise ValueError("at most 64 worker processes (one per core on a large machine)")
        if not all(0 < t <= 60 for t in (self.work_mean, self.momentum_work_mean, self.efficiency_work_mean)):
            raise ValueError("work means must be in (0, 60] seconds")


PROFILES = {"quick": Config(), "full": Config(geometric_updates=2000, natural_updates=2000, momentum_replicas=32,
                                              momentum_updates=60)}

SMOKE = Config(geometric_workers=(2,), geometric_updates=100, work_mean=0.01, momentum_work_mean=0.01, natural_workers=2,
               natural_updates=100, momentum_workers=(2,), momentum_replicas=2, momentum_model_repeats=3,
               momentum_updates=10, efficiency_workers=(1, 2), efficiency_updates=40, efficiency_work_mean=0.01)
