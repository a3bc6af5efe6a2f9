"""The quick CNN sweep the closed loop is scored against: a (mu_L, step) grid per M as the per-M oracle, and the
loop's runs on each seed's own queue and mini-batches (paired with the grid).

Quick (CPU, about 5 min on 2 cores): 14 x 14 inputs, width 0.25, batch 16, 12k images, a 960-update budget. Steps
are gridded in the effective step eta = alpha / (1 - mu_L), scaled as eta M^(-step_exponent) (measured: the best
effective step falls from 0.1 at M = 1 to about 0.0125 at M = 16), so that few runs are wasted diverging. Targets:
the losses the best synchronous configuration (mean over seeds) reaches at fixed fractions of the budget.
"""
from __future__ import annotations

from dataclasses import dataclass

from cnn_experiments.specs import CONTROLLERS

FIG8_MU = tuple(round(-0.9 + 0.225 * i, 3) for i in range(9))


@dataclass(frozen=True)
class Config:
    dataset: str = "fashion_mnist"
    data_dir: str = ""
    n_train: int = 12_000
    n_eval: int = 192
    pool: int = 2                 # 2 x 2 average pooling of the images: 14 x 14 inputs on the CPU
    batch_size: int = 16
    width: float = 0.25
    init: str = "he"
    workers: tuple = (1, 2, 4, 8, 16)
    mu_grid: tuple = FIG8_MU[1:]  # Fig. 8's grid without -0.9
    step_grid: tuple = (0.05, 0.1, 0.2)   # effective steps alpha / (1 - mu_L) at M = 1
    step_exponent: float = 0.75   # at M workers the effective steps are step_grid x M^(-step_exponent)
    seeds: tuple = (0, 1, 2, 3, 4)
    budget: int = 960             # updates per run at M > 1 (runs stop at the last target)
    sync_budget: int = 200        # updates per synchronous run (they set the targets, so cannot stop at them)
    eval_every: int = 6
    target_fractions: tuple = (1 / 24, 1 / 12)  # of `budget`
    loop_rules: tuple = CONTROLLERS  # the closed loop's step rules
    max_batch: int = 128
    work_time: str = "exponential"
    device: str = "auto"
    threads: int = 1              # torch threads per process: the bits depend on it (a cluster worker runs one)

    def validate(self) -> None:
        if self.dataset not in ("fashion_mnist", "cifar10"):
            raise ValueError(f"dataset must be fashion_mnist or cifar10, got {self.dataset!r}")
        if self.work_time not in ("exponential", "gamma", "constant", "lognormal"):
            raise ValueError(f"work_time must be exponential, gamma, constant or lognormal, got {self.work_time!r}")
        if not (self.device in ("auto", "cpu", "cuda") or
                (self.device.startswith("cuda:") and self.device[5:].isdigit())):
            raise ValueError(f"device must be auto, cpu, cuda or cuda:N, got {self.device[:40]!r}")
        if self.init not in ("he", "torch") or len(self.data_dir) > 4096 or not 1 <= self.threads <= 64:
            raise ValueError("init must be he or torch, data_dir at most 4096 characters, threads in 1..64")
        if not (self.workers and self.mu_grid and self.step_grid and self.target_fractions and self.seeds
                and self.loop_rules):
            raise ValueError("workers, mu_grid, step_grid, target_fractions, seeds and loop_rules must be non-empty")
        if not (1 <= self.batch_size <= 4096 and 100 <= self.n_train <= 10 ** 6 and 1 <= self.n_eval <= 10 ** 5
                and 0.05 <= self.width <= 4 and self.eval_every >= 1 and self.max_batch >= 1 and 1 <= self.pool <= 4):
            raise ValueError("batch_size must be in 1..4096, n_train in 100..10^6, n_eval in 1..10^5, width in "
                             "[0.05, 4], pool in 1..4, eval_every and max_batch >= 1")
        if any(not 0 < f < 1 for f in self.target_fractions):
            raise ValueError("target_fractions must lie in (0, 1)")
        if min(self.workers) < 1 or 1 not in self.workers or max(self.workers) > 1024:
            raise ValueError("workers must be in 1..1024 and include 1 (the synchronous baseline)")
        if any(not -1 < mu < 1 for mu in self.mu_grid):
            raise ValueError("every momentum in mu_grid must be in (-1, 1)")
        if any(not 0 < eta for eta in self.step_grid) or not 0 <= self.step_exponent <= 1:
            raise ValueError("step_grid must be positive and step_exponent in [0, 1]")
        if any(not 0 < eta * (1 - mu) < 10 for eta in self.step_grid for mu in self.mu_grid):
            raise ValueError("every step alpha = eta (1 - mu_L) must be in (0, 10)")
        if not max(self.target_fractions) * self.budget < self.sync_budget <= self.budget <= 10 ** 6:
            raise ValueError("sync_budget must exceed the last target's updates (max target_fraction x budget) and "
                             "be at most budget (<= 10^6)")
        if any(rule not in CONTROLLERS for rule in self.loop_rules):
            raise ValueError(f"loop_rules must be drawn from {', '.join(CONTROLLERS)}")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError("seeds must not repeat")


PROFILES = {"quick": Config(),
            "full": Config(n_train=60_000, n_eval=1024, pool=1, batch_size=128, width=1.0, mu_grid=FIG8_MU,
                           step_grid=(0.025, 0.05, 0.1, 0.2), budget=3200, sync_budget=800, eval_every=20,
                           target_fractions=(1 / 32, 1 / 16), max_batch=256)}
SMOKE = Config(n_train=256, n_eval=64, batch_size=8, width=0.125, workers=(1, 2), mu_grid=(0.0, 0.9),
               step_grid=(0.1,), seeds=(0, 1), budget=20, sync_budget=20, eval_every=5, max_batch=16)
