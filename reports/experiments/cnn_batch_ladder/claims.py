"""The batch ladder's claims (pre-registered: committed with the design before its first evidence chunk).

Expected direction (from the pilot, seed 900, not a decision seed; config.SIZING): Fig. 4's ratio grows with the
batch (1.5 at 16, at least 2.5 and 1.9, censored, at 64 and 128) and passes its bar at 128; Fig. 8's gain is small
and noisy (1.6, 1.0, 1.3: no direction expected); the regime prediction is untested. Each claim is decided on the decision seeds and again on
fresh replication seeds (both must pass), at the last target, M = 16, per seed (paired across rungs: a seed's runs
share their start at every batch) with Student t intervals over seeds.
"""
from __future__ import annotations

import copy
import math

import numpy as np

from cnn_experiments import paired
from cnn_experiments.analysis import Evidence
from reports.harness.store import Result
from reports.registry import Claim, Control, Tolerance, Verdict

AT = 16
SETS = ("decision", "replication")
FIG4_BAR = math.sqrt(16 / 6)   # halfway (log scale) between no effect and Fig. 4's 16 / 6 at 16 groups (batch 128)
FIG8_BAR = math.sqrt(6 / 3)    # halfway between no gain and Fig. 8's 6 / 3
PAPER = {"fixed_0.9_over_non_negative": 16 / 6, "non_negative_over_any_sign": 6 / 3}   # Figs. 4 and 8 at 16 groups
RATIOS = {"fixed_0.9_over_non_negative": ("fixed_0.9", "non_negative"),
          "non_negative_over_any_sign": ("non_negative", "any_sign")}


def rung(result: Result, batch: int, which: str) -> Evidence:
    """One rung's sweep: times (targets, M, mu_L, alpha, seed), caps (M, seed)."""
    s = result.summary
    return Evidence(result.arrays[f"times_B{batch}_{which}"], tuple(s["workers"]), tuple(s["mu_grid"]),
                    result.arrays[f"caps_B{batch}_{which}"])


def log_ratio(ev: Evidence, name: str) -> np.ndarray:
    """Per seed log(T(top) / T(bottom)) at M = 16, last target, each strategy at the mu_L and alpha the set chose
    (a censored top is a lower bound)."""
    top, bottom = RATIOS[name]
    j = list(ev.workers).index(AT)
    a, _ = paired.strategy_times(ev, top)
    b, _ = paired.strategy_times(ev, bottom)
    return np.log(a[-1, j] / b[-1, j])


def geometric(x) -> tuple[float, float, float]:
    mean, low, high = paired.t_interval(x)
    return math.exp(mean), math.exp(low), math.exp(high)


def _sets(result: Result) -> list[str]:
    return [w for w in SETS if result.summary["seeds"].get(w)]


def _grows(name: str, bar: float):
    def check(result: Result, tol: Tolerance) -> Verdict:
        batches = result.summary["batches"]
        expected = (f"the M = {AT} ratio's slope in log2(batch) > 0 (95% t interval over seeds) and at batch "
                    f"{max(batches)} a ratio >= {bar:.3f} with its interval above 1, both seed sets")
        rows, values, oks = [], {}, []
        for which in _sets(result):
            per = np.array([log_ratio(rung(result, b, which), name) for b in batches])   # (batch, seed)
            slope = paired.slope_per_doubling(batches, per)
            s_mean, s_low, s_high = paired.t_interval(slope)
            top, low, high = geometric(per[-1])
            ok = s_low > 0 and top >= bar and low > 1
            oks.append(ok)
            by = ", ".join(f"{b}: {geometric(per[i])[0]:.2f}" for i, b in enumerate(batches))
            rows.append(f"{which} seeds (n = {per.shape[1]}): {'pass' if ok else 'fail'}: ratio by batch {by}; slope "
                        f"per doubling of the batch {s_mean:+.3f} [{s_low:+.3f}, {s_high:+.3f}] (log); at "
                        f"{max(batches)}: {top:.2f} [{low:.2f}, {high:.2f}]")
            values |= {f"{which},slope": s_mean, f"{which},slope_low": s_low, f"{which},slope_high": s_high,
                       f"{which},top": top, f"{which},top_low": low, f"{which},passed": ok} | \
                {f"{which},B={b}": geometric(per[i])[0] for i, b in enumerate(batches)}
        values |= {"bar": bar, "paper": PAPER[name]}   # for the report's reading (not deciding)
        return Verdict(bool(oks) and all(oks), expected, "; ".join(rows) + ". " + regime_text(result), values)
    return check


