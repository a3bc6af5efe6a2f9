"""Beyond the paper: closed-loop momentum compensation on the quadratic model (issue 12, first part).

One asynchronous run per M (exponential queue, 2,000 updates) logs its staleness; the system-side estimator
(sim.compensation) reads the implicit momentum off it every 100 updates; a controller sets (mu_L, alpha) from the
estimate and the curvature range Q, with no per-M grid. Every strategy is scored by the updates its expected
iterate needs to shrink the error by 1e-3 at the model's true mu_S = 1 - 1/M (Theorem 7's exact rates): the
closed loop, the per-M oracle (Theorem 7 at the true mu_S), the first-order rule mu_L = mu* - mu_S, mu_L fixed at
0.9 (step tuned), and the synchronous tuning reused at every M (no compensation). The Omnivore rule (halve the
workers while the best momentum is 0) is compared in wall-clock time with the exhaustive optimum over M under a
synthetic hardware efficiency: time per update 1 / min(M, M_sat). Cost (quick): about 20 s on one core.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from reports.harness.provenance import provenance
from reports.harness.store import Result
from reports.registry import Claim, Control, Experiment, Tolerance, Verdict, with_summary
from sim import compensation
from sim.queue import simulate
from sim.seeds import seed_tree
from theory import quadratic


@dataclass(frozen=True)
class Config:
    workers: tuple = (2, 4, 8, 16)
    condition_number: float = 100.0
    n_updates: int = 2000
    every: int = 100
    target: float = 1e-3
    max_workers: int = 32
    saturation: int = 8          # synthetic hardware efficiency: time per update 1 / min(M, saturation)
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


PROFILES = {"quick": Config(), "full": Config(workers=(2, 4, 8, 16, 32), n_updates=20_000, max_workers=64)}


def _updates(config: Config, m: int, mu: float, lr: float) -> float:
    lam = quadratic.spread_eigenvalues(config.condition_number)
    return compensation.updates_to_target(quadratic.rate(1 - 1 / m, mu, lr, lam), config.target)


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
                               ("oracle", quadratic.best_explicit_momentum(1 - 1 / m, q)[:2]),
                               ("fixed_0.9", quadratic.best_explicit_momentum(1 - 1 / m, q, mu_explicit=0.9)[:2]),
                               ("no_compensation", (sync_mu, sync_lr))):
            entry[name] = {"mu_explicit": float(mu), "lr": float(lr), "updates": _updates(config, m, mu, lr)}
        per[str(m)] = entry
    speed = lambda m: 1.0 / min(m, config.saturation)  # noqa: E731 - time per update
    exhaustive = {}
    m = 1
    while m <= config.max_workers:
        mu, lr, rate = quadratic.best_explicit_momentum(1 - 1 / m, q)
        updates = compensation.updates_to_target(rate, config.target)
        rate_nn = quadratic.best_explicit_momentum(1 - 1 / m, q, mu_range=(0.0, 0.95))[2]
        exhaustive[str(m)] = {"mu_explicit": mu, "lr": lr, "updates": updates, "wall_time": updates * speed(m),
                              "wall_time_non_negative": compensation.updates_to_target(rate_nn, config.target) * speed(m)}
        m *= 2
    rule = compensation.omnivore(config.max_workers, q, speed, config.target)
    never = compensation.omnivore(config.max_workers, q, speed, config.target, halve=False)
    summary = {"per_workers": per, "synchronous": {"mu_explicit": sync_mu, "lr": sync_lr,
                                                   "updates": compensation.updates_to_target(sync_rate, config.target)},
               "exhaustive": exhaustive, "omnivore": rule, "never_halve": never,
               "mu_star": quadratic.polyak_momentum(q), "workers": list(config.workers)}
    return Result(summary=summary, arrays={}, provenance=provenance({"seed": config.seed}, time.time() - start))


# ------------------------------------------------------------------ checks ----------------------------------

def _per(result: Result) -> dict:
    """per_workers in increasing M, with a stored null (JSON has no inf: a diverging strategy) read back as inf."""
    per = result.summary["per_workers"]
    return {m: {k: ({**v, "updates": math.inf if v.get("updates") is None else v["updates"]}
                    if isinstance(v, dict) else v) for k, v in per[m].items()} for m in sorted(per, key=int)}


def _estimator(result: Result, tol: Tolerance) -> Verdict:
    per = _per(result)
    gaps = {m: abs(v["mu_hat"] - (1 - 1 / int(m))) for m, v in per.items()}
    return Verdict(max(gaps.values()) <= tol.value, f"|mu_hat - (1 - 1/M)| <= {tol.value:g} at every M, one run of "
                   "each", ", ".join(f"M={m}: {per[m]['mu_hat']:.4f} vs {1 - 1 / int(m):.4f}" for m in per),
                   {f"M={m}": per[m]["mu_hat"] for m in per} | {f"M={m},gap": g for m, g in gaps.items()})


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
    Claim("extension-system-estimator", "Section VI / YellowFin (issue 12)", "Extension: the implicit momentum of a "
          "running asynchronous system is read off the staleness its server logs — the geometric law's maximum-"
          "likelihood ratio mean / (1 + mean) — within 0.02 of 1 - 1/M from one run of 2,000 updates (M = 2..16, "
          "exponential work). (The trajectory-side estimators read about 0 from one run: "
          "extension-momentum-only-in-expectation.)", "extension", _estimator,
          Tolerance(0.02, "absolute", "the issue's target; the estimator's SD at M = 16 and 2,000 dependent delays "
                    "is about 0.003"),
          (Control("M-labels-reversed", "the same runs with their M labels reversed",
                   lambda r: with_summary(r, per_workers={m: {**r.summary["per_workers"][m], "mu_hat": v["mu_hat"]}
                                                          for m, v in zip(r.summary["per_workers"], reversed(list(
                                                              r.summary["per_workers"].values())))})),),
          figure="compensation_estimates"),
    Claim("extension-closed-loop", "Section VI (issue 12)", "Extension: setting (mu_L, alpha) by Theorem 7 from the "
          "estimated implicit momentum and the curvature range, with no per-M grid, reaches the target within 10 % of "
          "the per-M oracle at M = 4, 8, 16, and keeping mu_L = 0.9 is at least twice as slow at M = 16 (quadratic "
          "model, exact expected-iterate rates). The optimum sits on a corner that is steep towards larger mu_S, so "
          "the controller is fed the estimate's lower bound (estimate - 2 SE); the point estimate's cost is "
          "reported beside it.", "extension", _closed_loop,
          Tolerance(0.10, "relative", "the issue's target; the estimate's error (about 0.003) moves the rate by less"),
          (Control("no-compensation", "the synchronous tuning reused at every M (asynchrony ignored)",
                   lambda r: with_summary(r, per_workers={m: {**v, "closed_loop": v["no_compensation"]}
                                                          for m, v in r.summary["per_workers"].items()})),),
          figure="compensation_updates"),
    Claim("extension-omnivore-rule", "Section 4 of SPEC.md: Omnivore's optimizer (issue 12)", "Extension: Omnivore's "
          "rule (momentum from {0, 0.3, 0.6, 0.9}, halve the workers while the best momentum is 0) lands within 20 % "
          "of the exhaustive optimum over M in wall-clock time, under a hardware efficiency that saturates at 8 "
          "workers.", "extension", _omnivore, Tolerance(0.20, "relative", "the issue's target"),
          (Control("never-halve", "the same rule without halving the workers", lambda r: with_summary(
              r, omnivore=r.summary["never_halve"])),), figure="compensation_updates"),
)


def figures(result: Result) -> dict:
    import matplotlib.pyplot as plt
    s = result.summary
    out = {}
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for m, v in s["per_workers"].items():
        line, = ax.plot(v["counts"], v["estimates"], label=f"M={m}: estimate")
        ax.axhline(1 - 1 / int(m), color=line.get_color(), ls=":", lw=0.8)
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
    return out


EXPERIMENT = Experiment(
    name="compensation", kind="compensation", version=1, config=Config, profiles=PROFILES,
    smoke=Config(workers=(2, 4), n_updates=200, every=50, max_workers=4, condition_number=10.0),
    run=run, figures=figures, claims=CLAIMS, power_seeds=10, slow=True)  # slow: its verdicts are results
