"""The statistics that decide the paper's CNN claims (Figs. 3, 4, 5, 8 and the momentum probe), one seed set at a
time: each `*_on` returns (passed, or None where the evidence cannot decide; the text of what was measured; the values
the claim records). Bars sit halfway, on the log scale, between no effect (or a skeptic's model) and the paper's
effect; `tol.value` is the claim's bar. Pure (numpy)."""
from __future__ import annotations

import math

import numpy as np

from cnn_experiments import claim_stats as S
from cnn_experiments import momentum_views as E
from cnn_experiments.momentum_views import Result
from theory import predictions


AT = 16                       # Figs. 4 and 8 make their claims at 16 groups
Z_PROBE = 3.0
FIG4_FIXED = math.sqrt(16 / 6)    # halfway (log scale) between no penalty and the paper's 16 / 6 at M = 16
FIG8_NEGATIVE = math.sqrt(6 / 3)  # halfway between none and the paper's 6 / 3
SMALL = {m: math.sqrt(S.PAPER_FIG4["any_sign"][m] * m) for m in (2, 4, 8)}  # between the paper and M (linear)
WARM = 1.2
GAP_BAR = 0.225                # one step of Fig. 8's momentum grid


def regime(result: Result) -> str:
    """What this evidence is, and what differs from the paper (stated on every CNN card)."""
    s = result.summary
    sc, per_epoch = s.get("scale", {}), s.get("scale", {}).get("n_train", 1) / max(s.get("scale", {}).get(
        "batch_size", 1), 1)
    side = 28 // sc.get("pool", 1) if sc else "?"
    at = ", ".join(f"{u} updates ({u / per_epoch:.2f} epoch)" for u in s.get("target_updates", []))
    return (f"Regime: Fashion-MNIST {side} x {side}, cifar10_quick at width {sc.get('width')}, batch "
            f"{sc.get('batch_size')}, {sc.get('n_train')} images; targets = the best synchronous mean loss at {at}; "
            f"alpha on half-decades {min(s['lr_grid']):g}..{max(s['lr_grid']):g} and mu_L {min(s['mu_grid']):+.3f}.."
            f"{max(s['mu_grid']):+.3f} at every M; runs stop at {s.get('stop_factor')} x the seed's best time. "
            "Differs from the paper: the data set and input size (CIFAR-10 32 x 32 there), the width (1), the batch "
            "(128), the training length, and asynchrony simulated by the exponential queue rather than Omnivore's "
            "compute groups." + measured_regime(s.get("regime"), max(s.get("workers", [16])))) if "lr_grid" in s else ""


def measured_regime(r: dict | None, top: int) -> str:
    """The regime measured on the committed evidence (regime chunks) and what recurrence (19) predicts from it."""
    if not r:
        return ""
    p = r["predicted"]
    return (f" Measured regime (the best synchronous mu_L {r['mu']:+.3f}, alpha {r['lr']:g}, eta* = alpha / (1 - mu_L) "
            f"{r['eta_star']:.3g}): sharpness " + ", ".join(f"{v:.1f}" for v in r["sharpness"]) + " and gradient noise "
            "scale B_simple " + ", ".join(f"{v:.0f}" for v in r["b_simple"]) + f" at the targets; eta* x sharpness "
            f"{r['eta_star_sharpness']:.2f}; recurrence (19) predicts at M = {top} Fig. 4's ratio "
            f"{p['fixed_0.9_over_non_negative']:.2f} and Fig. 8's {p['non_negative_over_any_sign']:.2f}.")


