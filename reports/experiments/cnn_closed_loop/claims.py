"""The closed loop on the CNN, scored on single runs against the per-M oracle of the grid (same seeds)."""
from __future__ import annotations

import numpy as np

from cnn_experiments import analysis
from cnn_experiments.analysis import Evidence
from cnn_experiments.closed_loop_chunks import NO_COMPENSATION, evidence
from reports.harness.store import Result
from reports.registry import Claim, Control, Tolerance, Verdict

LOOP_AT = (4, 8, 16)      # the closed loop within 10 % of the per-M oracle at these M
LOOP = "loop_keep"        # the step rule the claim is decided on: the tuned step kept, as the server does
FIXED_SLOWER = 2.0        # mu_L = 0.9 (step tuned) at least this many times slower than the loop at the largest M
LEVEL = 0.95
RESAMPLES = 999


def loop_scores(result: Result, idx=None) -> np.ndarray:
    """Mean capped time over the seeds idx: (targets, M > 1, strategy, B)."""
    times = result.arrays["loop_times"]
    cap = result.summary["closed_loop"]["budget"]
    return np.minimum(times[..., analysis.seed_index(times.shape[-1], idx)], cap).mean(axis=-1)


def _ratio(result: Result, t: int, m: int, top: str, bottom: str):
    loop = result.summary["closed_loop"]
    j = loop["workers"].index(m)

    def score(ev, idx, name):
        if name in loop["strategies"]:
            return loop_scores(result, idx)[t, j, loop["strategies"].index(name)]
        return analysis.strategy(ev, name, idx)[0][t, list(ev.workers).index(m)]

    def ratio(ev, idx):
        with np.errstate(divide="ignore", invalid="ignore"):
            return score(ev, idx, top) / score(ev, idx, bottom)
    return ratio


def loop_on(result: Result, ev: Evidence, tol: Tolerance, n_resamples: int = RESAMPLES):
    loop = result.summary["closed_loop"]
    at = [m for m in LOOP_AT if m in loop["workers"]]
    top = max(loop["workers"])
    ok, rows, values = True, [], {}
    for t in range(ev.times.shape[0]):
        name, parts = f"target_{t + 1}", []
        for m in at:
            stat = _ratio(result, t, m, LOOP, "any_sign")
            ratio = float(stat(ev, None)[0])
            low, high = (analysis.interval(stat, ev, seed=50 + t + m, n_resamples=n_resamples, level=LEVEL)
                         if n_resamples else (ratio, ratio))   # the decision reads the ratio only
            ok &= ratio <= 1 + tol.value
            values.update({f"{name},M={m},ratio": ratio, f"{name},M={m},low": low, f"{name},M={m},high": high})
            others = ", ".join(f"{k} x{float(_ratio(result, t, m, k, 'any_sign')(ev, None)[0]):.2f}"
                               for k in loop["strategies"] if k != LOOP)
            parts.append(f"M={m}: x{ratio:.2f} [{low:.2f}, {high:.2f}] ({others})")
        fixed = float(_ratio(result, t, top, "fixed_0.9", LOOP)(ev, None)[0])
        ok &= fixed >= FIXED_SLOWER
        values[f"{name},fixed_0.9_over_loop"] = fixed
        rows.append(f"{name}: {LOOP} / oracle " + "; ".join(parts) + f"; fixed 0.9 / {LOOP} at M={top}: x{fixed:.2f}")
    return ok, "; ".join(rows), values


def loop_check(result: Result, tol: Tolerance, n_resamples: int = RESAMPLES) -> Verdict:
    expected = (f"updates to each target of the loop (step kept) within {tol.value:.0%} of the per-M oracle at M in "
                f"{LOOP_AT}, and mu_L = 0.9 (step tuned) at least {FIXED_SLOWER:g}x slower at the largest M")
    loop = result.summary.get("closed_loop")
    if not loop or LOOP not in loop["strategies"] or not set(LOOP_AT) & set(loop["workers"]):
        return Verdict(None, expected, f"no closed-loop runs ({LOOP}) at M in {LOOP_AT} in this evidence: not run")
    ok, measured, values = loop_on(result, evidence(result), tol, n_resamples)
    final = "; ".join(f"M={m}: " + ", ".join(f"{k} (mu_L {v['mu_explicit']:+.2f}, alpha {v['lr']:.3g})"
                                             for k, v in by.items()) for m, by in loop["final"].items())
    return Verdict(bool(ok), expected, f"synchronous tuning mu_L {loop['mu_sync']:+.3f}, step {loop['step_sync']:g} "
                   f"(alpha {loop['lr_sync']:.3g}); " + measured + "; settings at the last update (mean over seeds): "
                   + final + " (ratios of mean capped updates: a censored run counts as the budget)", values)


