"""Closed-loop momentum compensation: measure the implicit momentum of a running asynchronous system from the
staleness its server logs, and set the explicit momentum from it. Pure functions; the experiment is
reports/experiments/compensation.py.

System-side estimator: the staleness of exponential workers is Geom(1/M) (Theorem 5), whose maximum-likelihood
ratio from a sample is mean / (1 + mean); the implicit momentum is that ratio (Theorem 3). It needs only the
version gaps the server already knows, one per update, and is updated every K updates.

Any law (`law_estimates`): the empirical pmf of the logged staleness, mapped to the momentum of its best two-term fit
(theory.laws.two_term_fit) at the run's step and a curvature range — the implicit momentum of a law that need not be
memoryless (for the exponential law the same 1 - 1/M).

Trajectory side (`trajectory_estimates`): YellowFin's estimator (sim.estimators.yellowfin_momentum: EMAs of the
steps and gradients, median over coordinates and time) and an instrumental-variable fit of the two-term model
(`iv_two_term`), on the trajectory logged so far.

Controllers: "theorem7" sets (mu_L, alpha) to Theorem 7's optimum for the estimated mu_S and the curvature range Q
(the range is the user's: a guess or a short probe); "first_order" sets mu_L = mu*(Q) - mu_S (the paper's
prescription) with heavy ball's step for the total momentum; both clamp mu_L to [-0.9, 0.9]. The loop
(`control_at`, `control`, `schedule_controls`: the server and the replays on a queue) takes Theorem 7's mu_L, or with
`mu_sync` the first-order rule mu_L = mu_sync - mu_S against the momentum tuned at M = 1 (no Q needed: the CNN), and
a step rule of STEP_RULES. The Omnivore rule
(docs/paper.md section 4): start with the most workers, take the best momentum of {0, 0.3, 0.6, 0.9} (then zoom in by
0.1), and halve the workers while that best is 0.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from sim import estimators, step_rules
from sim.stats import batch_se
from theory import laws, predictions, rates

CLAMP = 0.9


def system_estimates(staleness: np.ndarray, every: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Online estimates of mu_S from a run's logged staleness: (update counts, estimates) after every `every`."""
    s = np.asarray(staleness, dtype=float)
    if s.ndim != 1 or s.size == 0 or np.any(s < 0):
        raise ValueError("staleness must be a non-empty 1-D array of non-negative version gaps")
    if every < 1:
        raise ValueError("every must be >= 1")
    counts = np.arange(every, s.size + 1, every)
    means = np.cumsum(s)[counts - 1] / counts
    return counts, means / (1 + means)


