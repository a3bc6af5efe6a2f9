"""The experiment's claims: checks, controls, power."""
from __future__ import annotations

import math
from reports.harness.store import Result
from reports.registry import Claim, Control, Tolerance, Verdict, with_summary
from theory import predictions


def _per(result: Result) -> dict:
    """per_workers in increasing M (a diverging strategy's updates are inf: the codec keeps it)."""
    per = result.summary["per_workers"]
    return {m: per[m] for m in sorted(per)}


def _estimator(result: Result, tol: Tolerance) -> Verdict:
    per = _per(result)
    gaps = {m: abs(v["mu_hat"] - predictions.implicit_momentum(m)) for m, v in per.items()}
    return Verdict(max(gaps.values()) <= tol.value, f"|mu_hat - (1 - 1/M)| <= {tol.value:g} at every M, one run of "
                   "each", ", ".join(f"M={m}: {per[m]['mu_hat']:.4f} vs {predictions.implicit_momentum(m):.4f}" for m in per),
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
    ratios = {m: per[m][key]["updates"] / per[m]["oracle"]["updates"] for m in CLOSED_AT if m in per}
    top = max(per)
    fixed = per[top]["fixed_0.9"]["updates"] / per[top][key]["updates"]
    ok = bool(ratios) and max(ratios.values()) <= 1 + tol.value and fixed >= 2
    rows = ", ".join(f"M={m}: {per[m][key]['updates']:.0f} vs oracle {per[m]['oracle']['updates']:.0f} "
                     f"(x{r:.3f})" for m, r in ratios.items())
    point = ", ".join(f"M={m}: x{per[m]['closed_loop_point']['updates'] / per[m]['oracle']['updates']:.3f}"
                      for m in ratios if "closed_loop_point" in per[m])
    return Verdict(ok, f"updates to 1e-3 within {tol.value:.0%} of the per-M oracle at M in {CLOSED_AT}, and mu_L = "
                   f"0.9 at least 2x slower at M = {top}", rows + f" (controller fed the estimate's lower bound, "
                   f"estimate - 2 SE; fed the point estimate: {point}); fixed 0.9 at M={top}: x{fixed:.2f} of the "
                   f"closed loop; first-order rule: " + ", ".join(
                       f"M={m}: x{per[m]['first_order']['updates'] / per[m]['oracle']['updates']:.2f}" for m in per),
                   {f"M={m},ratio": r for m, r in ratios.items()} | {"fixed_0.9_over_closed_loop": fixed})


def _closed_loop_logreg(result: Result, tol: Tolerance, key: str = "closed_loop") -> Verdict:
    lr_ = result.summary["logreg"]
    per = {m: dict(sorted(e.items())) for m, e in sorted(lr_["per_workers"].items())}
    ratios = {m: per[m][key]["updates"] / per[m]["oracle"]["updates"] for m in sorted(per)}
    top = max(per)
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
    best_m = min(s["exhaustive"], key=lambda m: s["exhaustive"][m]["wall_time"])
    best = s["exhaustive"][best_m]["wall_time"]
    rule = s[key]
    ratio = rule["wall_time"] / best
    nn_m = min(s["exhaustive"], key=lambda m: s["exhaustive"][m]["wall_time_non_negative"])
    nn = s["exhaustive"][nn_m]["wall_time_non_negative"]
    return Verdict(ratio <= 1 + tol.value, f"the rule's wall time within {tol.value:.0%} of the exhaustive optimum "
                   "over M (and tuned mu_L, alpha)", f"rule: M={rule['n_workers']}, mu_L={rule['mu_explicit']:.2f}, "
                   f"wall {rule['wall_time']:.1f}; exhaustive: M={best_m}, mu_L="
                   f"{s['exhaustive'][best_m]['mu_explicit']:.2f}, wall {best:.1f}; ratio {ratio:.3f} (the best with "
                   f"mu_L >= 0 only: M={nn_m}, wall {nn:.1f})",
                   {"ratio": ratio, "rule_workers": rule["n_workers"], "best_workers": int(best_m),
                    "ratio_to_non_negative_best": rule["wall_time"] / nn})


ESTIMATE_BAR = 0.02   # mu_S: the system-side estimator's bar
LOOP_BAR = 0.10       # relative: the closed loop against the per-M oracle
OMNIVORE_BAR = 0.20   # relative: Omnivore's rule against the exhaustive optimum
GRID_WHY = ("an error of 0.02 in mu_S moves the compensated mu_L = mu* - mu_S by 0.02, under a tenth of Fig. 8's "
            "momentum grid step (0.225): below the resolution at which the paper tunes momentum")

CLAIMS = (
    Claim(id="extension-system-estimator-any-law", paper_ref="Section VI; Theorem 2 under other laws", statement="Extension: for work times "
          "that are not memoryless, the server's staleness log still gives the implicit momentum: its empirical pmf "
          "through the law's best two-term fit (theory.laws.two_term_fit at the run's step) is within "
          f"{ESTIMATE_BAR:g} of the "
          "law's two-term momentum from one run of 2,000 updates (exponential, gamma-10 and constant work, M = 1..16), "
          "where the geometric law's mean / (1 + mean) — always (M - 1) / M — is not. What it tests: a plug-in "
          "estimator against the same functional of the population pmf (its consistency at one run's size), not "
          "against an independent truth.", check=_system_any_law,
          tolerance=Tolerance(ESTIMATE_BAR, "absolute", GRID_WHY),
          controls=(Control("geometric-mle", "the geometric law's estimate mean / (1 + mean): the paper's assumption that every "
                   "law is memoryless", lambda r: with_summary(r, estimators={
                       k: {**v, "system_law": v["system_geometric"]} for k, v in r.summary["estimators"].items()})),),
          figure="compensation_trajectory_estimates", expect="result"),
    Claim(id="extension-trajectory-estimators", paper_ref="Section VI / YellowFin", statement="Extension: read off one noisy run "
          "(2,000 updates, gradient noise 0.1, online every 100 updates), the trajectory-side estimators do not reach "
          f"the system side's {ESTIMATE_BAR:g}: YellowFin's (EMAs of steps and gradients, median over coordinates and time) even "
          "when given the asynchronous step alpha(1 - mu_S), which a running system cannot know — with its own step "
          "alpha it reads about 0 at every M —, and an instrumental-variable fit (instruments one update old). Why: "
          "on one run the update's error is the fresh noise minus mu_S times the previous one (MA(1)), correlated "
          "with the previous step (errors in variables); least squares attenuates, the instruments are weak. On the "
          "mean of 200 runs both recover the truth.", check=_trajectory_side,
          tolerance=Tolerance(ESTIMATE_BAR, "absolute", "the bar the system-side estimator is held to"),
          controls=(Control("mean-of-runs", "the same estimators on the mean of 200 runs (the expected trajectory Theorem 3 is "
                   "about)", _mean_of_runs),), figure="compensation_trajectory_estimates", expect="result"),
    Claim(id="extension-system-estimator", paper_ref="Section VI / YellowFin", statement="Extension: the implicit momentum of a "
          "running asynchronous system is read off the staleness its server logs — the geometric law's maximum-"
          f"likelihood ratio mean / (1 + mean) — within {ESTIMATE_BAR:g} of 1 - 1/M from one run of 2,000 updates (M = 2..16, "
          "exponential work). (The trajectory-side estimators do not, from one run: "
          "extension-trajectory-estimators.) Read with care: the mean staleness is M - 1 under any law, so this "
          "estimator counts workers; its control 'count-the-workers' passes too, and the claim shows cannot_fail.",
          check=_estimator,
          tolerance=Tolerance(ESTIMATE_BAR, "absolute", GRID_WHY + "; the estimator's SD at M = 16 and 2,000 dependent delays "
                    "is about 0.003"),
          controls=(Control("count-the-workers", "no log at all: the estimate (M - 1) / M from the known number of workers (the "
                   "mean staleness is M - 1 for any law, so mean / (1 + mean) counts workers)",
                   lambda r: with_summary(r, per_workers={m: {**v, "mu_hat": predictions.implicit_momentum(m)}
                                                          for m, v in r.summary["per_workers"].items()})),
           Control("M-labels-reversed", "the same runs with their M labels reversed",
                   lambda r: with_summary(r, per_workers={m: {**r.summary["per_workers"][m], "mu_hat": v["mu_hat"]}
                                                          for m, v in zip(r.summary["per_workers"], reversed(list(
                                                              r.summary["per_workers"].values())))}))),
          figure="compensation_estimates", expect="result"),
    Claim(id="extension-closed-loop", paper_ref="Section VI", statement="Extension: setting (mu_L, alpha) by Theorem 7 from the "
          f"estimated implicit momentum and the curvature range, with no per-M grid, reaches the target within {LOOP_BAR:.0%} of "
          "the per-M oracle at M = 4, 8, 16, and keeping mu_L = 0.9 is at least twice as slow at M = 16 (quadratic "
          "model, exact expected-iterate rates). The optimum sits on a corner that is steep towards larger mu_S, so "
          "the controller is fed the estimate's lower bound (estimate - 2 SE, an offset chosen after the point "
          "estimate's cost had been measured: a robustness margin, not a coverage statement); the point estimate's "
          "cost is reported beside it. What it tests: controller, oracle and score are the same Theorem 7 search, so "
          "only that its optimum moves little when mu_S moves a little — a consistency check, scored on the expected "
          "iterate (single runs: extension-tuning-in-mean-square).", check=_closed_loop,
          tolerance=Tolerance(LOOP_BAR, "relative", "set before the runs as the cost a user accepts for not tuning at each M (a tenth more "
                    "updates than the per-M oracle); the estimate's error (about 0.003) moves the rate by less"),
          controls=(Control("no-compensation", "the synchronous tuning reused at every M (asynchrony ignored)",
                   lambda r: with_summary(r, per_workers={m: {**v, "closed_loop": v["no_compensation"]}
                                                          for m, v in r.summary["per_workers"].items()})),),
          figure="compensation_updates", expect="result"),
    Claim(id="extension-closed-loop-logreg", paper_ref="Section VI", statement="Extension: on logistic regression (the real "
          "parameter server's workload, full-batch gradients, the exponential queue), the closed loop — mu_L from "
          "Theorem 7 at the logged staleness' lower bound and a guessed Q = 100 (measured at w*: 103), the step tuned "
          f"once at M = 1 and kept, no per-M grid — reaches ||w - w*|| <= 1e-2 ||w*|| within {LOOP_BAR:.0%} of the per-M oracle "
          "(mu_L and alpha grid-tuned at each M) at M = 4, 8, 16, and mu_L = 0.9 is at least twice as slow at M = 16. "
          "Also shown: the step rescaled by Theorem 7's ratio, and by the pure delay's stability bound at the mean "
          "staleness; the loop starts from what M alone says (mu_S = 1 - 1/M) and resets every 100 updates.",
          check=_closed_loop_logreg,
          tolerance=Tolerance(LOOP_BAR, "relative", "set before the runs as the cost a user accepts for not tuning at each M (a tenth more "
                    "updates than the per-M oracle); 4 replicas of a full-batch run differ only by their queues"),
          controls=(Control("no-compensation", "the synchronous tuning reused at every M (asynchrony ignored)",
                   lambda r: with_summary(r, logreg={**r.summary["logreg"], "per_workers": {
                       m: {**v, "closed_loop": v["no_compensation"]}
                       for m, v in r.summary["logreg"]["per_workers"].items()}})),),
          figure="compensation_logreg", expect="result"),
    Claim(id="extension-omnivore-rule", paper_ref="Omnivore's optimizer (docs/paper.md section 4)", statement="Extension: Omnivore's "
          "rule (momentum from {0, 0.3, 0.6, 0.9}, halve the workers while the best momentum is 0) lands within "
          f"{OMNIVORE_BAR:.0%} "
          "of the exhaustive optimum over M in wall-clock time, under a hardware efficiency that saturates at 8 "
          "workers. Scored on the expected iterate's exact rate (Theorem 7), where single runs behave otherwise: "
          "some of the settings it compares diverge in mean square (extension-tuning-in-mean-square).", check=_omnivore, tolerance=Tolerance(OMNIVORE_BAR, "relative", "set before the runs: the rule searches 4 momenta and changes M by "
          "factors of 2, so it is held to a coarser bar than the per-M closed loop (10 %)"),
          controls=(Control("never-halve", "the same rule without halving the workers", lambda r: with_summary(
              r, omnivore=r.summary["never_halve"])),), figure="compensation_updates", expect="result"),
)
