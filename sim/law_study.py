"""The staleness-law study's numerics (reports/experiments/staleness_laws declares its claims over them): for one
work-time law at M workers, its stationary staleness pmf, asynchronous SGD on a quadratic driven by that law's queue
against the law's own recurrence (theory.laws), the best explicit momentum on a grid, and the momentum picture as a
two-term fit. Pure numpy, seeded by explicit SeedSequences."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim import async_sgd
from sim.laws import NAMED_LAWS, named_law
from sim.objectives import Quadratic
from sim.queue import Schedule, queue_pmf, simulate_batch, tile
from sim.stats import expected_iterate_rate
from theory import laws

law_params = named_law  # (sim.queue work-time law, its parameters) of a named law


@dataclass(frozen=True)
class LawStudy:
    """The study's knobs: the laws and M, the quadratic, the (mu_L, alpha / M) grid, the Monte Carlo and the
    pmf's estimation."""
    laws: tuple = NAMED_LAWS
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



def grid(config: LawStudy, m: int):
    return np.meshgrid(np.array(config.mu_explicit_grid), np.array(config.lr_per_worker_grid) * m, indexing="ij")


def predicted_rates(config: LawStudy, pmf: np.ndarray, m: int, quad: Quadratic, step_scale: float = 1.0) -> np.ndarray:
    """The law's expected-iterate rate at every grid point: one recurrence for all of them, its columns the
    (configuration, eigenvalue) pairs with alpha lambda folded into the eigenvalue (the recurrence sees only their
    product) and mu_L one per column."""
    grid_mu, grid_lr = grid(config, m)
    lam = np.asarray(quad.eigenvalues, dtype=float)
    columns_lr_lam = (grid_lr.ravel()[:, None] * step_scale * lam[None, :]).ravel()
    columns_mu = np.repeat(grid_mu.ravel(), lam.size)
    with np.errstate(over="ignore", invalid="ignore"):
        x = laws.recurrence(pmf, columns_mu, 1.0, columns_lr_lam, config.n_steps, np.ones(columns_mu.size))
    means = x.reshape(config.n_steps + 1, grid_mu.size, lam.size)
    return expected_iterate_rate(means, config.burn_in).reshape(grid_mu.shape)


def best_ongrid(config: LawStudy, table: np.ndarray, m: int) -> dict:
    i, j = np.unravel_index(np.argmin(table), table.shape)
    return {"mu_explicit": float(config.mu_explicit_grid[i]), "lr": float(config.lr_per_worker_grid[j] * m),
            "rate": float(table[i, j])}


def one_law(config: LawStudy, name: str, m: int, seed) -> dict:
    """Everything about one law at M workers."""
    quad = Quadratic((1.0, 1.0 / config.condition_number))
    law, params = law_params(name, m)
    pmf_seed, run_seed, stationary_seed, draw_seed, path_seed = seed.spawn(5)  # children keep their values as more
    #                                                                             are added
    pmf, se = queue_pmf(m, law, n_updates=config.pmf_updates, n_replicas=config.pmf_replicas,
                            seed=pmf_seed, **params)
    q = pmf if se.max() == 0 else laws.trim(pmf, config.pmf_tail)
    mu_equiv = laws.equivalent_implicit_momentum(q)
    geometric = laws.geometric_pmf_with_mean(laws.mean_staleness(q))
    grid_mu, grid_lr = grid(config, m)
    n_configs, R = grid_mu.size, config.n_replicas
    sched = simulate_batch(m, config.n_steps, R, law, run_seed, **params)
    # a stationary start: the queue has run `stationary_rounds` writes per worker before update 0; the workers in
    # flight read w_0, as the recurrence's x_{t-l} = x_0 for t < l assumes
    burn = config.stationary_rounds * m
    warm = simulate_batch(m, config.n_steps + burn, R, law, stationary_seed, **params)
    stationary = Schedule(staleness=warm.staleness[:, burn:], worker=warm.worker[:, burn:], time=warm.time[:, burn:],
                          warmup=np.zeros_like(warm.warmup[:, burn:]), n_workers=m)
    # the grid runs from the stationary queue: its best mu_L is compared with the stationary pmf's prediction
    schedule = tile(stationary, n_configs)  # every configuration on the same queues
    with np.errstate(over="ignore", invalid="ignore"):
        x = async_sgd.run_workers(quad, schedule, np.repeat(grid_lr.ravel(), R), np.repeat(grid_mu.ravel(), R),
                                  np.ones(2)).x.reshape(config.n_steps + 1, n_configs, R, 2)
        mean = x.mean(axis=2)
        mean_square = np.sqrt(np.square(x).mean(axis=2))
    shape = grid_mu.shape
    mc = expected_iterate_rate(mean, config.burn_in).reshape(shape)
    stable = expected_iterate_rate(mean_square, config.burn_in).reshape(shape) < 1.0
    theory, picture = predicted_rates(config, q, m, quad), predicted_rates(config, geometric, m, quad)
    # the mean trajectory at mu_L = 0 and a step stable for every law, on the same queues, against the law's
    # recurrence and the momentum picture
    lr = config.trajectory_lr
    # the law's recurrence carries its pmf's sampling error: its SD over pmfs redrawn within their SE (0 if exact)
    pred_se = recurrence_se(config, pmf, se, lr, quad, path_seed)
    z = {}
    for start, queue in (("", sched), ("_stationary", stationary)):
        z |= trajectory_z(config, quad, queue, q, geometric, pred_se, lr, start)
    two_term = two_term_picture(config, q, m, quad, theory)
    masked = {key: np.where(stable, v, np.inf) for key, v in (("mc", mc), ("theory", theory), ("picture", picture))}
    return {"pmf": [float(v) for v in q], "pmf_se_max": float(se.max()), "mean_staleness": laws.mean_staleness(q),
            "cv_staleness": float(np.sqrt((np.arange(q.size) ** 2 * q).sum() - laws.mean_staleness(q) ** 2)
                                  / max(laws.mean_staleness(q), 1e-12)),
            "equivalent_mu_implicit": mu_equiv, "stable_configs": int(stable.sum()),
            "best": {key: best_ongrid(config, v, m) for key, v in masked.items()},
            "predicted_under_pmf_error": prediction_spread(config, pmf, se, m, quad, stable, draw_seed),
            "trajectory": {"lr": lr, **z}, "two_term": two_term}


