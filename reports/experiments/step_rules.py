"""Beyond the paper: the step rules of the later literature with the implicit momentum read from the logged staleness,
scored on single runs against the per-M oracle; and when asynchrony pays in wall-clock time (HE x SE).

Logistic regression (the real parameter server's workload, 512 examples, full-batch gradients plus Gaussian noise
of SD 0.002 per coordinate) under the exponential queue: M = 4, 8, 16 and a straggler case (M = 8, one worker 10x
slower). Per case, 10 seeds (each its own queue and noise): the updates each single run needs to reach
||w - w*|| <= 0.02 ||w*||, summarised by the median over seeds with its order-statistic interval. The per-M oracle is
the (mu_L, alpha) grid's configuration with the best median (chosen on the same seeds: it is favoured). The
controllers need no per-M grid: tuned once at M = 1 (mu_sync, alpha_sync), then mu_L from the log (first order:
mu_sync - mu_S; or Theorem 7 at mu_S with a guessed Q = 100), reset every 100 updates, and the step scaled per
update by a rule of sim.step_rules. Beside them: each step rule alone (mu_L = 0) and the synchronous tuning reused.
Wall clock: synchronous training waits for the slowest of M workers each round (E max = H_M x the mean work time for
equal rates), asynchronous training writes at the sum of the rates; both simulated, and predicted from HE and the
runs' updates (SE). Counterpoint: Begunov & Tyurin 2026 argue synchronous SGD is near-optimal under random compute
times. Cost (quick): about 2 min on one core.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from reports.harness.store import Result
from reports.registry import (Claim, Control, Experiment, Tolerance, Verdict, with_controllers_replaced,
                              with_summary)
from sim.step_rule_study import tables


@dataclass(frozen=True)
class Config:
    workers: tuple = (4, 8, 16)
    straggler_workers: int = 8      # the straggler case: M workers ...
    straggler_rate: float = 0.1     # ... of which one works at this rate (the others at rate 1)
    n_seeds: int = 10
    updates: int = 1200             # the slowest case (M = 16) needs about 550
    every: int = 10                 # updates between checks of the distance to w*
    target: float = 0.02            # ||w - w*|| / ||w*||
    noise_std: float = 0.002        # gradient noise per coordinate (a synchronous round of M averages M of them)
    examples: int = 512
    mu_grid: tuple = (-0.3, 0.0, 0.3, 0.6, 0.9)
    lr_grid: tuple = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)   # measured optima: alpha 4 (M = 1) down to 0.5 (M = 16)
    condition_number: float = 100.0  # Theorem 7's controller: a guess of Q (measured at w*: 103)
    sync_seeds: int = 10            # seeds of the synchronous runs (tuned on the grid at each M's noise)
    seed: int = 0

    def validate(self) -> None:
        if not self.workers or min(self.workers) < 2 or max(self.workers) > 64:
            raise ValueError("workers must be in 2..64")
        if not (2 <= self.straggler_workers <= 64 and 0 < self.straggler_rate <= 1):
            raise ValueError("straggler_workers must be in 2..64 and straggler_rate in (0, 1]")
        if not (3 <= self.n_seeds <= 1000 and 100 <= self.updates <= 10 ** 5 and 1 <= self.every <= self.updates
                and 0 < self.target < 1 and 0 <= self.noise_std <= 1 and 2 <= self.sync_seeds <= 1000):
            raise ValueError("n_seeds in 3..1000, updates in 100..10^5, every in 1..updates, target in (0, 1), "
                             "noise_std in [0, 1], sync_seeds in 2..1000")
        if not (16 <= self.examples <= 10 ** 5 and 0.0 in self.mu_grid and self.lr_grid
                and all(-1 < m < 1 for m in self.mu_grid) and all(0 < a < 100 for a in self.lr_grid)):
            raise ValueError("examples in 16..10^5; mu_grid in (-1, 1) with 0; lr_grid in (0, 100)")


#               chosen on


def run(config: Config) -> Result:
    return Result(summary=tables(config))


STEP_TOL = 1.2


def _over_oracle(median, oracle_median) -> float:
    """Median updates over the oracle's; one that never reaches the target is +inf, even against a censored oracle
    (as real_step_rules.claims.ratio)."""
    s = float(median)
    return math.inf if not math.isfinite(s) else s / float(oracle_median)


def _ratio(case: dict, name: str) -> float:
    return _over_oracle(case["strategies"][name]["median"], case["oracle"]["median"])


def _step_rules(result: Result, tol: Tolerance) -> Verdict:
    """The best controller (no per-M grid) within tol of the per-M oracle's median at every case."""
    cases = result.summary["cases"]
    controllers = [n for n in result.summary["strategies"] if "+" in n]
    worst = {n: max(_ratio(c, n) for c in cases.values()) for n in controllers}
    best = min(worst, key=worst.get)
    rows = [f"{label}: oracle {float(c['oracle']['median']):.0f} [{float(c['oracle']['low']):.0f}, "
            f"{float(c['oracle']['high']):.0f}] (mu_L {c['oracle']['mu_explicit']:+.1f}, alpha {c['oracle']['lr']:g}); "
            + ", ".join(f"{n} x{_ratio(c, n):.2f}" for n in result.summary["strategies"]) for label, c in cases.items()]
    values = {f"{n},worst_ratio": v for n, v in worst.items()} | {"best_worst_ratio": worst[best]}
    return Verdict(worst[best] <= tol.value, f"the best controller (momentum rule x step rule, no per-M grid) within "
                   f"{tol.value:g}x of the per-M oracle's median updates at every case",
                   f"closest: {best} (worst case x{worst[best]:.2f}); " + "; ".join(rows), values)