def falls_on(evl, tol):
    """Decided on the matched-effective-step contrast of mu_L = 0.9 against 0 (its slope in log2 M, interval above
    0); the vertex's fall is shown beside it, with its dependence on the grid's phase."""
    ev, lr_grid = evl
    _, (mean, low, high) = S.matched_slope(ev, lr_grid, 0.9)
    _, (mean2, low2, high2) = S.matched_slope(ev, lr_grid, 0.675)
    if not np.isfinite(low):
        return None, "no matched step for mu_L = 0.9 at some M (the grid lacks alpha / 10)", {}
    ok = low > tol.value
    best = S.best_momentum(ev)
    phases = S.vertex_fall_by_phase(ev)
    text = (f"log T(0.9) / T(0) at matched effective step: slope per doubling of M {mean:+.3f} [{low:+.3f}, "
            f"{high:+.3f}] (mu_L 0.675 against 0: {mean2:+.3f} [{low2:+.3f}, {high2:+.3f}]); beside it, not "
            "deciding: the best mu_L (vertex, mean over seeds) " + ", ".join(f"M={m}: {v[0]:+.2f}" for m, v in
                                                                              best.items())
            + "; its fall over the range of M " + ", ".join(f"{k} {v:+.2f}" for k, v in phases.items())
            + " (it depends on the grid's phase)")
    return ok, text, {"slope": mean, "slope_low": low, "slope_high": high, "slope_0.675": mean2} | {
        f"vertex_fall,{k}": v for k, v in phases.items()} | {f"M={m}": v[0] for m, v in best.items()}


def fixed_on(ev, tol):
    ratio, low, high = S.geometric(S.log_ratio(ev, "fixed_0.9", "non_negative", AT))
    cens = S.censored_share(ev, "fixed_0.9", AT)
    reach = S.geometric(S.log_ratio_at_cap(ev, "non_negative", AT))[0]
    if ratio < tol.value and reach < tol.value:
        return None, (f"mu_L = 0.9 is censored at the chunks' stop, where its ratio to tuned mu_L >= 0 can reach "
                      f"only {reach:.2f} (< {tol.value:.2f}): the budget cannot decide it"), {}
    ok = low > 1 and ratio >= tol.value
    return ok, (f"updates(mu_L = 0.9) / updates(tuned mu_L >= 0) at M = {AT}: {ratio:.2f} [{low:.2f}, {high:.2f}]"
                f"{f' ({cens:.0%} of seeds censored: a lower bound)' if cens else ''}"), \
        {"ratio": ratio, "ratio_low": low, "ratio_high": high, "censored": cens}


def _phases(values: dict) -> str:
    return ", ".join(f"{k} {v:+.2f}" for k, v in values.items())


def negative_on(evl, tol):
    """The best momentum at M = 16 decided at matched effective step; the tuned-step vertex shown beside it."""
    ev, lr_grid = evl
    mean, low, high = S.matched_best(ev, lr_grid)[AT]
    ratio, r_low, r_high = S.geometric(S.log_ratio(ev, "non_negative", "any_sign", AT))
    ok = high < 0 and r_low > 1 and ratio >= tol.value
    matched = S.by_phase(ev, lambda sub, lr: S.matched_best(sub, lr)[AT][0], lr_grid)
    vertex = S.by_phase(ev, lambda sub: S.best_momentum(sub)[AT][0])
    return ok, (f"best mu_L at M = {AT} at matched effective step: {mean:+.2f} [{low:+.2f}, {high:+.2f}] (by the "
                f"grid's decade phase: {_phases(matched)}); beside it, not deciding: the vertex over tuned steps "
                f"{vertex['all steps']:+.2f} (by phase: {_phases(vertex)}), the grid choice "
                f"{S.chosen(ev, 'any_sign', AT):+.3f}; updates(tuned mu_L >= 0) / updates(any sign): {ratio:.2f} "
                f"[{r_low:.2f}, {r_high:.2f}]"), \
        {"best": mean, "best_low": low, "best_high": high, "ratio": ratio, "ratio_low": r_low, "ratio_high": r_high,
         "vertex": vertex["all steps"]} | {f"best,{k}": v for k, v in matched.items()}


def small_on(ev, tol):
    ok, parts, values = True, [], {}
    for m, bar in SMALL.items():
        if m not in ev.workers:
            continue
        pen, low, high = S.geometric(S.penalty(ev, m))
        ok &= pen <= bar
        parts.append(f"M={m}: {pen:.2f} [{low:.2f}, {high:.2f}] (bar {bar:.2f}, paper "
                     f"{S.PAPER_FIG4['any_sign'][m]})")
        values |= {f"M={m}": pen, f"M={m},low": low, f"M={m},high": high}
    return ok, "tuned (any sign) penalty " + ", ".join(parts), values


