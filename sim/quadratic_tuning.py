"""Tuning under asynchrony on a quadratic with queue-driven staleness, against Theorem 7: every (mu_L, alpha) of a
grid on the same R queue schedules (common random numbers), scored by the decay rate of the expected iterate, beside
Theorem 7's prediction of the same finite-horizon score from iterating (19) exactly. `config` is the design
(reports.experiments.mc_tuning.Config)."""
from __future__ import annotations

import math

import numpy as np

from sim import async_sgd
from sim.objectives import Quadratic
from sim.queue import simulate_batch, tile
from sim.seeds import seed_tree
from sim.stats import expected_iterate_rate
from theory import predictions, rates


def _grid(config, n_workers: int):
    mus, lrs = np.array(config.mu_explicit_grid), np.array(config.lr_per_worker_grid) * n_workers
    return np.meshgrid(mus, lrs, indexing="ij")


def scores(config, n_workers: int, seed) -> np.ndarray:
    """Monte Carlo scores of every (mu_L, alpha) pair, arrays (n_mu, n_lr): the expected iterate's rate, and the
    same rate of the root-mean-square iterate (below 1: the runs themselves converge, not only their mean)."""
    quad = Quadratic((1.0, 1.0 / config.condition_number))
    grid_mu, grid_lr = _grid(config, n_workers)
    n_configs, R = grid_mu.size, config.n_replicas
    schedule = tile(simulate_batch(n_workers, config.n_steps, R, seed=seed), n_configs)
    with np.errstate(over="ignore", invalid="ignore"):
        x = async_sgd.run_workers(quad, schedule, np.repeat(grid_lr.ravel(), R), np.repeat(grid_mu.ravel(), R),
                                  np.ones(2)).x
        x = x.reshape(x.shape[0], n_configs, R, -1)
        mean, mean_square = x.mean(axis=2), np.sqrt(np.square(x).mean(axis=2))
    shape = grid_mu.shape
    return (expected_iterate_rate(mean, config.burn_in).reshape(shape),
            expected_iterate_rate(mean_square, config.burn_in).reshape(shape))


def predicted_scores(config, n_workers: int, recursion=predictions.momentum_recursion) -> np.ndarray:
    """The same score of the exact expected iterate of a model (Theorem 7's (19) by default): (n_mu, n_lr)."""
    quad = Quadratic((1.0, 1.0 / config.condition_number))
    grid_mu, grid_lr = _grid(config, n_workers)
    mu_s = predictions.implicit_momentum(n_workers)
    with np.errstate(over="ignore", invalid="ignore"):
        means = [recursion(quad, config.n_steps, lr, mu_s, mu, np.ones(2)) for mu, lr in zip(grid_mu.ravel(),
                                                                                             grid_lr.ravel())]
    return expected_iterate_rate(np.stack(means, axis=1), config.burn_in).reshape(grid_mu.shape)


def _best(config, table: np.ndarray, n_workers: int) -> dict:
    i, j = np.unravel_index(np.argmin(table), table.shape)
    return {"mu_explicit": float(config.mu_explicit_grid[i]), "lr": float(config.lr_per_worker_grid[j] * n_workers),
            "rate": float(table[i, j])}


def tables(config) -> tuple[dict, dict]:
    """(summary, arrays): per M the Monte Carlo's best configuration, Theorem 7's, the 'momenta add' model's, and
    the score tables."""
    per_m, arrays = {}, {}
    mu0 = list(config.mu_explicit_grid).index(0.0)
    for m, seed in zip(config.workers, seed_tree(config.seed, "queues")["queues"].spawn(len(config.workers))):
        table, mean_square = scores(config, m, seed)
        stable = mean_square < 1.0   # the rate of the mean is measurable (and the runs worth running) only here
        theory, additive = predicted_scores(config, m), predicted_scores(config, m, predictions.additive_recursion)
        unrestricted = _best(config, theory, m)
        table, theory, additive = (np.where(stable, v, np.inf) for v in (table, theory, additive))
        asymptotic = rates.best_explicit_momentum(predictions.implicit_momentum(m), config.condition_number,
                                                      n_eigenvalues=2)
        per_m[m] = {"best": _best(config, table, m), "theory": _best(config, theory, m),
                         "additive": _best(config, additive, m), "best_rate_at_mu0": float(table[mu0].min()),
                         "theory_unrestricted": unrestricted, "stable_configs": int(stable.sum()),
                         "theorem7_asymptotic_mu_explicit": asymptotic[0], "theorem7_asymptotic_rate": asymptotic[2]}
        arrays[f"M={m}/rates"], arrays[f"M={m}/theory"], arrays[f"M={m}/mean_square"] = table, theory, mean_square
    mu_star = rates.polyak_momentum(config.condition_number)
    summary = {"per_workers": per_m, "mu_star": mu_star, "m0": math.ceil(1 / (1 - mu_star)),
               "grid_step": float(np.diff(config.mu_explicit_grid).max())}
    return summary, arrays
