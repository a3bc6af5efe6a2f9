"""The momentum measured from the queue's trajectories (Theorem 5 measured): the two-term fit and YellowFin's
estimators on the replica mean per M, with batch SEs, under explicit momentum and other work-time laws, and on one
long noisy run per M; beside them, the fit on the 'momenta add' model's own mean. `config` is the design
(reports.experiments.mc_momentum.Config)."""
from __future__ import annotations

import numpy as np

from sim import async_sgd, estimators
from sim.objectives import Quadratic
from sim.queue import simulate_batch
from sim.seeds import seed_tree
from sim.stats import Pool
from theory import predictions


def _estimates(config, n_workers: int, mu_l: float, seed: np.random.SeedSequence, **law) -> dict:
    quad = Quadratic(tuple(config.eigenvalues))
    per_batch = config.n_replicas // config.n_batches
    rows, pool = [], Pool()
    for child in seed.spawn(config.n_batches):
        queue_seed, noise_seed = child.spawn(2)
        schedule = simulate_batch(n_workers, config.n_steps, per_batch, seed=queue_seed, **law)
        x = async_sgd.run_workers(quad, schedule, config.lr, mu_l, np.ones(quad.dim), config.noise_std,
                                  seed=noise_seed).x
        pool.add(x)
        rows.append(_all_estimators(x.mean(axis=1), quad, config.lr, n_workers))
    # point estimates from all replicas; SE from the spread of per-batch estimates (batch SD / sqrt(B))
    point = _all_estimators(pool.mean_se()[0], quad, config.lr, n_workers)
    se = np.array(rows).std(axis=0, ddof=1) / np.sqrt(config.n_batches)
    # control: the two-term fit on the additive model's own mean trajectory (momentum mu_L + mu_S, step alpha/M)
    additive = predictions.additive_recursion(quad, config.n_steps, config.lr, predictions.implicit_momentum(n_workers),
                                              mu_l, np.ones(quad.dim))
    return {"mu_additive_model": estimators.fit_two_term(additive, quad.gradient(additive))[0], "n_workers": n_workers, "mu_explicit": mu_l, "mu": point[0], "eta": point[1], "mu_se": float(se[0]),
            "eta_se": float(se[1]), "yellowfin_nominal_lr": point[2], "yellowfin_effective_lr": point[3],
            "yellowfin_effective_se": float(se[3])}


def _all_estimators(mean: np.ndarray, quad: Quadratic, lr: float, n_workers: int) -> list[float]:
    g = quad.gradient(mean)
    mu, eta = estimators.fit_two_term(mean, g)
    return [mu, eta, estimators.yellowfin_momentum(mean, g, lr), estimators.yellowfin_momentum(mean, g, lr / n_workers)]


def single_trajectory(config, seed: np.random.SeedSequence) -> dict:
    """The two-term fit on ONE long noisy run per M (what a running system sees), not on a mean over replicas."""
    quad = Quadratic(tuple(np.geomspace(0.01, 1.0, config.single_dim)))
    out = {}
    for m, child in zip(config.workers, seed.spawn(len(config.workers))):
        queue_seed, noise_seed = child.spawn(2)
        schedule = simulate_batch(m, config.single_steps, 1, seed=queue_seed)
        x = async_sgd.run_workers(quad, schedule, config.lr / 2, 0.0, np.ones(quad.dim), config.single_noise_std,
                                  seed=noise_seed).x[:, 0, :]
        mu, eta = estimators.fit_two_term(x, quad.gradient(x))
        out[m] = {"mu": mu, "eta": eta}
    return out


def tables(config) -> dict:
    """The summary: the estimates per M, with explicit momentum, under other laws, and on single runs."""
    seeds = seed_tree(config.seed, "exponential", "explicit", "other_laws", "single")
    exp = {m: _estimates(config, m, 0.0, s) for m, s in zip(config.workers,
                                                                seeds["exponential"].spawn(len(config.workers)))}
    explicit = {f"M={int(m)},mu_L={mu:g}": _estimates(config, int(m), mu, s) for (m, mu), s in
                zip(config.explicit_cases, seeds["explicit"].spawn(len(config.explicit_cases)))}
    m = config.other_laws_workers
    law_seeds = seeds["other_laws"].spawn(3)
    laws = {"gamma": _estimates(config, m, 0.0, law_seeds[0], work_time="gamma", shape=config.gamma_shape),
            "constant": _estimates(config, m, 0.0, law_seeds[1], work_time="constant", value=1.0),
            "exponential": exp.get(m) or _estimates(config, m, 0.0, law_seeds[2])}
    return {"exponential": exp, "explicit": explicit, "other_laws": laws, "other_laws_workers": m,
               "single_trajectory": single_trajectory(config, seeds["single"]), "lr": config.lr}