def trajectory_z(config: LawStudy, quad: Quadratic, queue, q, geometric, pred_se, lr: float, start: str) -> dict:
    """The mean trajectory at mu_L = 0 on the queue against the law's recurrence and the momentum picture: max |z|."""
    R, z = config.n_replicas, {}
    runs = async_sgd.run_workers(quad, queue, lr, 0.0, np.ones(2)).x
    traj_mean, se_mean = runs.mean(axis=1), runs.std(axis=1, ddof=1) / np.sqrt(R)
    for label, law_pmf in (("max_abs_z", q), ("max_abs_z_picture", geometric)):
        pred = laws.recurrence(law_pmf, 0.0, lr, quad.eigenvalues, config.n_steps, np.ones(2))
        diff = traj_mean[1:] - pred[1:]
        se_t = np.sqrt(se_mean[1:] ** 2 + (pred_se[1:] ** 2 if law_pmf is q else 0.0))
        # every replica equal (early steps): no spread to scale by. Lags of probability below 3 / R are missed by
        # R replicas 95 % of the time (rule of three) and move the mean by at most 3 / R times 2 max |x|: a
        # difference within that is unresolved (z = 0), one beyond it is a departure (z = inf)
        resolved = np.abs(diff) > 3 / R * 2 * np.maximum(np.abs(pred[1:]), np.abs(traj_mean[1:]))
        with np.errstate(divide="ignore", invalid="ignore"):
            zz = np.where(se_t > 1e-13, diff / se_t, np.where(resolved, np.inf, 0.0))
        z[label + start] = float(np.abs(zz).max())
    z["max_abs_diff" + start] = float(np.abs(traj_mean[1:] - laws.recurrence(
        q, 0.0, lr, quad.eigenvalues, config.n_steps, np.ones(2))[1:]).max())
    return z


PMF_DRAWS = 4  # pmfs redrawn within their standard errors, to carry the sampling error into the predicted best mu_L


def redrawn_pmf(pmf: np.ndarray, se: np.ndarray, rng: np.random.Generator, tail: float) -> np.ndarray:
    """One pmf redrawn within its standard errors: pmf + se N(0, 1), clipped at 0, renormalised, trimmed."""
    noisy = np.clip(pmf + se * rng.standard_normal(pmf.shape), 0.0, None)
    return laws.trim(noisy / noisy.sum(), tail)


def prediction_spread(config: LawStudy, pmf: np.ndarray, se: np.ndarray, m: int, quad: Quadratic,
                       stable: np.ndarray, seed) -> list[float]:
    """The predicted best mu_L for pmfs redrawn as pmf + se N(0, 1) (clipped at 0, renormalised, trimmed): the
    prediction's sampling error. Empty for the exact pmfs (exponential, constant)."""
    if se.max() == 0:
        return []
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(PMF_DRAWS):
        table = predicted_rates(config, redrawn_pmf(pmf, se, rng, config.pmf_tail), m, quad)
        out.append(best_ongrid(config, np.where(stable, table, np.inf), m)["mu_explicit"])
    return out