def uncompensated(result: Result) -> Result:
    """Control evidence: the loop's runs replaced by the synchronous tuning reused unchanged (no compensation)."""
    import copy
    new = copy.copy(result)
    loop = result.summary["closed_loop"]
    times = np.array(result.arrays["loop_times"])
    times[:, :, loop["strategies"].index(LOOP)] = times[:, :, loop["strategies"].index(NO_COMPENSATION)]
    new.arrays = {**result.arrays, "loop_times": times}
    new.summary = copy.deepcopy(result.summary)
    for by in new.summary["closed_loop"]["final"].values():
        by[LOOP] = by[NO_COMPENSATION]
    return new


def resampling(check, decide=None):
    """Resampling stability, not power: the check re-decided on bootstrap resamples of the same seeds (grid and loops
    resampled together: they share each seed's queue and mini-batches). `decide`: the check without the intervals it
    prints (the same decision, faster)."""
    decide = decide or check

    def record(result: Result, tol: Tolerance) -> dict:
        if check(result, tol).passed is None:
            return {"seeds": 0, "note": "not run: no closed-loop evidence"}
        n = result.arrays["times"].shape[-1]

        def rate(res, seed):
            rng = np.random.default_rng(seed)
            return float(np.mean([bool(decide(_subset(res, rng.integers(0, n, n)), tol).passed) for _ in range(200)]))
        control = all_uncompensated(result)
        return {"kind": "resampling", "seeds": n, "resamples": 200, "pass_rate": rate(result, 1),
                "control_pass_rate": rate(control, 2), "control": "no-compensation",
                "method": f"resampling stability, not power: the check re-decided on 200 bootstrap resamples of the "
                          f"same {n} seeds (grid and loops resampled together)"}
    return record


def _subset(result: Result, idx) -> Result:
    import copy
    new = copy.copy(result)
    new.arrays = {"times": result.arrays["times"][..., idx], "caps": result.arrays["caps"][:, idx],
                  "loop_times": result.arrays["loop_times"][..., idx]}
    return new


STEP_TOL = 1.2


def step_rules_check(result: Result, tol: Tolerance) -> Verdict:
    """The best of the loop's controllers (its reset rules and the later literature's per-update step rules) within
    tol of the per-M oracle at every M of LOOP_AT, at the last target."""
    loop = result.summary.get("closed_loop")
    expected = f"the best loop controller within {tol.value:g}x of the per-M oracle at M in {LOOP_AT}, last target"
    if not loop or not set(LOOP_AT) & set(loop["workers"]):
        return Verdict(None, expected, f"no closed-loop runs at M in {LOOP_AT} in this evidence: not run")
    ev, t = evidence(result), len(result.summary["targets"]) - 1
    at = [m for m in LOOP_AT if m in loop["workers"]]
    names = [n for n in loop["strategies"] if n != NO_COMPENSATION]
    worst = {n: max(float(_ratio(result, t, m, n, "any_sign")(ev, None)[0]) for m in at) for n in names}
    best = min(worst, key=worst.get)
    return Verdict(worst[best] <= tol.value, expected, f"closest: {best} (worst over M x{worst[best]:.2f}); " +
                   ", ".join(f"{n} x{v:.2f}" for n, v in worst.items()),
                   {f"{n},worst_ratio": v for n, v in worst.items()})