WALL_TOL = 1.5    # a factor: the theory's wall-clock ratio against the simulated one


def _pays(result: Result, tol: Tolerance, key: str = "theory_ratio") -> Verdict:
    """The theory alone (the expected recurrence's updates to target, the queue's time per update, E[max] of a
    round; no run) predicts the wall-clock ratio T_async / T_sync of the simulated runs within a factor tol at every
    case, and so whether asynchrony pays."""
    ok, rows, values = True, [], {}
    for label, c in result.summary["cases"].items():
        w = c["wall"]
        with np.errstate(invalid="ignore", divide="ignore"):
            simulated = float(w["async_time"]) / float(w["sync_time"])
            predicted = float(w[key])
            off = max(predicted / simulated, simulated / predicted)
        ok &= bool(off <= tol.value) and (predicted < 1) == (simulated < 1)
        values |= {f"{label},simulated_ratio": simulated, f"{label},predicted_ratio": predicted, f"{label},off": off}
        rows.append(f"{label}: T_async / T_sync simulated {simulated:.2f} (updates async {w['async_updates']:.0f}, "
                    f"sync {w['sync_updates']:.0f}), predicted from the theory {predicted:.2f} (updates "
                    f"{w['theory_async_updates']:.0f} and {w['theory_sync_updates']:.0f}; x{off:.2f}); asynchrony "
                    f"{'pays' if simulated < 1 else 'does not pay'}")
    until = dict(sorted(result.summary.get("pays_until", {}).items()))
    stops = next((m for m, r in until.items() if r >= 1), None)
    rows.append("the theory's ratio at M = " + ", ".join(f"{m}: {r:.2f}" for m, r in until.items()) + (
        f": asynchrony stops paying at M = {stops}" if stops else ": it pays at every M tried (equal exponential "
        "workers)"))
    return Verdict(ok, f"the theory's wall-clock ratio within x{tol.value:g} of the simulated one at every case (and "
                   "the same answer to 'does asynchrony pay')", "; ".join(rows), values)


ADVICE_TOL = 2.0


def _advised(result: Result, tol: Tolerance, key: str = "advised") -> Verdict:
    """The advice sim.advise gives from one log of each system, run on queues and noise it was not chosen on: its
    median updates within tol of the per-M oracle's at every case (the exponential ones and the law cases, whose work
    is not memoryless)."""
    cases = result.summary["cases"] | result.summary.get("law_cases", {})
    ratios = {label: _over_oracle(c["advice"][key]["median"], c["oracle"]["median"]) for label, c in cases.items()}
    rows = [f"{label}: {_advised_name(c['advice']) if key == 'advised' else 'first_order+constant'} "
            f"{float(c['advice'][key]['median']):.0f} [{float(c['advice'][key]['low']):.0f}, "
            f"{float(c['advice'][key]['high']):.0f}] updates against the oracle's {float(c['oracle']['median']):.0f} "
            f"(x{ratios[label]:.2f})" for label, c in cases.items()]
    worst = max(ratios.values())
    return Verdict(all(r <= tol.value for r in ratios.values()), f"the advised controller within x{tol.value:g} of "
                   "the per-M oracle's median updates at every case, on fresh queues and noise", "; ".join(rows),
                   {f"{label},ratio": r for label, r in ratios.items()} | {"worst_ratio": worst})


def _advised_name(advice: dict) -> str:
    if advice["strategy"] == "no_compensation":
        return ("no controller advised (the log's staleness is not geometric and its law too long to search: a per-M "
                "grid is; the synchronous tuning reused)")
    if advice["strategy"].startswith("law+"):
        return f"{advice['strategy']} (mu_L {advice['mu_explicit']:+.2f}, the law's own recurrence)"
    return advice["strategy"]


def _old_advice(result: Result) -> Result:
    """Control evidence: the advice as it was (first-order momentum, the step tuned at M = 1 kept)."""
    def old(cases: dict) -> dict:
        return {label: {**c, "advice": {**c["advice"], "advised": c["advice"]["step_kept"]}} for label, c in cases.items()}
    return with_summary(result, cases=old(result.summary["cases"]), law_cases=old(result.summary.get("law_cases", {})))


