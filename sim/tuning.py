"""The (mu_L, alpha) grid of single runs under a queue: logistic regression (full-batch gradients plus Gaussian
noise), each run scored by the updates it needs to reach ||w - w*|| <= target ||w*||; the synchronous tuning
(the grid at M = 1) and the per-M oracle (the grid's best median at M). Pure numpy, shared by the queue study of
the step rules and by its replay on the real parameter server."""
from __future__ import annotations

import numpy as np

from sim import async_sgd, scoring
from sim.objectives import LogReg
from sim.queue import simulate_batch, tile
from sim.seeds import seed_tree

ROLES = ("sync", "cases", "noise", "wall")   # the design's streams: queues at M = 1, per case, noise, wall clock


def design_seeds(seed) -> tuple[dict, list]:
    """(the role streams, 64 noise streams): the queue study's seed tree, shared by its replay on the server."""
    roles = seed_tree(seed, *ROLES)
    return roles, roles["noise"].spawn(64)


class Sweep:
    """The workload and the grid sweeps of one design."""

    def __init__(self, examples: int, target: float, every: int, mu_grid, lr_grid):
        self.target, self.every = target, every
        self.work = LogReg(0, n=examples)
        self.w_star, self.objective = self.work.optimum(), self.work.as_objective()
        mu, lr = np.meshgrid(mu_grid, lr_grid, indexing="ij")
        self.grid_mu, self.grid_lr = mu.ravel(), lr.ravel()

    @classmethod
    def of(cls, config) -> "Sweep":
        """From a config with the fields examples, target, every, mu_grid, lr_grid."""
        return cls(config.examples, config.target, config.every, config.mu_grid, config.lr_grid)

    def runs(self, schedule, lr, mu, noise: float, seed) -> np.ndarray:
        with np.errstate(all="ignore"):
            x = async_sgd.run_workers(self.objective, schedule, lr, mu, self.work.init(), noise, seed=seed).x
        return scoring.updates_to_target(x, self.w_star, self.target, self.every)

    def grid(self, schedule, noise: float, seed) -> np.ndarray:
        """(configs, seeds) updates to target of every grid configuration on every queue (common random numbers)."""
        r, n = schedule.worker.shape[0], self.grid_mu.size
        return self.runs(tile(schedule, n), np.repeat(self.grid_lr, r), np.repeat(self.grid_mu, r), noise,
                         seed).reshape(n, r)

    def predicted_updates(self, n_workers: int) -> float:
        """Updates to target from the theory alone (no run): the expected recurrence (19) with mu_S = 1 - 1/M on the
        loss's quadratic model at w* (its Hessian's eigenvalues), from the start w = 0, at the grid's best (mu_L,
        alpha) for its rate, rounded up to the check interval; inf where no grid point converges."""
        from theory.predictions import implicit_momentum
        from theory.rates import root_moduli
        x, y = self.work.x, self.work.y
        p = 1 / (1 + np.exp(-np.clip(x @ self.w_star, -50, 50)))
        eigenvalues = np.linalg.eigvalsh((x * (p * (1 - p))[:, None]).T @ x / len(y))
        gamma = root_moduli(implicit_momentum(n_workers), self.grid_mu, self.grid_lr, eigenvalues).max(axis=-1)
        best = float(gamma.min())
        if not best < 1:
            return float("inf")
        distance = np.linalg.norm(self.work.init() - self.w_star) / np.linalg.norm(self.w_star)
        updates = np.log(self.target / distance) / np.log(best)
        return float(self.every * np.ceil(updates / self.every))

    def best(self, table: np.ndarray) -> int:
        return int(np.argmin(np.median(table, axis=1)))

    def synchronous(self, updates: int, n_seeds: int, noise: float, queue_seed, noise_seed) -> dict:
        """The tuning at M = 1: the grid's best (mu_L, alpha), and the best alpha at mu_L = 0."""
        table = self.grid(simulate_batch(1, updates, n_seeds, seed=queue_seed), noise, noise_seed)
        i = self.best(table)
        at_zero = np.where(self.grid_mu == 0, np.median(table, axis=1), np.inf)
        return {"mu_explicit": float(self.grid_mu[i]), "lr": float(self.grid_lr[i]),
                "lr_mu0": float(self.grid_lr[np.argmin(at_zero)])}

    def oracle(self, schedule, noise: float, noise_seed) -> tuple[dict, np.ndarray]:
        """The per-M oracle on these queues: ({mu_explicit, lr, median, low, high, each}, its runs' updates)."""
        table = self.grid(schedule, noise, noise_seed)
        j = self.best(table)
        return {"mu_explicit": float(self.grid_mu[j]), "lr": float(self.grid_lr[j])} | summary(table[j]), table[j]


def summary(times) -> dict:
    """The median of single runs' updates to target with its order-statistic interval, and the runs."""
    median, low, high = scoring.median_interval(times)
    return {"median": median, "low": low, "high": high, "each": [float(v) for v in times]}