def magnitude_on(evl, tol):
    """The gap decided on the best momenta at matched effective step; the tuned-step vertex's gap beside it."""
    ev, lr_grid = evl
    mean, low, high = S.paired.t_interval(S.matched_gap(ev, lr_grid))
    ok = low > 0 and mean >= tol.value
    matched = S.by_phase(ev, lambda sub, lr: float(np.mean(S.matched_gap(sub, lr))), lr_grid)
    vertex = S.by_phase(ev, lambda sub: float(np.mean(S.gap(sub))))
    top = max(ev.workers)
    return ok, (f"at matched effective step mu*({top}) - (mu*(1) - (1 - 1/{top})) = {mean:+.2f} [{low:+.2f}, "
                f"{high:+.2f}] (by the grid's decade phase: {_phases(matched)}); beside it, not deciding: the same "
                f"gap on the vertex over tuned steps {vertex['all steps']:+.2f} (by phase: {_phases(vertex)})"), \
        {"gap": mean, "gap_low": low, "gap_high": high, "vertex_gap": vertex["all steps"]} | {
            f"gap,{k}": v for k, v in matched.items()}


def warm_on(ev, tol):
    ok, parts, values = True, [], {}
    for m in ev.workers:
        if m == 1:
            continue
        pen, low, high = S.geometric(S.penalty(ev, m))
        ok &= pen <= tol.value
        parts.append(f"M={m}: {pen:.2f} [{low:.2f}, {high:.2f}]")
        values |= {f"M={m}": pen, f"M={m},low": low, f"M={m},high": high}
    return ok, "penalty after the warm-up (tuned momentum) " + ", ".join(parts), values


def warm_targets_apart(result: Result) -> str | None:
    """The warm start's loss and the warm targets must fall by 3 run-to-run SEs at each step (a target on a plateau
    measures noise, not training)."""
    w = result.summary["warm"]
    values = [w["start"]] + list(w["targets"])
    ses = [w["start_se"]] + list(w["target_se"])
    if any(v is None for v in ses):
        return "the warm targets' run-to-run SE needs two target seeds or more: not run"
    for (a, sa), (b, sb) in zip(zip(values, ses), zip(values[1:], ses[1:])):
        if not a - b >= 3 * math.hypot(sa, sb):
            return (f"the warm losses {', '.join(f'{v:.4f}' for v in values)} (start, then targets) do not fall by 3 "
                    f"run-to-run SEs ({', '.join(f'{v:.4f}' for v in ses)}) at each step: not run (the design's "
                    "requirement)")
    return None


def warm_trace(result: Result) -> tuple[str, dict]:
    """Fig. 5 across targets, early to late (shown beside the decision, not deciding): the tuned penalty per M on
    the decision seeds at each trace target."""
    ev = E.warm_trace(result, "decision")
    if ev is None:
        return "", {}
    at, losses = result.summary["warm"]["trace_updates"], result.summary["warm"]["trace_targets"]
    values = {f"trace,{u},M={m}": S.geometric(S.penalty(ev, m, t=k))[0] for k, u in enumerate(at)
              for m in ev.workers if m > 1}
    rows = "; ".join(f"{u} updates (loss {loss:.3f}): " + ", ".join(f"M={m} {values[f'trace,{u},M={m}']:.2f}" for m in ev.workers
                                                  if m > 1) for u, loss in zip(at, losses))
    return (f" Across targets (decision seeds; shown, not deciding), the penalty after the warm-up at the best "
            f"M = 1 continuation's loss {rows}."), values


def probe_on(probes: list[dict], tol):
    z = [(p["mu"] - predictions.implicit_momentum(p["n_workers"])) / p["mu_se"] for p in probes]
    grows = all(b["mu"] > a["mu"] for a, b in zip(probes, probes[1:]))
    ok = grows and all(abs(v) <= tol.value for v in z)
    text = ", ".join(f"M={p['n_workers']}: {p['mu']:.3f} +- {p['mu_se']:.3f} vs 1 - 1/M = "
                     f"{predictions.implicit_momentum(p['n_workers']):.3f} (z {v:+.1f})" for p, v in zip(probes, z))
    return ok, text, {f"M={p['n_workers']}": p["mu"] for p in probes} | \
        {f"M={p['n_workers']},se": p["mu_se"] for p in probes}
