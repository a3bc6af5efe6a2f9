"""Tuning under asynchrony on a quadratic with queue-driven staleness (claim 8 of the Monte Carlo issue).

For each M, every (mu_L, alpha) on a grid runs on the same R queue schedules (common random numbers); the score
of a configuration is its typical per-step rate exp(mean_r log(||w_T - w*|| / ||w_0 - w*||) / T). Diverged runs
score infinity. Control: the M labels reversed (no relation between M and the tuned momentum).
Cost (quick): about 15 s on one CPU core.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from reports.harness.provenance import provenance
from reports.harness.store import Result
from reports.registry import Claim, Control, Experiment, Tolerance, Verdict, with_summary
from sim import async_sgd
from sim.objectives import Quadratic
from sim.queue import Schedule, simulate_batch
from sim.seeds import seed_tree
from theory import predictions, quadratic


@dataclass(frozen=True)
class Config:
    workers: tuple = (1, 2, 4, 8, 16)
    condition_number: float = 100.0
    mu_explicit_grid: tuple = (-0.6, -0.45, -0.3, -0.15, 0.0, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9)
    lr_per_worker_grid: tuple = (0.03, 0.06, 0.1, 0.17, 0.3, 0.5, 0.85, 1.4, 2.0, 2.8, 4.0)  # alpha / M
    n_replicas: int = 300
    n_steps: int = 150
    seed: int = 0

    def validate(self) -> None:
        if not 10 <= self.n_replicas <= 10 ** 5 or not 10 <= self.n_steps <= 10 ** 4:
            raise ValueError("n_replicas must be in 10..10^5 and n_steps in 10..10^4 (memory)")
        if len(self.workers) < 2 or min(self.workers) < 1 or max(self.workers) > 1024:
            raise ValueError("workers must list at least two counts in 1..1024")
        if 0.0 not in self.mu_explicit_grid or any(not -1 < mu < 1 for mu in self.mu_explicit_grid):
            raise ValueError("mu_explicit_grid must lie in (-1, 1) and contain 0.0")


def _tile(schedule: Schedule, times: int) -> Schedule:
    return Schedule(staleness=np.tile(schedule.staleness, (times, 1)), worker=np.tile(schedule.worker, (times, 1)),
                    time=np.tile(schedule.time, (times, 1)), warmup=np.tile(schedule.warmup, (times, 1)),
                    n_workers=schedule.n_workers)


def scores(config: Config, n_workers: int, seed) -> np.ndarray:
    """Typical per-step rate for every (mu_L, alpha) pair: array (n_mu, n_lr)."""
    quad = Quadratic((1.0, 1.0 / config.condition_number))
    mus, lrs = np.array(config.mu_explicit_grid), np.array(config.lr_per_worker_grid) * n_workers
    grid_mu, grid_lr = np.meshgrid(mus, lrs, indexing="ij")
    n_configs, R = grid_mu.size, config.n_replicas
    schedule = _tile(simulate_batch(n_workers, config.n_steps, R, seed=seed), n_configs)
    with np.errstate(over="ignore", invalid="ignore"):
        x = async_sgd.run_workers(quad, schedule, np.repeat(grid_lr.ravel(), R), np.repeat(grid_mu.ravel(), R),
                                  np.ones(2)).x
        ratio = np.linalg.norm(x[-1], axis=1) / np.linalg.norm(x[0], axis=1)
        logs = np.where(np.isfinite(ratio) & (ratio < 1e6), np.log(np.maximum(ratio, 1e-300)), np.inf)
    rate = np.exp(logs.reshape(n_configs, R).mean(axis=1) / config.n_steps)
    return rate.reshape(grid_mu.shape)


def run(config: Config) -> Result:
    start = time.time()
    per_m, arrays = {}, {}
    for m, seed in zip(config.workers, seed_tree(config.seed, "queues")["queues"].spawn(len(config.workers))):
        table = scores(config, m, seed)
        i, j = np.unravel_index(np.argmin(table), table.shape)
        theory = quadratic.best_explicit_momentum(predictions.implicit_momentum(m), config.condition_number)
        per_m[str(m)] = {"best_mu_explicit": float(config.mu_explicit_grid[i]),
                         "best_lr": float(config.lr_per_worker_grid[j] * m), "best_rate": float(table[i, j]),
                         "best_rate_at_mu0": float(table[list(config.mu_explicit_grid).index(0.0)].min()),
                         "theory_best_mu_explicit": theory[0], "theory_best_rate": theory[2]}
        arrays[f"M={m}/rates"] = table
    mu_star = quadratic.polyak_momentum(config.condition_number)
    summary = {"per_workers": per_m, "mu_star": mu_star, "m0": math.ceil(1 / (1 - mu_star)),
               "grid_step": float(np.diff(config.mu_explicit_grid).max())}
    return Result(summary=summary, arrays=arrays, provenance=provenance({"seed": config.seed}, time.time() - start))


def _tuning(result: Result, tol: Tolerance) -> Verdict:
    s = result.summary
    ms = sorted(int(m) for m in s["per_workers"])
    best = [s["per_workers"][str(m)]["best_mu_explicit"] for m in ms]
    rates = [s["per_workers"][str(m)]["best_rate"] for m in ms]
    violations = sum(b > a + 1e-9 for a, b in zip(best, best[1:]))
    big_jump = any(b > a + s["grid_step"] + 1e-9 for a, b in zip(best, best[1:]))
    beyond = [r for m, r in zip(ms, rates) if m >= s["m0"]]
    worsens = all(b > a for a, b in zip(beyond, beyond[1:])) and all(r > rates[0] for r in beyond[1:])
    ok = violations <= tol.value and not big_jump and best[-1] < 0 and worsens
    listing = "; ".join(f"M={m}: mu_L {b:+.2f} (theory {s['per_workers'][str(m)]['theory_best_mu_explicit']:+.2f}), "
                        f"rate {r:.4f}" for m, b, r in zip(ms, best, rates))
    values = {f"M={m},best_mu_explicit": b for m, b in zip(ms, best)} | {f"M={m},best_rate": r for m, r in zip(ms, rates)}
    return Verdict(ok, f"best mu_L non-increasing in M ({tol.value:g} violation of one grid step allowed), negative "
                   f"at M={ms[-1]}, best rate increasing for M >= M_0 = {s['m0']}", listing,
                   values | {"violations": violations})


def _reversed_labels(result: Result) -> Result:
    per = result.summary["per_workers"]
    ms = sorted(per, key=int)
    return with_summary(result, per_workers={m: per[n] for m, n in zip(ms, reversed(ms))})


CLAIMS = (
    Claim("mc-tuning-under-asynchrony", "Section IV, Theorem 5 consequences", "On a quadratic (Q = 100) with "
          "queue-driven staleness, the best explicit momentum (tuned jointly with alpha, negative values allowed) "
          "decreases with M, turns negative at high M, and the best achievable rate worsens past M_0.",
          "monte_carlo", _tuning, Tolerance(1, "count", "one up-step of one grid step (0.15) is allowed: the score is a "
                                             "Monte Carlo average over R runs and neighbouring grid points tie"),
          (Control("M-labels-reversed", "the same tuned results with the M labels reversed", _reversed_labels),),
          figure="tuning"),
)


def figures(result: Result) -> dict:
    import matplotlib.pyplot as plt
    s = result.summary
    ms = sorted(int(m) for m in s["per_workers"])
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.6))
    a1.plot(ms, [s["per_workers"][str(m)]["best_mu_explicit"] for m in ms], "o-", label="Monte Carlo (grid)")
    a1.plot(ms, [s["per_workers"][str(m)]["theory_best_mu_explicit"] for m in ms], "k--", label="Theorem 7 optimum")
    a1.set(xscale="log", xlabel="workers M", ylabel=r"best $\mu_L$", title="Best explicit momentum")
    a1.legend(fontsize=7)
    a2.plot(ms, [s["per_workers"][str(m)]["best_rate"] for m in ms], "o-", label=r"$\mu_L$ tuned")
    a2.plot(ms, [s["per_workers"][str(m)]["best_rate_at_mu0"] for m in ms], "s-", label=r"$\mu_L = 0$")
    a2.axvline(s["m0"], color="gray", ls="--", label=f"$M_0$ = {s['m0']}")
    a2.set(xscale="log", xlabel="workers M", ylabel="typical per-step rate", title="Best achievable rate")
    a2.legend(fontsize=7)
    fig.tight_layout()
    return {"tuning": fig}


EXPERIMENT = Experiment(
    name="mc_tuning", kind="monte_carlo", version=2, config=Config,
    profiles={"quick": Config(), "full": Config(n_replicas=3000, n_steps=300)},
    smoke=Config(workers=(1, 4), n_replicas=10, n_steps=20, mu_explicit_grid=(-0.3, 0.0, 0.5),
                 lr_per_worker_grid=(0.1, 0.5)),
    run=run, figures=figures, claims=CLAIMS)