def recurrence_se(config: LawStudy, pmf: np.ndarray, se: np.ndarray, lr: float, quad: Quadratic, seed) -> np.ndarray:
    """SD of the law's recurrence (mu_L = 0, step lr) over PMF_DRAWS pmfs redrawn as pmf + se N(0, 1) (clipped at 0,
    renormalised, trimmed): the prediction's own standard error, (T+1, 2). Zero for the exact pmfs."""
    if se.max() == 0:
        return np.zeros((config.n_steps + 1, 2))
    rng = np.random.default_rng(seed)
    paths = []
    for _ in range(2 * PMF_DRAWS):
        paths.append(laws.recurrence(redrawn_pmf(pmf, se, rng, config.pmf_tail), 0.0, lr, quad.eigenvalues,
                                     config.n_steps, np.ones(2)))
    return np.std(paths, axis=0, ddof=1)


def two_term_picture(config: LawStudy, q: np.ndarray, m: int, quad: Quadratic, theory: np.ndarray) -> dict:
    """The best two-term fit to the law's expected trajectory (theory.laws.two_term_fit), and what tuning by it costs:
    the fitted picture (geometric ratio m, step scaled by eta / (lr (1 - m))) picks (mu_L, alpha) on the grid; the
    law's own predicted rate at that choice against the law's best (the finite-horizon rates of the grid)."""
    lr = config.trajectory_lr
    momentum, eta, error = laws.two_term_fit(q, lr, quad.eigenvalues, config.fit_steps)
    momentum = min(max(momentum, 0.0), 1 - 1e-6)
    scale = eta / (lr * (1 - momentum))
    fitted = predicted_rates(config, laws.geometric_pmf(1 / (1 - momentum)), m, quad, scale)
    i = np.unravel_index(np.argmin(np.where(np.isfinite(fitted), fitted, np.inf)), fitted.shape)
    j = np.unravel_index(np.argmin(np.where(np.isfinite(theory), theory, np.inf)), theory.shape)
    at_choice, best = float(theory[i]), float(theory[j])
    slowdown = math.log(best) / math.log(at_choice) if 0 < at_choice < 1 and 0 < best < 1 else math.inf
    return {"momentum": momentum, "step_scale": scale, "relative_error": error,
            "geometric_cv": math.sqrt(m / (m - 1)),
            "tuned_by_fit": {"mu_explicit": float(config.mu_explicit_grid[i[0]]),
                             "lr": float(config.lr_per_worker_grid[i[1]] * m), "law_rate": at_choice},
            "tuned_for_law": {"mu_explicit": float(config.mu_explicit_grid[j[0]]), "law_rate": best},
            "slowdown": slowdown}


FLOOR_DRAWS = 4  # independent estimates of the exponential law's pmf: the two-term fit's noise floor is their worst


def fit_noise_floor(config: LawStudy, seed) -> dict:
    """Per M: the two-term fit's noise floor, the worst relative error over FLOOR_DRAWS estimates of the exponential
    law's pmf (estimated like the other laws', not exact)."""
    seeds = seed.spawn(FLOOR_DRAWS * len(config.workers))
    quad = Quadratic((1.0, 1.0 / config.condition_number))
    floor = {}
    for j, m in enumerate(config.workers):
        errors = [laws.two_term_fit(laws.trim(queue_pmf(m, "exponential", n_updates=config.pmf_updates,
                                                            n_replicas=config.pmf_replicas, seed=s,
                                                            rates=[1.0] * m)[0], config.pmf_tail),
                                    config.trajectory_lr, quad.eigenvalues, config.fit_steps)[2]
                  for s in seeds[j * FLOOR_DRAWS:(j + 1) * FLOOR_DRAWS]]
        floor[m] = max(errors)
    return floor


def delay_stability(max_delay: int) -> dict:
    """The pure delay (constant law) against its classical stability bound and the same-mean geometric law."""
    delays = list(range(1, max_delay + 1))
    return {"tau": delays, "measured": [laws.max_stable_step(laws.constant_pmf(t + 1)) for t in delays],
            "bound": [laws.delay_stability_bound(t) for t in delays],
            "same_mean_geometric": [laws.max_stable_step(laws.geometric_pmf_with_mean(t)) for t in delays]}


def geometric_reduction() -> dict:
    """Geom(1/M)'s law polynomial against (19)'s cubic (SymPy) and their tuned numbers at M = 2, 4 (Q = 10), with a
    uniform law of the same mean beside them."""
    from theory import predictions, rates
    return {"symbolic_difference": str(laws.geometric_reduction()),
            "numbers": {m: {"laws": list(laws.best_explicit_momentum(laws.geometric_pmf(m), 10.0)),
                            "theorem7": list(rates.best_explicit_momentum(predictions.implicit_momentum(m), 10.0)),
                            "uniform_same_mean": list(laws.best_explicit_momentum(
                                np.full(2 * m - 1, 1 / (2 * m - 1)), 10.0))}
                        for m in (2, 4)}}