def law_estimates(staleness: np.ndarray, lr: float, eigenvalues, every: int = 100, tail: float = 1e-4
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Online estimates of the implicit momentum for any law: after every `every` updates, the empirical pmf of the
    staleness so far (cut where its tail mass is below `tail`) through theory.laws.two_term_fit at this step and these
    eigenvalues. Returns (update counts, estimates)."""
    s = np.asarray(staleness)
    if s.ndim != 1 or s.size == 0 or np.any(s < 0):
        raise ValueError("staleness must be a non-empty 1-D array of non-negative version gaps")
    counts = np.arange(every, s.size + 1, every)
    estimates = [laws.two_term_fit(laws.trim(np.bincount(s[:c]) / c, tail), lr, eigenvalues)[0] for c in counts]
    return counts, np.array(estimates)


def iv_two_term(x: np.ndarray, g: np.ndarray) -> tuple[float, float]:
    """The two-term model x_{t+1} - x_t = mu (x_t - x_{t-1}) - eta g_t fitted with instruments (x_{t-1} - x_{t-2},
    g_{t-1}): on one asynchronous run the update's error is eps_{t+1} - mu_S eps_t (the fresh noise and the stale
    draw, minus mu_S times the previous ones: MA(1)), correlated with the regressors x_t - x_{t-1} and g_t but not
    with the instruments, which are known one update earlier. x, g: (T+1, d)."""
    steps = np.diff(x, axis=0)
    target = steps[2:].ravel()
    design = np.column_stack([steps[1:-1].ravel(), -g[2:len(steps)].ravel()])
    instruments = np.column_stack([steps[:-2].ravel(), -g[1:len(steps) - 1].ravel()])
    mu, eta = np.linalg.solve(instruments.T @ design, instruments.T @ target)
    return float(mu), float(eta)


def trajectory_estimates(x: np.ndarray, g: np.ndarray, lr: float, every: int = 100, beta: float = 0.999
                         ) -> dict[str, np.ndarray]:
    """Online trajectory-side estimates after every `every` updates of one run (x, g: (T+1, d)): YellowFin's with
    the step `lr` it is given, and the IV fit. Returns {"counts", "yellowfin", "iv"}."""
    counts = np.arange(every, x.shape[0], every)
    return {"counts": counts,
            "yellowfin": np.array([estimators.yellowfin_momentum(x[:c + 1], g[:c + 1], lr, beta) for c in counts]),
            "iv": np.array([iv_two_term(x[:c + 1], g[:c + 1])[0] for c in counts])}


def lower_bound(staleness: np.ndarray, n_sd: float = 2.0) -> float:
    """The estimate minus n_sd standard errors (batch means over the run: the delays are dependent). Theorem 7's
    optimum sits on a sharp corner of the rate surface that is steep on the side of larger mu_S: over-estimating
    mu_S by 1e-4 at M = 16, Q = 100 costs 11 % more updates, under-estimating by as much costs nothing (measured),
    so the controller is fed this lower bound."""
    s = np.asarray(staleness, dtype=float)
    mean = s.mean()
    return float(mean / (1 + mean) - n_sd * batch_se(s) / (1 + mean) ** 2)


def controller(mu_implicit_estimate: float, condition_number: float, rule: str = "theorem7"
               ) -> tuple[float, float]:
    """(mu_L, alpha) from an estimate of mu_S and the curvature range Q; mu_L clamped to [-0.9, 0.9]."""
    mu_s = float(np.clip(mu_implicit_estimate, 0.0, 0.999))
    if rule == "theorem7":
        mu, lr, _ = rates.best_explicit_momentum(mu_s, condition_number, mu_range=(-CLAMP, CLAMP))
        return mu, lr
    if rule == "first_order":
        mu_star = rates.polyak_momentum(condition_number)
        mu = float(np.clip(mu_star - mu_s, -CLAMP, CLAMP))
        # heavy ball's step for momentum mu*: alpha (1 - mu_S) = (1 + sqrt(mu*))^2 / lambda_max
        lr = (1 + math.sqrt(mu_star)) ** 2 / condition_number / (1 - mu_s)
        return mu, lr
    raise ValueError(f"unknown rule {rule!r}; choose theorem7 or first_order")


STEP_RULES = ("keep", "theorem7", "delay")
MOMENTUM_RULES = ("theorem7", "first_order")  # mu_L from Theorem 7 and Q, or mu_sync - mu_S (control_at's mu_sync)
FIRST_ORDER_STEP_RULES = ("keep", "delay")  # the step rules that need no curvature range (with the first-order rule)
# the closed loop's controllers without a curvature range: a reset rule above, or the step kept and scaled per update
# by a rule of sim.step_rules (delay-adaptive, staleness-aware, threshold)
LOOP_CONTROLLERS = FIRST_ORDER_STEP_RULES + tuple(r for r in step_rules.RULES if r != "constant")
MIN_DELAYS = 50  # the loop keeps its settings until it has logged this many steady-state delays
RESOLUTION = 1e-3  # the loop rounds its lower bound of mu_S down to this (below its SE; Theorem 7's search is cached)


def _check_step_rule(step_rule: str) -> None:
    if step_rule not in STEP_RULES:
        raise ValueError(f"unknown step rule {step_rule!r}; choose one of {', '.join(STEP_RULES)}")


@functools.lru_cache(maxsize=4096)
def _theorem7(mu_implicit: float, condition_number: float) -> tuple[float, float]:
    return controller(mu_implicit, condition_number)


def control_at(mu_implicit: float, mean_staleness: float, condition_number: float | None, lr_start: float,
               step_rule: str = "keep", mu_sync: float | None = None) -> tuple[float, float]:
    """(mu_L, alpha) for an implicit momentum (rounded down to RESOLUTION) and a mean staleness. mu_L: Theorem 7's
    optimum for the curvature range Q, or with `mu_sync` (the momentum tuned at M = 1) the first-order rule
    mu_L = mu_sync - mu_S, clamped to [-0.9, 0.9] (the paper's prescription; no curvature range needed). The step
    tuned at M = 1 (`lr_start`) kept ("keep"), scaled by Theorem 7's ratio alpha(mu_S) / alpha(0) ("theorem7", needs
    Q), or by the pure delay's stability bound at the mean staleness relative to no delay,
    sin(pi / (2 (2 E tau + 1))) ("delay")."""
    _check_step_rule(step_rule)
    if condition_number is None and (mu_sync is None or step_rule == "theorem7"):
        raise ValueError("Theorem 7 (its momentum, or its step rule) needs a curvature range Q (condition_number)")
    mu_s = math.floor(max(0.0, mu_implicit) / RESOLUTION) * RESOLUTION
    mu = (_theorem7(mu_s, float(condition_number))[0] if mu_sync is None else
          float(np.clip(mu_sync - mu_s, -CLAMP, CLAMP)))
    if step_rule == "theorem7":
        q = float(condition_number)
        return mu, lr_start * _theorem7(mu_s, q)[1] / _theorem7(0.0, q)[1]
    if step_rule == "delay":
        return mu, lr_start * math.sin(math.pi / (2 * (2 * mean_staleness + 1)))
    return mu, lr_start


def start_controls(n_workers: int, condition_number: float | None, mu_sync: float | None, lr_start: float,
                   step_rule: str = "keep", first_order: bool = False) -> tuple[float, float]:
    """(mu_L, alpha) before any delay is logged: the rule at what M alone says (mu_S = 1 - 1/M, mean staleness M - 1,
    the mean of any queue); `first_order`: mu_L = mu_sync - mu_S, else Theorem 7 at Q."""
    return control_at(predictions.implicit_momentum(n_workers), n_workers - 1, condition_number, lr_start, step_rule,
                      mu_sync if first_order else None)


def control(steady_staleness: np.ndarray, condition_number: float | None, mu_start: float, lr_start: float,
            step_rule: str = "keep", min_delays: int = MIN_DELAYS, mu_sync: float | None = None
            ) -> tuple[float, float]:
    """What the loop sets from the steady-state staleness logged so far: control_at the estimate's lower bound and
    the mean staleness. With fewer than `min_delays` delays: (mu_start, lr_start)."""
    s = np.asarray(steady_staleness, dtype=float)
    if s.size < min_delays:
        _check_step_rule(step_rule)
        return mu_start, lr_start
    return control_at(lower_bound(s), float(s.mean()), condition_number, lr_start, step_rule, mu_sync)


def schedule_controls(staleness: np.ndarray, warmup: np.ndarray, condition_number: float | None, mu_start: float,
                      lr_start: float, step_rule: str = "keep", every: int = 100, n_workers: int | None = None,
                      mu_sync: float | None = None, per_update: str = "constant") -> tuple[np.ndarray, np.ndarray]:
    """The loop replayed on a logged run: (mu_L, alpha) for every update, reset every `every` updates from the
    steady-state staleness logged before it (as the server does online). Before the first reset: (mu_start,
    lr_start), or with `n_workers` the rule applied to what M alone says (mu_S = 1 - 1/M, mean staleness M - 1: the
    mean of any queue). `mu_sync`: the first-order momentum rule instead of Theorem 7 (control_at). `per_update`: a
    rule of sim.step_rules applied to each update's own staleness on top (needs n_workers). Arrays of the log's
    length."""
    staleness, warmup = np.asarray(staleness), np.asarray(warmup, dtype=bool)
    mu, lr = np.empty(staleness.size), np.empty(staleness.size)
    current = ((mu_start, lr_start) if n_workers is None else
               start_controls(n_workers, condition_number, mu_sync, lr_start, step_rule, mu_sync is not None))
    for t in range(staleness.size):
        if t and t % every == 0:
            steady = staleness[:t][~warmup[:t]]
            if steady.size >= MIN_DELAYS:
                current = control_at(lower_bound(steady), float(steady.mean()), condition_number, lr_start, step_rule,
                                     mu_sync)
        mu[t], lr[t] = current
    if per_update != "constant":
        if n_workers is None:
            raise ValueError("a per-update step rule needs n_workers (M)")
        lr = step_rules.step(per_update, lr, staleness, n_workers)
    return mu, lr


def updates_to_target(rate: float, target: float = 1e-3) -> float:
    """Updates for the expected iterate's error to fall by `target` at this asymptotic rate (inf if rate >= 1)."""
    return math.log(target) / math.log(rate) if 0 < rate < 1 else math.inf


