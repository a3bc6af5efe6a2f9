"""Beyond the paper: closed-loop momentum compensation on the quadratic model.

One asynchronous run per M (exponential queue, 2,000 updates) logs its staleness; the system-side estimator
(sim.compensation) reads the implicit momentum off it every 100 updates; a controller sets (mu_L, alpha) from the
estimate and the curvature range Q, with no per-M grid. Every strategy is scored by the updates its expected
iterate needs to shrink the error by 1e-3 at the model's true mu_S = 1 - 1/M (Theorem 7's exact rates): the
closed loop, the per-M oracle (Theorem 7 at the true mu_S), the first-order rule mu_L = mu* - mu_S, mu_L fixed at
0.9 (step tuned), and the synchronous tuning reused at every M (no compensation). The Omnivore rule (halve the
workers while the best momentum is 0) is compared in wall-clock time with the exhaustive optimum over M under a
synthetic hardware efficiency: time per update 1 / min(M, M_sat). Also: the estimators compared on one run per
(law, M) where the truth is known, and the closed loop on logistic regression under the queue against a per-M grid
oracle. Cost (quick): about 45 s on one core.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from reports.harness.provenance import provenance
from reports.harness.store import Result
from reports.registry import Claim, Control, Experiment, Tolerance, Verdict, with_summary
from sim import async_sgd, compensation, estimators
from sim.objectives import Quadratic
from sim.laws import named_law as law_params
from sim.queue import simulate, simulate_batch, staleness_pmf, tile
from sim.seeds import seed_tree
from theory import laws, predictions, quadratic


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


def _updates(config: Config, m: int, mu: float, lr: float) -> float:
    lam = quadratic.spread_eigenvalues(config.condition_number)
    return compensation.updates_to_target(quadratic.rate(predictions.implicit_momentum(m), mu, lr, lam), config.target)


def run(config: Config) -> Result:
    start = time.time()
    q = config.condition_number
    sync_mu, sync_lr, sync_rate = quadratic.best_explicit_momentum(0.0, q)
    seeds = seed_tree(config.seed, "queues")["queues"].spawn(len(config.workers))
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
                               ("oracle", quadratic.best_explicit_momentum(predictions.implicit_momentum(m), q)[:2]),
                               ("fixed_0.9", quadratic.best_explicit_momentum(predictions.implicit_momentum(m), q, mu_explicit=0.9)[:2]),
                               ("no_compensation", (sync_mu, sync_lr))):
            entry[name] = {"mu_explicit": float(mu), "lr": float(lr), "updates": _updates(config, m, mu, lr)}
        per[str(m)] = entry
    speed = lambda m: 1.0 / min(m, config.saturation)  # noqa: E731 - time per update
    exhaustive = {}
    m = 1
    while m <= config.max_workers:
        mu, lr, rate = quadratic.best_explicit_momentum(predictions.implicit_momentum(m), q)
        updates = compensation.updates_to_target(rate, config.target)
        rate_nn = quadratic.best_explicit_momentum(predictions.implicit_momentum(m), q, mu_range=(0.0, 0.95))[2]
        exhaustive[str(m)] = {"mu_explicit": mu, "lr": lr, "updates": updates, "wall_time": updates * speed(m),
                              "wall_time_non_negative": compensation.updates_to_target(rate_nn, config.target) * speed(m)}
        m *= 2
    rule = compensation.omnivore(config.max_workers, q, speed, config.target)
    never = compensation.omnivore(config.max_workers, q, speed, config.target, halve=False)
    summary = {"logreg": _logreg(config), "estimators": _estimators(config), "per_workers": per, "synchronous": {"mu_explicit": sync_mu, "lr": sync_lr,
                                                   "updates": compensation.updates_to_target(sync_rate, config.target)},
               "exhaustive": exhaustive, "omnivore": rule, "never_halve": never,
               "mu_star": quadratic.polyak_momentum(q), "workers": list(config.workers)}
    return Result(summary=summary, arrays={}, provenance=provenance({"seed": config.seed}, time.time() - start))


LOGREG_RULES = {"closed_loop": "keep", "closed_loop_theorem7_step": "theorem7", "closed_loop_delay_step": "delay"}
LOGREG_EVERY = 10


def _logreg(config: Config) -> dict:
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

    seeds = seed_tree(config.seed, "logreg")["logreg"].spawn(len(config.logreg_workers))
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
        out["per_workers"][str(m)] = entry
    return out


def _estimators(config: Config) -> dict:
    """Every estimator on one run per (law, M), against the law's two-term momentum at the run's step (the truth:
    1 - 1/M for the exponential law); the trajectory-side ones also on the mean of many runs (the control)."""
    quad = Quadratic(tuple(np.geomspace(0.1, 1.0, config.estimator_dim)))
    lr, every, w0 = config.estimator_lr, config.every, np.ones(config.estimator_dim)
    names = [(law, m) for law in config.estimator_laws for m in config.estimator_workers]
    seeds = seed_tree(config.seed, "estimators")["estimators"].spawn(len(names))
    out = {}
    for (name, m), seed in zip(names, seeds):
        pmf_seed, queue_seed, noise_seed, mean_seed = seed.spawn(4)
        law, params = law_params(name, m)
        pmf, se = staleness_pmf(m, law, n_updates=4000, n_replicas=64, seed=pmf_seed, **params)
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


# ------------------------------------------------------------------ checks ----------------------------------

def _per(result: Result) -> dict:
    """per_workers in increasing M, with a stored null (JSON has no inf: a diverging strategy) read back as inf."""
    per = result.summary["per_workers"]
    return {m: {k: ({**v, "updates": math.inf if v.get("updates") is None else v["updates"]}
                    if isinstance(v, dict) else v) for k, v in per[m].items()} for m in sorted(per, key=int)}


def _estimator(result: Result, tol: Tolerance) -> Verdict:
    per = _per(result)
    gaps = {m: abs(v["mu_hat"] - predictions.implicit_momentum(int(m))) for m, v in per.items()}
    return Verdict(max(gaps.values()) <= tol.value, f"|mu_hat - (1 - 1/M)| <= {tol.value:g} at every M, one run of "
                   "each", ", ".join(f"M={m}: {per[m]['mu_hat']:.4f} vs {predictions.implicit_momentum(int(m)):.4f}" for m in per),
                   {f"M={m}": per[m]["mu_hat"] for m in per} | {f"M={m},gap": g for m, g in gaps.items()})


def _last(entry: dict, key: str) -> float:
    return entry[key][-1]


def _system_any_law(result: Result, tol: Tolerance, key: str = "system_law") -> Verdict:
    est = result.summary["estimators"]
    gaps = {k: abs(_last(v, key) - v["truth"]) for k, v in est.items()}
    return Verdict(max(gaps.values()) <= tol.value, f"the staleness-law estimator within {tol.value:g} of the law's "
                   "two-term momentum for every law and M, one run each", ", ".join(
                       f"{k}: {_last(v, key):.3f} vs {v['truth']:.3f}" for k, v in est.items())
                   + "; the geometric MLE mean / (1 + mean): " + ", ".join(
                       f"{k}: {_last(v, 'system_geometric'):.3f}" for k, v in est.items() if v["law"] != "exponential"),
                   {f"{k},gap": g for k, g in gaps.items()} | {"max_gap": max(gaps.values())})


TRAJECTORY_AT = (4, 8, 16)
TRAJECTORY_ESTIMATORS = ("yellowfin_effective_step", "iv")


def _trajectory_side(result: Result, tol: Tolerance) -> Verdict:
    est = result.summary["estimators"]
    misses = {}
    for name in sorted({v["law"] for v in est.values()}):
        for which in TRAJECTORY_ESTIMATORS:
            gaps = [abs(_last(v, which) - v["truth"]) for v in est.values()
                    if v["law"] == name and v["n_workers"] in TRAJECTORY_AT]
            misses[f"{name},{which}"] = max(gaps) if gaps else 0.0
    ok = bool(misses) and min(misses.values()) > tol.value
    rows = "; ".join(f"{k}: truth {v['truth']:.3f}, YellowFin (own step) {_last(v, 'yellowfin_own_step'):.3f}, "
                     f"(step alpha(1 - mu_S)) {_last(v, 'yellowfin_effective_step'):.3f}, IV {_last(v, 'iv'):.3f}"
                     for k, v in est.items() if v["n_workers"] in TRAJECTORY_AT)
    return Verdict(ok, f"on one run, YellowFin's estimator (given the step alpha(1 - mu_S)) and the IV fit each miss "
                   f"the truth by more than {tol.value:g} at some M in {TRAJECTORY_AT}, for every law", rows,
                   {f"{k},max_miss": v for k, v in misses.items()})


def _mean_of_runs(result: Result) -> Result:
    """Control evidence: the trajectory-side estimators on the mean of many runs (the expectation Theorem 3 is about)."""
    est = result.summary["estimators"]
    return with_summary(result, estimators={k: {**v, **{w: [v["mean_of_runs"][w]] for w in TRAJECTORY_ESTIMATORS}}
                                            for k, v in est.items()})


CLOSED_AT = (4, 8, 16)


def _closed_loop(result: Result, tol: Tolerance, key: str = "closed_loop") -> Verdict:
    per = _per(result)
    ratios = {m: per[str(m)][key]["updates"] / per[str(m)]["oracle"]["updates"] for m in CLOSED_AT if str(m) in per}
    top = str(max(int(m) for m in per))
    fixed = per[top]["fixed_0.9"]["updates"] / per[top][key]["updates"]
    ok = bool(ratios) and max(ratios.values()) <= 1 + tol.value and fixed >= 2
    rows = ", ".join(f"M={m}: {per[str(m)][key]['updates']:.0f} vs oracle {per[str(m)]['oracle']['updates']:.0f} "
                     f"(x{r:.3f})" for m, r in ratios.items())
    point = ", ".join(f"M={m}: x{per[str(m)]['closed_loop_point']['updates'] / per[str(m)]['oracle']['updates']:.3f}"
                      for m in ratios if "closed_loop_point" in per[str(m)])
    return Verdict(ok, f"updates to 1e-3 within {tol.value:.0%} of the per-M oracle at M in {CLOSED_AT}, and mu_L = "
                   f"0.9 at least 2x slower at M = {top}", rows + f" (controller fed the estimate's lower bound, "
                   f"estimate - 2 SE; fed the point estimate: {point}); fixed 0.9 at M={top}: x{fixed:.2f} of the "
                   f"closed loop; first-order rule: " + ", ".join(
                       f"M={m}: x{per[m]['first_order']['updates'] / per[m]['oracle']['updates']:.2f}" for m in per),
                   {f"M={m},ratio": r for m, r in ratios.items()} | {"fixed_0.9_over_closed_loop": fixed})


def _closed_loop_logreg(result: Result, tol: Tolerance, key: str = "closed_loop") -> Verdict:
    lr_ = result.summary["logreg"]
    inf = lambda v: math.inf if v is None else v  # noqa: E731
    per = {m: {k: {**v, "updates": inf(v["updates"])} for k, v in sorted(e.items())}
           for m, e in sorted(lr_["per_workers"].items(), key=lambda kv: int(kv[0]))}
    ratios = {m: per[m][key]["updates"] / per[m]["oracle"]["updates"] for m in sorted(per, key=int)}
    top = str(max(int(m) for m in per))
    fixed = per[top]["fixed_0.9"]["updates"] / per[top][key]["updates"] if per[top][key]["updates"] < math.inf \
        else (1.0 if per[top]["fixed_0.9"]["updates"] == math.inf else 0.0)
    ok = max(ratios.values()) <= 1 + tol.value and fixed >= 2
    rows = "; ".join(f"M={m}: " + ", ".join(f"{k} {v['updates']:.0f} (mu_L {v['mu_explicit']:+.2f}, alpha "
                                            f"{v['lr']:.3g})" for k, v in e.items()) for m, e in per.items())
    s = lr_["synchronous"]
    return Verdict(ok, f"updates to ||w - w*|| <= 1e-2 ||w*|| within {tol.value:.0%} of the per-M oracle at every M, and "
                   f"mu_L = 0.9 at least 2x slower at M = {top} (logistic regression, the queue model, the closed loop "
                   "with the step tuned at M = 1 kept, as the server does)",
                   f"synchronous tuning: mu_L {s['mu_explicit']:+.2f}, alpha {s['lr']:.3g}, {s['updates']:.0f} updates; "
                   + rows + " (inf: not reached in the budget, or diverged)",
                   {f"M={m},ratio": r for m, r in ratios.items()} | {"fixed_0.9_over_closed_loop": fixed})


def _omnivore(result: Result, tol: Tolerance, key: str = "omnivore") -> Verdict:
    s = result.summary
    inf = lambda v: math.inf if v is None else v  # noqa: E731
    best_m = min(s["exhaustive"], key=lambda m: inf(s["exhaustive"][m]["wall_time"]))
    best = s["exhaustive"][best_m]["wall_time"]
    rule = s[key]
    ratio = inf(rule["wall_time"]) / best
    nn_m = min(s["exhaustive"], key=lambda m: inf(s["exhaustive"][m]["wall_time_non_negative"]))
    nn = s["exhaustive"][nn_m]["wall_time_non_negative"]
    return Verdict(ratio <= 1 + tol.value, f"the rule's wall time within {tol.value:.0%} of the exhaustive optimum "
                   "over M (and tuned mu_L, alpha)", f"rule: M={rule['n_workers']}, mu_L={rule['mu_explicit']:.2f}, "
                   f"wall {rule['wall_time']:.1f}; exhaustive: M={best_m}, mu_L="
                   f"{s['exhaustive'][best_m]['mu_explicit']:.2f}, wall {best:.1f}; ratio {ratio:.3f} (the best with "
                   f"mu_L >= 0 only: M={nn_m}, wall {nn:.1f})",
                   {"ratio": ratio, "rule_workers": rule["n_workers"], "best_workers": int(best_m),
                    "ratio_to_non_negative_best": inf(rule["wall_time"]) / nn})


CLAIMS = (
    Claim("extension-system-estimator-any-law", "Section VI; Theorem 2 under other laws", "Extension: for work times "
          "that are not memoryless, the server's staleness log still gives the implicit momentum: its empirical pmf "
          "through the law's best two-term fit (theory.laws.two_term_fit at the run's step) is within 0.02 of the "
          "law's two-term momentum from one run of 2,000 updates (exponential, gamma-10 and constant work, M = 1..16), "
          "where the geometric law's mean / (1 + mean) — always (M - 1) / M — is not. What it tests: a plug-in "
          "estimator against the same functional of the population pmf (its consistency at one run's size), not "
          "against an independent truth.", "extension", _system_any_law,
          Tolerance(0.02, "absolute", "the issue's target for the system-side estimator"),
          (Control("geometric-mle", "the geometric law's estimate mean / (1 + mean): the paper's assumption that every "
                   "law is memoryless", lambda r: with_summary(r, estimators={
                       k: {**v, "system_law": v["system_geometric"]} for k, v in r.summary["estimators"].items()})),),
          figure="compensation_trajectory_estimates", expect="result"),
    Claim("extension-trajectory-estimators", "Section VI / YellowFin", "Extension: read off one noisy run "
          "(2,000 updates, gradient noise 0.1, online every 100 updates), the trajectory-side estimators do not reach "
          "the system side's 0.02: YellowFin's (EMAs of steps and gradients, median over coordinates and time) even "
          "when given the asynchronous step alpha(1 - mu_S), which a running system cannot know — with its own step "
          "alpha it reads about 0 at every M —, and an instrumental-variable fit (instruments one update old). Why: "
          "on one run the update's error is the fresh noise minus mu_S times the previous one (MA(1)), correlated "
          "with the previous step (errors in variables); least squares attenuates, the instruments are weak. On the "
          "mean of 200 runs both recover the truth.", "extension", _trajectory_side,
          Tolerance(0.02, "absolute", "the bar the system-side estimator is held to"),
          (Control("mean-of-runs", "the same estimators on the mean of 200 runs (the expected trajectory Theorem 3 is "
                   "about)", _mean_of_runs),), figure="compensation_trajectory_estimates", expect="result"),
    Claim("extension-system-estimator", "Section VI / YellowFin", "Extension: the implicit momentum of a "
          "running asynchronous system is read off the staleness its server logs — the geometric law's maximum-"
          "likelihood ratio mean / (1 + mean) — within 0.02 of 1 - 1/M from one run of 2,000 updates (M = 2..16, "
          "exponential work). (The trajectory-side estimators do not, from one run: "
          "extension-trajectory-estimators.) Read with care: the mean staleness is M - 1 under any law, so this "
          "estimator counts workers; its control 'count-the-workers' passes too, and the claim shows cannot_fail.",
          "extension", _estimator,
          Tolerance(0.02, "absolute", "the issue's target; the estimator's SD at M = 16 and 2,000 dependent delays "
                    "is about 0.003"),
          (Control("count-the-workers", "no log at all: the estimate (M - 1) / M from the known number of workers (the "
                   "mean staleness is M - 1 for any law, so mean / (1 + mean) counts workers)",
                   lambda r: with_summary(r, per_workers={m: {**v, "mu_hat": predictions.implicit_momentum(int(m))}
                                                          for m, v in r.summary["per_workers"].items()})),
           Control("M-labels-reversed", "the same runs with their M labels reversed",
                   lambda r: with_summary(r, per_workers={m: {**r.summary["per_workers"][m], "mu_hat": v["mu_hat"]}
                                                          for m, v in zip(r.summary["per_workers"], reversed(list(
                                                              r.summary["per_workers"].values())))}))),
          figure="compensation_estimates", expect="result"),
    Claim("extension-closed-loop", "Section VI", "Extension: setting (mu_L, alpha) by Theorem 7 from the "
          "estimated implicit momentum and the curvature range, with no per-M grid, reaches the target within 10 % of "
          "the per-M oracle at M = 4, 8, 16, and keeping mu_L = 0.9 is at least twice as slow at M = 16 (quadratic "
          "model, exact expected-iterate rates). The optimum sits on a corner that is steep towards larger mu_S, so "
          "the controller is fed the estimate's lower bound (estimate - 2 SE, an offset chosen after the point "
          "estimate's cost had been measured: a robustness margin, not a coverage statement); the point estimate's "
          "cost is reported beside it. What it tests: controller, oracle and score are the same Theorem 7 search, so "
          "only that its optimum moves little when mu_S moves a little — a consistency check, scored on the expected "
          "iterate (single runs: extension-tuning-in-mean-square).", "extension", _closed_loop,
          Tolerance(0.10, "relative", "the issue's target; the estimate's error (about 0.003) moves the rate by less"),
          (Control("no-compensation", "the synchronous tuning reused at every M (asynchrony ignored)",
                   lambda r: with_summary(r, per_workers={m: {**v, "closed_loop": v["no_compensation"]}
                                                          for m, v in r.summary["per_workers"].items()})),),
          figure="compensation_updates", expect="result"),
    Claim("extension-closed-loop-logreg", "Section VI", "Extension: on logistic regression (the real "
          "parameter server's workload, full-batch gradients, the exponential queue), the closed loop — mu_L from "
          "Theorem 7 at the logged staleness' lower bound and a guessed Q = 100 (measured at w*: 103), the step tuned "
          "once at M = 1 and kept, no per-M grid — reaches ||w - w*|| <= 1e-2 ||w*|| within 10 % of the per-M oracle "
          "(mu_L and alpha grid-tuned at each M) at M = 4, 8, 16, and mu_L = 0.9 is at least twice as slow at M = 16. "
          "Also shown: the step rescaled by Theorem 7's ratio, and by the pure delay's stability bound at the mean "
          "staleness; the loop starts from what M alone says (mu_S = 1 - 1/M) and resets every 100 updates.",
          "extension", _closed_loop_logreg,
          Tolerance(0.10, "relative", "the issue's target; 4 replicas of a full-batch run differ only by their queues"),
          (Control("no-compensation", "the synchronous tuning reused at every M (asynchrony ignored)",
                   lambda r: with_summary(r, logreg={**r.summary["logreg"], "per_workers": {
                       m: {**v, "closed_loop": v["no_compensation"]}
                       for m, v in r.summary["logreg"]["per_workers"].items()}})),),
          figure="compensation_logreg", expect="result"),
    Claim("extension-omnivore-rule", "Omnivore's optimizer (docs/paper.md section 4)", "Extension: Omnivore's "
          "rule (momentum from {0, 0.3, 0.6, 0.9}, halve the workers while the best momentum is 0) lands within 20 % "
          "of the exhaustive optimum over M in wall-clock time, under a hardware efficiency that saturates at 8 "
          "workers.", "extension", _omnivore, Tolerance(0.20, "relative", "the issue's target"),
          (Control("never-halve", "the same rule without halving the workers", lambda r: with_summary(
              r, omnivore=r.summary["never_halve"])),), figure="compensation_updates", expect="result"),
)


def figures(result: Result) -> dict:
    import matplotlib.pyplot as plt
    s = result.summary
    out = {}
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for m, v in s["per_workers"].items():
        line, = ax.plot(v["counts"], v["estimates"], label=f"M={m}: estimate")
        ax.axhline(predictions.implicit_momentum(int(m)), color=line.get_color(), ls=":", lw=0.8)
    ax.set(xlabel="updates logged", ylabel=r"estimated $\mu_S$", title="System-side estimate vs 1 - 1/M (dotted)")
    ax.legend(fontsize=7)
    out["compensation_estimates"] = fig
    fig, ax = plt.subplots(figsize=(6, 3.8))
    ms = sorted(int(m) for m in s["per_workers"])
    for name in ("oracle", "closed_loop", "first_order", "fixed_0.9", "no_compensation"):
        ys = [s["per_workers"][str(m)][name]["updates"] for m in ms]
        ax.plot(ms, [np.nan if y is None else y for y in ys], "o-", label=name + (" (diverges where absent)" if
                                                                               None in ys else ""))
    ax.axhline(s["synchronous"]["updates"], color="gray", ls=":", label="synchronous (M = 1), tuned")
    ax.set(xscale="log", yscale="log", xlabel="workers M", ylabel="updates to shrink the error by 1e-3",
           title=f"Strategies on the quadratic model (Omnivore: M={s['omnivore']['n_workers']})")
    ax.legend(fontsize=7)
    out["compensation_updates"] = fig
    if "logreg" in s:
        fig, ax = plt.subplots(figsize=(6, 3.8))
        per = s["logreg"]["per_workers"]
        ms = sorted(int(m) for m in per)
        for name in ("oracle", "closed_loop", "closed_loop_theorem7_step", "closed_loop_delay_step", "fixed_0.9",
                     "no_compensation"):
            ys = [per[str(m)][name]["updates"] for m in ms]
            ax.plot(ms, [np.nan if y is None or y == math.inf else y for y in ys], "o-", label=name)
        ax.axhline(s["logreg"]["synchronous"]["updates"], color="gray", ls=":", label="synchronous (M = 1), tuned")
        ax.set(xscale="log", yscale="log", xlabel="workers M", ylabel="updates to ||w - w*|| <= 1e-2 ||w*||",
               title="Logistic regression under the queue (absent: not reached / diverged)")
        ax.legend(fontsize=6)
        out["compensation_logreg"] = fig
    est = s.get("estimators", {})
    panels = [law for law in ("exponential", "constant") if any(v["law"] == law for v in est.values())]
    if panels:
        fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), sharey=True, squeeze=False)
        for ax, law in zip(axes[0], panels):
            for v in (v for v in est.values() if v["law"] == law and v["n_workers"] in (2, 8, 16)):
                line, = ax.plot(v["counts"], v["system_law"], label=f"M={v['n_workers']}: staleness law")
                ax.plot(v["trajectory_counts"], v["yellowfin_effective_step"], "--", color=line.get_color(),
                        label="YellowFin (step alpha(1 - mu_S))")
                ax.plot(v["trajectory_counts"], v["iv"], ":", color=line.get_color(), label="IV fit")
                ax.axhline(v["truth"], color=line.get_color(), lw=0.6, alpha=0.6)
            ax.set(xlabel="updates logged", title=f"{law} work times (thin: truth)", ylim=(-0.2, 1.2))
        axes[0][0].set_ylabel("estimated implicit momentum")
        axes[0][0].legend(fontsize=6)
        out["compensation_trajectory_estimates"] = fig
    return out


EXPERIMENT = Experiment(
    name="compensation", kind="compensation", version=3, config=Config, profiles=PROFILES,
    smoke=Config(workers=(2, 4), n_updates=200, every=50, max_workers=4, condition_number=10.0,
                 estimator_laws=("exponential", "constant"), estimator_workers=(1, 4), estimator_replicas=8,
                 logreg_workers=(4,), logreg_updates=200, logreg_replicas=2, logreg_mu_grid=(0.0, 0.9),
                 logreg_lr_grid=(0.5, 2.0)),
    run=run, figures=figures, claims=CLAIMS, power_seeds=10, slow=True)