def prediction_check(result: Result, tol: Tolerance) -> Verdict:
    """Every rung's measured Figs. 4 and 8 ratios (decision seeds) within tol.value of the recurrence's prediction
    from the rung's measured regime."""
    expected = (f"at every batch, the measured ratios of Figs. 4 and 8 at M = {AT} within x{tol.value:g} of the "
                "recurrence's prediction from the measured sharpness and tuned synchronous step")
    ok, rows, values = True, [], {}
    for b in result.summary["batches"]:
        predicted = result.summary["rungs"][b]["regime"]["predicted"]
        for name in RATIOS:
            measured = geometric(log_ratio(rung(result, b, "decision"), name))[0]
            off = max(measured / predicted[name], predicted[name] / measured)
            ok &= off <= tol.value
            rows.append(f"B={b} {name}: measured {measured:.2f}, predicted {predicted[name]:.2f} (x{off:.2f})")
            values |= {f"B={b},{name},measured": measured, f"B={b},{name},predicted": predicted[name]}
    return Verdict(bool(ok), expected, "; ".join(rows) + ". " + regime_text(result), values)


def regime_text(result: Result) -> str:
    parts = []
    for b in result.summary["batches"]:
        r = result.summary["rungs"][b]["regime"]
        parts.append(f"batch {b}: tuned synchronous mu_L {r['mu']:+.3f}, alpha {r['lr']:g} (eta* {r['eta_star']:.3g}), "
                     f"sharpness {r['sharpness'][-1]:.1f}, eta* x sharpness {r['eta_star_sharpness']:.2f} (the "
                     f"stability cap of mu_L = 0.9 at M = {AT}: {r['stable_step_0.9']:.3f}), B_simple "
                     f"{r['b_simple'][-1]:.0f}")
    return "Regime measured at the last target: " + "; ".join(parts)


def batch_blind(result: Result) -> Result:
    """Control evidence: the effect does not depend on the batch (every rung given the smallest batch's runs)."""
    new = copy.copy(result)
    low = min(result.summary["batches"])
    new.arrays = {k: np.array(result.arrays[k.split("_B")[0] + f"_B{low}_" + k.split("_", 2)[-1]])
                  for k in result.arrays}
    return new


def regime_blind(result: Result) -> Result:
    """Control evidence: the paper's ratios (Figs. 4 and 8 at 16 groups) predicted at every batch."""
    new = copy.copy(result)
    new.summary = copy.deepcopy(result.summary)
    for r in new.summary["rungs"].values():
        r["regime"]["predicted"] = dict(PAPER)
    return new


WHY_BAR = ("the bar sits halfway, on the log scale, between no effect and the paper's value at 16 groups; the slope's "
           "t interval over paired seeds must exclude 0; decided on the decision seeds and again on fresh "
           "replication seeds (set before the ladder's first chunk)")
BLIND = Control("batch-blind", "the effect does not depend on the batch: every rung given the batch-16 runs",
                batch_blind)

CLAIMS = (
    Claim(id="cnn-ladder-fixed-penalty-grows", paper_ref="Fig. 4; Section VI", statement="Fig. 4 across batch sizes: at M = 16 the penalty of "
          "keeping mu_L = 0.9 over the tuned mu_L >= 0 grows with the batch (16, 64, 128, the same network and data) "
          f"and at the paper's batch 128 reaches the bar {FIG4_BAR:.3f} (halfway to the paper's 16 / 6).", check=_grows("fixed_0.9_over_non_negative", FIG4_BAR), tolerance=Tolerance(FIG4_BAR, "ratio", WHY_BAR), controls=(BLIND,),
          figure="cnn_batch_ladder", expect="result"),
    Claim(id="cnn-ladder-negative-gain-grows", paper_ref="Fig. 8", statement="Fig. 8 across batch sizes: at M = 16 the gain of allowing "
          "negative mu_L over the tuned mu_L >= 0 grows with the batch and at batch 128 reaches the bar "
          f"{FIG8_BAR:.3f} (halfway to the paper's 6 / 3).", check=_grows("non_negative_over_any_sign", FIG8_BAR),
          tolerance=Tolerance(FIG8_BAR, "ratio", WHY_BAR), controls=(BLIND,), figure="cnn_batch_ladder", expect="result"),
    Claim(id="extension-regime-predicts-penalties", paper_ref="Theorem 6, eq. (19)", statement="Extension: the expected recurrence (19) on "
          "the measured sharpest direction, with the step capped at the tuned synchronous one, predicts the measured "
          "ratios of Figs. 4 and 8 at M = 16 at every batch of the ladder within a factor 1.5.", check=prediction_check,
          tolerance=Tolerance(1.5, "ratio", "set before the ladder's evidence: a linear model of a nonlinear network with two "
                    "measured inputs and no fit; 1.5 lies below 1.78, the factor by which the paper's own ratio "
                    "misses the committed batch-16 measurement (1.50 against 16 / 6), so that the regime-blind "
                    "alternative can fail"),
          controls=(Control("regime-blind", "the paper's ratios (16 / 6 and 6 / 3) predicted at every batch", regime_blind),),
          figure="cnn_batch_ladder", expect="result"),
)