def _no_power(result: Result, tol: Tolerance) -> dict:
    return {"seeds": 0, "note": "not measured: one seed set of 10 single runs per case (its medians' order-statistic "
                                "intervals are in the values); a re-run at fresh seeds costs as much again"}


CLAIMS = (
    Claim(id="extension-step-rules-logreg", paper_ref="Section VI; later step rules", statement="Extension: on logistic regression under "
          "the exponential queue (M = 4, 8, 16, and a straggler: one of 8 workers 10x slower), a controller with no "
          "per-M grid — momentum from the logged staleness (first order or Theorem 7) times a step rule of the later "
          "literature (constant, delay-adaptive, staleness-aware, threshold) — reaches the target within "
          f"{STEP_TOL:g}x of the "
          "per-M oracle's median updates on single runs, at every case.", check=_step_rules,
          tolerance=Tolerance(STEP_TOL, "ratio", "the target set for the controller; the oracle is chosen on the same seeds, "
                    "which favours it"),
          controls=(Control("no-compensation", "the synchronous tuning reused in place of every controller",
                   with_controllers_replaced),),
          figure="step_rules", power=_no_power, expect="result"),
    Claim(id="extension-advice-logreg", paper_ref="Section VI; Theorem 5", statement="Extension: the advice `python -m sim.advise` prints "
          "from one staleness log of the system (geometric staleness: first-order momentum from the log; staleness "
          "that is not geometric: the law's own recurrence's momentum once the advice is given the curvature guess "
          "Q = 100 it asks for, or none; the step rule the step-rule study found best), applied with the synchronous "
          f"tuning and no per-M grid, reaches the target within {ADVICE_TOL:g}x of the per-M oracle's median updates "
          "at every case (exponential work at M = 4, 8, 16, the straggler, and constant work at M = 8: a pure delay), "
          "on queues and noise the advice was not chosen on.", check=_advised,
          tolerance=Tolerance(ADVICE_TOL, "ratio", "what a user gives up for not tuning at each M: at most twice the updates "
                    "(set before the advice was run; the oracle is chosen on other seeds than the advice's runs)"),
          controls=(Control("step-kept", "the advice as it was: first-order momentum with the step tuned at M = 1 kept",
                   _old_advice),),
          figure="step_rules", power=_no_power, expect="result"),
    Claim(id="extension-when-async-pays", paper_ref="Section IV-A (HE x SE); Theorem 7", statement="Extension: the theory alone predicts "
          "when asynchrony pays in wall-clock time: the expected recurrence's updates to target (Theorem 7's rate on "
          "the loss's quadratic model at w*, at the grid's best mu_L and alpha, no run) times the queue's time per "
          "update (1 / the sum of the rates), against its synchronous updates times E[max] of the work times per "
          "round, predicts the simulated runs' ratio T_async / T_sync within a factor 1.5, for equal exponential "
          "workers (E[max] = H_M) and with a straggler (one of 8 ten times slower: E[max] is not H_M).", check=_pays, tolerance=Tolerance(WALL_TOL, "ratio", "the prediction ignores the runs' gradient noise and uses the expected "
                           "iterate, while single runs tune their step to noise; a factor 1.5 still separates the "
                           "slowest worker from the mean one (H_M = 2.08..3.38 at M = 4..16)"),
          controls=(Control("round-waits-for-the-mean-worker", "a synchronous round takes the mean work time (the slowest "
                   "worker ignored)",
                   lambda r: with_summary(r, cases={k: {**c, "wall": {**c["wall"], "theory_ratio":
                                                                      c["wall"]["naive_theory_ratio"]}}
                                                    for k, c in r.summary["cases"].items()})),),
          figure="step_rules", power=_no_power, expect="result"),
)


def figures(result: Result) -> dict:
    import matplotlib.pyplot as plt
    cases = result.summary["cases"]
    fig, ax = plt.subplots(figsize=(9, 4))
    names = result.summary["strategies"]
    for k, (label, c) in enumerate(cases.items()):
        ratios = [_ratio(c, n) for n in names]
        ax.plot(range(len(names)), ratios, "o-", label=label)
    ax.axhline(STEP_TOL, color="gray", ls=":", lw=0.8)
    ax.set_xticks(range(len(names)), names, rotation=70, fontsize=6)
    ax.set(yscale="log", ylabel="median updates / per-M oracle", title="Single runs: controllers and step rules")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return {"step_rules": fig}


EXPERIMENT = Experiment(
    name="step_rules", method="monte_carlo", part="beyond", seeded=True, version=4, config=Config,
    profiles={"quick": Config(), "full": Config(n_seeds=30, sync_seeds=15)},
    smoke=Config(workers=(4,), straggler_workers=4, n_seeds=3, updates=200, sync_seeds=2, mu_grid=(0.0, 0.6),
                 lr_grid=(1.0, 4.0), target=0.2),
    run=run, figures=figures, claims=CLAIMS, slow=True)
