"""The experiment's knobs (Config) and profiles."""
from __future__ import annotations
from dataclasses import dataclass

from sim.laws import named_law as law_params





@dataclass(frozen=True)
class Config:
    workers: tuple = (2, 4, 8, 16)
    condition_number: float = 100.0
    n_updates: int = 2000
    every: int = 100
    target: float = 1e-3
    max_workers: int = 32
    saturation: int = 8          # synthetic hardware efficiency: time per update 1 / min(M, saturation)
    # the estimators compared on one run (law x M), where the truth is the law's two-term momentum
    estimator_laws: tuple = ("exponential", "gamma-10", "constant")
    estimator_workers: tuple = (1, 2, 4, 8, 16)
    estimator_dim: int = 16      # a quadratic with eigenvalues spread over [0.1, 1]
    estimator_lr: float = 0.05   # stable for every law up to M = 16 (the pure delay's bound at tau = 15 is 0.101)
    estimator_noise: float = 0.1
    estimator_replicas: int = 200  # the control: the estimators on the mean of this many runs
    # logistic regression (the real parameter server's workload, full-batch gradients) under the queue model
    logreg_workers: tuple = (4, 8, 16)
    logreg_updates: int = 1500
    logreg_replicas: int = 4
    logreg_examples: int = 512
    logreg_mu_grid: tuple = (-0.6, -0.3, 0.0, 0.3, 0.6, 0.9)
    logreg_lr_grid: tuple = (0.0625, 0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
    logreg_target: float = 1e-2   # ||w_t - w*|| / ||w*||, the replicas' mean, checked every 10 updates
    logreg_condition_number: float = 100.0  # the loop's guess of Q (measured at w*: 103)
    seed: int = 0

    def validate(self) -> None:
        if not self.workers or min(self.workers) < 2 or max(self.workers) > 256:
            raise ValueError("workers must be in 2..256")
        if not 100 <= self.n_updates <= 10 ** 7 or not 1 <= self.every <= self.n_updates:
            raise ValueError("n_updates must be in 100..10^7 and every in 1..n_updates")
        if not 1 < self.condition_number <= 10 ** 6 or not 0 < self.target < 1:
            raise ValueError("condition_number must be in (1, 10^6] and target in (0, 1)")
        if self.max_workers < 1 or self.max_workers & (self.max_workers - 1) or self.saturation < 1:
            raise ValueError("max_workers must be a power of two, saturation >= 1")
        for name in self.estimator_laws:
            law_params(name, 2)
        if not self.estimator_workers or min(self.estimator_workers) < 1 or max(self.estimator_workers) > 64:
            raise ValueError("estimator_workers must be in 1..64")
        if not 2 <= self.estimator_dim <= 1000 or not 0 < self.estimator_lr <= 0.1 or self.estimator_noise < 0:
            raise ValueError("estimator_dim in 2..1000, estimator_lr in (0, 0.1], estimator_noise >= 0")
        if not 2 <= self.estimator_replicas <= 10_000:
            raise ValueError("estimator_replicas must be in 2..10000")
        if not self.logreg_workers or min(self.logreg_workers) < 2 or max(self.logreg_workers) > 64:
            raise ValueError("logreg_workers must be in 2..64")
        if not 100 <= self.logreg_updates <= 10 ** 5 or not 1 <= self.logreg_replicas <= 1000:
            raise ValueError("logreg_updates must be in 100..10^5 and logreg_replicas in 1..1000")
        if 0.9 not in self.logreg_mu_grid or any(not -1 < mu < 1 for mu in self.logreg_mu_grid):
            raise ValueError("logreg_mu_grid must lie in (-1, 1) and contain 0.9 (the fixed-momentum baseline)")
        if any(lr <= 0 for lr in self.logreg_lr_grid) or not 0 < self.logreg_target < 1:
            raise ValueError("logreg_lr_grid must be positive and logreg_target in (0, 1)")


PROFILES = {"quick": Config(), "full": Config(workers=(2, 4, 8, 16, 32), n_updates=20_000, max_workers=64)}
