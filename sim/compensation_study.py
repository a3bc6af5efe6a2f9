"""The momentum-compensation study's numerics (reports/experiments/compensation declares its claims over them): the
system-side estimate of the implicit momentum from the staleness log and the closed loop on quadratics (Theorem 7's
rates), Omnivore's rule against the exhaustive optimum, every estimator on one run per (law, M), and logistic
regression under the queue model with the loop replayed on each replica's queue. Pure numpy, seeded."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import async_sgd, compensation, estimators
from sim.laws import named_law as law_params
from sim.objectives import Quadratic
from sim.queue import queue_pmf, simulate, simulate_batch, tile
from sim.seeds import seed_tree
from theory import laws, predictions, rates


@dataclass(frozen=True)
class CompensationStudy:
    """The study's knobs: the quadratic and M for the system's estimate and the closed loop, the estimators'
    laws, logistic regression under the queue model."""
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



def _roles(seed) -> dict:
    """The streams of the three parts (the system's estimates, logistic regression, the estimators): one tree, so
    no two parts share a stream."""
    return seed_tree(seed, "queues", "logreg", "estimators")


def _updates(config: CompensationStudy, m: int, mu: float, lr: float) -> float:
    lam = rates.spread_eigenvalues(config.condition_number)
    return compensation.updates_to_target(rates.rate(predictions.implicit_momentum(m), mu, lr, lam), config.target)


def study(config: CompensationStudy) -> dict:
    """Every part of the study: its summary (the experiment's Result holds it)."""
    q = config.condition_number
    sync_mu, sync_lr, sync_rate = rates.best_explicit_momentum(0.0, q)
    seeds = _roles(config.seed)["queues"].spawn(len(config.workers))
    per = {}
    for m, seed in zip(config.workers, seeds):
        schedule = simulate(m, config.n_updates, seed=seed)
        counts, estimates = compensation.system_estimates(schedule.staleness[~schedule.warmup], config.every)
        mu_hat = float(estimates[-1])
        mu_low = compensation.lower_bound(schedule.staleness[~schedule.warmup])
        entry = {"estimates": [float(v) for v in estimates], "counts": [int(c) for c in counts], "mu_hat": mu_hat,
                 "mu_hat_lower": mu_low}
        for name, (mu, lr) in (("closed_loop", compensation.controller(mu_low, q)),
                               ("closed_loop_point", compensation.controller(mu_hat, q)),
                               ("first_order", compensation.controller(mu_hat, q, "first_order")),
                               ("oracle", rates.best_explicit_momentum(predictions.implicit_momentum(m), q)[:2]),
                               ("fixed_0.9", rates.best_explicit_momentum(predictions.implicit_momentum(m), q, mu_explicit=0.9)[:2]),
                               ("no_compensation", (sync_mu, sync_lr))):
            entry[name] = {"mu_explicit": float(mu), "lr": float(lr), "updates": _updates(config, m, mu, lr)}
        per[m] = entry
    speed = lambda m: 1.0 / min(m, config.saturation)  # noqa: E731 - time per update
    exhaustive = {}
    m = 1
    while m <= config.max_workers:
        mu, lr, rate = rates.best_explicit_momentum(predictions.implicit_momentum(m), q)
        updates = compensation.updates_to_target(rate, config.target)
        rate_nn = rates.best_explicit_momentum(predictions.implicit_momentum(m), q, mu_range=(0.0, 0.95))[2]
        exhaustive[m] = {"mu_explicit": mu, "lr": lr, "updates": updates, "wall_time": updates * speed(m),
                              "wall_time_non_negative": compensation.updates_to_target(rate_nn, config.target) * speed(m)}
        m *= 2
    rule = compensation.omnivore(config.max_workers, q, speed, config.target)
    never = compensation.omnivore(config.max_workers, q, speed, config.target, halve=False)
    summary = {"logreg": _logreg(config), "estimators": _estimators(config), "per_workers": per, "synchronous": {"mu_explicit": sync_mu, "lr": sync_lr,
                                                   "updates": compensation.updates_to_target(sync_rate, config.target)},
               "exhaustive": exhaustive, "omnivore": rule, "never_halve": never,
               "mu_star": rates.polyak_momentum(q), "workers": list(config.workers)}
    return summary


LOGREG_RULES = {"closed_loop": "keep", "closed_loop_theorem7_step": "theorem7", "closed_loop_delay_step": "delay"}
LOGREG_EVERY = 10


def _logreg(config: CompensationStudy) -> dict:
    """Logistic regression under the queue model: updates until the replicas' mean ||w_t - w*|| / ||w*|| falls below
    the target, for the synchronous tuning (grid at M = 1), the per-M oracle (the same grid at each M), mu_L = 0.9
    (step tuned per M), no compensation (the M = 1 tuning at every M), and the closed loop replayed on each replica's
    queue (compensation.schedule_controls: mu_L and the step reset every 100 updates) with the step tuned at M = 1
    kept (the server's default), scaled by Theorem 7's ratio, or by the pure delay's stability bound."""
    from sim.objectives import LogReg
    work = LogReg(0, n=config.logreg_examples)
    w_star = work.optimum()
    Objective = work.as_objective()

    def updates(x: np.ndarray, n_configs: int) -> np.ndarray:
        """x: (T+1, n_configs * R, d) -> the first checked update with the mean relative distance below target."""
        dist = np.linalg.norm(x[::LOGREG_EVERY] - w_star, axis=-1) / np.linalg.norm(w_star)
        mean = dist.reshape(dist.shape[0], n_configs, -1).mean(axis=-1)
        ok = np.nan_to_num(mean, nan=np.inf) <= config.logreg_target
        return np.where(ok.any(axis=0), ok.argmax(axis=0) * LOGREG_EVERY, np.inf)

    grid_mu, grid_lr = (a.ravel() for a in np.meshgrid(config.logreg_mu_grid, config.logreg_lr_grid, indexing="ij"))
    w0 = work.init()

    def sweep(schedule) -> np.ndarray:
        r = schedule.worker.shape[0]
        with np.errstate(all="ignore"):
            x = async_sgd.run_workers(Objective, tile(schedule, grid_mu.size), np.repeat(grid_lr, r),
                                      np.repeat(grid_mu, r), w0).x
        return updates(x, grid_mu.size)

    seeds = _roles(config.seed)["logreg"].spawn(len(config.logreg_workers))
    sync = sweep(simulate_batch(1, config.logreg_updates, 1))
    i = int(np.argmin(sync))
    mu_1, lr_1 = float(grid_mu[i]), float(grid_lr[i])
    out = {"synchronous": {"mu_explicit": mu_1, "lr": lr_1, "updates": float(sync[i])}, "w_star_norm":
           float(np.linalg.norm(w_star)), "per_workers": {}}
    for m, seed in zip(config.logreg_workers, seeds):
        schedule = simulate_batch(m, config.logreg_updates, config.logreg_replicas, seed=seed)
        table = sweep(schedule)
        best = int(np.argmin(table))
        fixed = np.where(grid_mu == 0.9, table, np.inf)
        j = int(np.argmin(fixed))
        entry = {"oracle": {"mu_explicit": float(grid_mu[best]), "lr": float(grid_lr[best]),
                            "updates": float(table[best])},
                 "fixed_0.9": {"mu_explicit": 0.9, "lr": float(grid_lr[j]), "updates": float(fixed[j])},
                 "no_compensation": {"mu_explicit": mu_1, "lr": lr_1,
                                     "updates": float(table[(grid_mu == mu_1) & (grid_lr == lr_1)][0])}}
        for name, rule in LOGREG_RULES.items():
            controls = [compensation.schedule_controls(s, w, config.logreg_condition_number, mu_1, lr_1, rule,
                                                       n_workers=m) for s, w in zip(schedule.staleness, schedule.warmup)]
            mu, lr = np.array([c[0] for c in controls]), np.array([c[1] for c in controls])
            with np.errstate(all="ignore"):
                x = async_sgd.run_workers(Objective, schedule, lr, mu, w0).x
            entry[name] = {"mu_explicit": float(mu[:, -1].mean()), "lr": float(lr[:, -1].mean()),
                           "updates": float(updates(x, 1)[0])}
        out["per_workers"][m] = entry
    return out


def _estimators(config: CompensationStudy) -> dict:
    """Every estimator on one run per (law, M), against the law's two-term momentum at the run's step (the truth:
    1 - 1/M for the exponential law); the trajectory-side ones also on the mean of many runs (the control)."""
    quad = Quadratic(tuple(np.geomspace(0.1, 1.0, config.estimator_dim)))
    lr, every, w0 = config.estimator_lr, config.every, np.ones(config.estimator_dim)
    names = [(law, m) for law in config.estimator_laws for m in config.estimator_workers]
    seeds = _roles(config.seed)["estimators"].spawn(len(names))
    out = {}
    for (name, m), seed in zip(names, seeds):
        pmf_seed, queue_seed, noise_seed, mean_seed = seed.spawn(4)
        law, params = law_params(name, m)
        pmf, se = queue_pmf(m, law, n_updates=4000, n_replicas=64, seed=pmf_seed, **params)
        truth = laws.two_term_fit(pmf if se.max() == 0 else laws.trim(pmf), lr, quad.eigenvalues)[0]
        schedule = simulate_batch(m, config.n_updates, 1, law, queue_seed, **params)
        x = async_sgd.run_workers(quad, schedule, lr, 0.0, w0, config.estimator_noise, seed=noise_seed).x[:, 0]
        g = quad.gradient(x)
        staleness = schedule.staleness[0][~schedule.warmup[0]]
        counts, geometric = compensation.system_estimates(staleness, every)
        _, law_fit = compensation.law_estimates(staleness, lr, quad.eigenvalues, every)
        own = compensation.trajectory_estimates(x, g, lr, every)
        effective = compensation.trajectory_estimates(x, g, lr * (1 - truth), every)
        batch = simulate_batch(m, config.n_updates, config.estimator_replicas, law, mean_seed, **params)
        mean = async_sgd.run_workers(quad, batch, lr, 0.0, w0, config.estimator_noise, seed=mean_seed).x.mean(axis=1)
        g_mean = quad.gradient(mean)
        out[f"{name},M={m}"] = {
            "law": name, "n_workers": m, "truth": truth, "counts": [int(c) for c in counts],
            "system_geometric": [float(v) for v in geometric], "system_law": [float(v) for v in law_fit],
            "trajectory_counts": [int(c) for c in own["counts"]],
            "yellowfin_own_step": [float(v) for v in own["yellowfin"]],
            "yellowfin_effective_step": [float(v) for v in effective["yellowfin"]],
            "iv": [float(v) for v in own["iv"]],
            "mean_of_runs": {"yellowfin_effective_step": estimators.yellowfin_momentum(mean, g_mean, lr * (1 - truth),
                                                                                         0.999),
                             "iv": compensation.iv_two_term(mean, g_mean)[0]}}
    return out