def omnivore(max_workers: int, condition_number: float, time_per_update, target: float = 1e-3,
             halve: bool = True) -> dict:
    """The Omnivore rule on the quadratic model (exact rates): returns the chosen M, mu_L, alpha and its wall time.
    `halve=False` keeps the most workers whatever the momentum (a control)."""
    lam = rates.spread_eigenvalues(condition_number)
    m = max_workers
    while True:
        mu_s = predictions.implicit_momentum(m)
        coarse = {mu: rates.best_explicit_momentum(mu_s, condition_number, mu_explicit=mu) for mu in
                  (0.0, 0.3, 0.6, 0.9)}
        best = min(coarse, key=lambda mu: coarse[mu][2])
        if best > 0 or m == 1 or not halve:
            break
        m //= 2
    fine = [round(best + d, 3) for d in (-0.2, -0.1, 0.0, 0.1, 0.2) if 0 <= best + d <= 0.95]
    options = {mu: rates.best_explicit_momentum(mu_s, condition_number, mu_explicit=mu) for mu in fine}
    mu = min(options, key=lambda v: options[v][2])
    _, lr, rate = options[mu]
    rate = rates.rate(mu_s, mu, lr, lam)
    updates = updates_to_target(rate, target)
    return {"n_workers": m, "mu_explicit": mu, "lr": lr, "rate": rate, "updates": updates,
            "wall_time": updates * time_per_update(m)}