def mu_zero_step_kept(result: Result, every: bool = False) -> Result:
    """Control evidence: no compensation at all, only mu_L set to 0 with the synchronous step alpha kept (the grid's
    mu_L = 0 run at the effective step nearest alpha) in place of the loop's runs: where the check passes on it too,
    the claim cannot tell 'compensate the momentum' from 'drop the momentum'."""
    import copy
    new = copy.copy(result)
    s, loop = result.summary, result.summary["closed_loop"]
    times, out = np.array(result.arrays["times"]), np.array(result.arrays["loop_times"])
    i_zero = list(s["mu_grid"]).index(0.0)
    for j, m in enumerate(loop["workers"]):
        steps = np.asarray(s["steps"][m], dtype=float)
        k = int(np.argmin(np.abs(np.log(steps / loop["lr_sync"]))))   # at mu_L = 0 the effective step is alpha
        for name in (loop["strategies"] if every else [LOOP]):
            if name != NO_COMPENSATION:
                out[:, j, loop["strategies"].index(name)] = times[:, list(s["workers"]).index(m), i_zero, k]
    new.arrays = {**result.arrays, "loop_times": out}
    return new


def all_uncompensated(result: Result) -> Result:
    """Control evidence: every loop's runs replaced by the synchronous tuning reused."""
    import copy
    new = copy.copy(result)
    loop = result.summary["closed_loop"]
    times = np.array(result.arrays["loop_times"])
    for k, _ in enumerate(loop["strategies"]):
        times[:, :, k] = times[:, :, loop["strategies"].index(NO_COMPENSATION)]
    new.arrays = {**result.arrays, "loop_times": times}
    return new


CLAIMS = (
    Claim(id="extension-closed-loop-cnn", paper_ref="Section VI", statement="Extension: training the CNN under simulated asynchrony, the "
          "closed loop — tuned once at M = 1 (the grid's best synchronous mu_L and step), then mu_L = mu_sync - mu_S "
          "from the staleness the queue logs (the first-order rule: no curvature range is known for a CNN), reset "
          "every 100 updates, the step kept — reaches each loss target within 10 % of the per-M oracle (the best of "
          "the whole mu_L x step grid at that M) at M = 4, 8, 16, and mu_L = 0.9 (step tuned) is at least twice as "
          "slow at M = 16. Shown beside it: the step scaled by the pure delay's stability bound, and the synchronous "
          "tuning reused unchanged.", check=loop_check,
          tolerance=Tolerance(0.10, "relative", "the oracle is the best of the grid's configurations at that M on the same "
                    "seeds, which favours the oracle (selection over noisy means), so the check is, if anything, "
                    "strict"),
          controls=(Control("no-compensation", "the synchronous tuning reused at every M (asynchrony ignored)", uncompensated),
           Control("mu-zero-step-kept", "only mu_L set to 0, the synchronous step kept (the grid's mu_L = 0 run at the "
                   "nearest effective step): dropping the momentum, not compensating it", mu_zero_step_kept)),
          figure="cnn_closed_loop", power=resampling(loop_check, lambda r, t: loop_check(r, t, n_resamples=0)),
          expect="result"),
    Claim(id="extension-step-rules-cnn", paper_ref="Section VI; later step rules", statement="Extension: on the CNN under simulated "
          "asynchrony, the best of the loop's controllers — the first-order momentum from the logged staleness with "
          "the step kept, scaled by the pure delay's bound, or scaled per update by the later literature's rules "
          "(delay-adaptive, staleness-aware, threshold) — reaches the last loss target within "
          f"{STEP_TOL:g}x of the per-M "
          "oracle at M = 4, 8, 16 (single runs, mean over seeds).", check=step_rules_check,
          tolerance=Tolerance(STEP_TOL, "ratio", "the target set for a controller with no per-M grid; the oracle is chosen on "
                    "the same seeds, which favours it"),
          controls=(Control("no-compensation", "the synchronous tuning reused in place of every controller",
                   all_uncompensated),
           Control("mu-zero-step-kept", "every controller replaced by mu_L = 0 with the synchronous step kept (the "
                   "grid's run at the nearest effective step): dropping the momentum, not compensating it",
                   lambda r: mu_zero_step_kept(r, every=True))),
          figure="cnn_closed_loop", power=resampling(step_rules_check), expect="result"),
)
