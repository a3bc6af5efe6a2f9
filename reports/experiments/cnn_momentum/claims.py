"""The paper's CNN claims (Figs. 3, 4, 5, 8 and the momentum probe), each decided on the decision seeds and again on
fresh replication seeds: a claim passes only when both sets pass (confirmed). Thresholds sit halfway, on the log
scale, between no effect (or a skeptic's model) and the paper's effect, so that the number of seeds sized for the
paper's effect has power to pass; the paper's numbers are shown beside ours.
"""
from __future__ import annotations

from cnn_experiments import loop_checks as L
from cnn_experiments import momentum_views as E
from cnn_experiments.momentum_checks import (AT, FIG4_FIXED, FIG8_NEGATIVE, GAP_BAR, SMALL, WARM, Z_PROBE, falls_on,
                                             fixed_on, magnitude_on, negative_on, probe_on, regime, small_on, warm_on,
                                             warm_targets_apart, warm_trace)
from reports.replicated import on_every_set
from reports.harness.store import Result
from reports.registry import Claim, Control, Tolerance, Verdict


def _both(on, ev_of, expected: str, skip=None, size=lambda ev: f"n = {ev.n_seeds}"):
    return on_every_set(on, ev_of, expected, E.sets_present, regime, skip, size)


def _need(m: int):
    return lambda evl: None if m in _ev(evl).workers else f"no M = {m} runs in this evidence: not run"


def _ev(evl):
    """The Evidence of a check's input (alone, or with its step grid)."""
    return evl[0] if isinstance(evl, tuple) else evl


def _with_steps(result: Result, which: str):
    """A seed set's main sweep with its step grid (the matched-effective-step statistics need it)."""
    return E.grid(result, which), tuple(result.summary["lr_grid"])


def _size(evl) -> str:
    return f"n = {_ev(evl).n_seeds}"


def warm_check(result: Result, tol: Tolerance) -> Verdict:
    expected = f"penalty (tuned momentum, after the warm-up) <= {tol.value:g} at every M <= 8, both seed sets"
    if (why := warm_targets_apart(result)) is not None:
        return Verdict(None, expected, why)
    verdict = _both(warm_on, E.warm, expected)(result, tol)
    trace, values = warm_trace(result)
    return Verdict(verdict.passed, verdict.expected, verdict.measured + trace, verdict.values | values)


def probe_check(result: Result, tol: Tolerance) -> Verdict:
    return _both(probe_on, E.probes, f"mu(M) within {tol.value:g} SE of 1 - 1/M at every M, increasing in M, both "
                 "seed sets", size=lambda probes: f"{probes[0]['n_replicas']} runs from one start")(result, tol)


def _no_implicit(result: Result) -> Result:
    new = E.with_arrays(result, lambda k, a: a)
    for which, probes in new.summary["probes"].items():
        base = min(probes, key=lambda p: p["n_workers"])
        new.summary["probes"][which] = [{**base, "n_workers": p["n_workers"]} for p in probes]
    return new


WHY_T = ("a 95% Student t interval over seeds (the paired design: the seed is the unit) must exclude no effect, "
         "and the point estimate must pass the bar; decided on the decision seeds and again on fresh replication "
         "seeds")
REVERSED = Control("M-labels-reversed", "the same runs with the M labels reversed", E.reversed_labels)
SYNC = Control("synchronous-schedule", "asynchrony changes nothing: every M given the M = 1 runs",
               E.synchronous_schedule)
SYNC_AT_16 = Control("synchronous-at-16", "no asynchrony at 16: the M = 16 runs replaced by the M = 1 runs",
                     E.synchronous_at_largest)
INDEPENDENT = Control("momentum-independent-of-M", "asynchrony only slows training: at every M the synchronous "
                      "landscape over (mu_L, alpha), scaled to that M's best time", E.momentum_independent_of_m)
LINEAR = Control("linear-slowdown", "asynchrony wastes the parallelism: the synchronous runs at M times the updates",
                 E.linear_slowdown)
MOMENTA_ADD = Control("momenta-add", "explicit and implicit momentum add: the synchronous landscape shifted down in "
                      "mu_L by 1 - 1/M", E.momenta_add)
COLD = Control("cold-start", "the warm-up does not matter: the cold-start runs in place of the warm-started ones",
               E.cold_as_warm)


def fig3(power) -> Claim:
    """Fig. 3, decided at matched effective step (the vertex beside it)."""
    return (Claim(id="cnn-best-momentum-falls", paper_ref="Fig. 3", statement="Training cifar10_quick under simulated asynchrony, the explicit "
          "momentum with the best statistical efficiency falls as the number of workers grows: compared at the "
          "same effective step alpha / (1 - mu_L), high momentum (0.9) costs more against none as M grows (the "
          "slope of log T(0.9) / T(0) in log2 M over paired seeds is positive). Decided on this matched "
          "comparison, which does not depend on which steps the grid holds; the best momentum's vertex is shown "
          "beside it.", check=_both(falls_on, lambda r, w: (E.grid(r, w), tuple(r.summary["lr_grid"])), "slope of log T(0.9) / "
                "T(0) at matched effective step per doubling of M, 95% interval above 0, both seed sets",
                size=lambda evl: f"n = {evl[0].n_seeds}"),
          tolerance=Tolerance(0.0, "absolute", "the slope's t interval must lie above 0 (the paper reports no number on "
                    "this scale; the mechanism, not a magnitude, is checked). Set after the batch-16 evidence "
                    "existed, when the vertex was found to depend on the grid's phase; " + WHY_T),
          controls=(REVERSED, INDEPENDENT), figure="cnn_best_momentum", power=power("cnn-best-momentum-falls"),
          expect="result",
                  paper=("Fig. 3: best momentum 0.7, 0.6, 0.2, 0.1 at 1, 2, 4, 8 groups (CIFAR-10); Fig. 8: chosen 0.675, "
                         "0.45, 0.225, 0.0, -0.675 at 1..16 groups")))


def _loop(on, expected: str):
    return _both(on, L.view, expected, skip=lambda v: None if v else "no closed-loop runs in this evidence: not run")


DROPPED = Control("mu-zero-step-kept", "only mu_L set to 0, the synchronous step kept (the grid's run on the same "
                  "seed): dropping the momentum, not compensating it", L.mu_zero_step_kept)


def loop_claims(power) -> tuple:
    """Beyond the paper: the closed loop and the later step rules, on the grid's seeds and regime (section VI)."""
    return (
        Claim(id="extension-closed-loop-cnn", paper_ref="Section VI", statement="Extension: training the CNN under "
              "simulated asynchrony (the committed regime and seeds), the closed loop — tuned once at M = 1 (the "
              "grid's best synchronous mu_L and alpha), then mu_L = mu_sync - mu_S from the staleness the queue logs "
              "(the first-order rule: no curvature range is known for a CNN), reset every 100 updates, the step kept "
              f"— reaches each loss target within 10 % of the per-M oracle (the best of the whole grid at that M) at "
              f"M = 4, 8, 16; at M = 16 mu_L = 0.9 (step tuned) is at least {L.FIXED_SLOWER:g}x as slow, and only "
              f"dropping the momentum (mu_L = 0, the step kept) at least {L.APART:.2f}x as slow: compensating, not "
              "dropping, is what works.", check=_loop(L.closed_loop_on, "loop / oracle <= 1.10 at every M and target; at "
                    f"the largest M mu_L = 0.9 / loop >= {L.FIXED_SLOWER:g} and mu_L = 0 (step kept) / loop >= "
                    f"{L.APART:.2f}, both seed sets"),
              tolerance=Tolerance(0.10, "relative", "the oracle is the best of the grid's 56 configurations at that M "
                        "on the same seeds, which favours it (selection over noisy means); bars fixed before this "
                        "regime's loop runs existed"),
              controls=(Control("no-compensation", "the synchronous setting reused at every M (asynchrony ignored)",
                                L.uncompensated), DROPPED),
              figure="cnn_closed_loop", power=power("extension-closed-loop-cnn"), expect="result",
              own_chunks="loop"),
        Claim(id="extension-step-rules-cnn", paper_ref="Section VI; later step rules", statement="Extension: on the CNN "
              "under simulated asynchrony (the committed regime and seeds), the best of the loop's controllers — the "
              "first-order momentum with the step kept, scaled by the pure delay's bound, or scaled per update by "
              "the later literature's rules (delay-adaptive, staleness-aware, threshold) — reaches the last loss "
              "target within 1.2x of the per-M oracle at M = 4, 8, 16, and at least "
              f"{L.APART:.2f}x as fast as only dropping the momentum (mu_L = 0, the step kept) at M = 16.",
              check=_loop(L.step_rules_on, f"the best controller within 1.2x of the oracle at every M, and mu_L = 0 "
                          f"(step kept) / it >= {L.APART:.2f} at the largest M, both seed sets"),
              tolerance=Tolerance(1.2, "ratio", "the target set for a controller with no per-M grid; the oracle is "
                        "chosen on the same seeds, which favours it"),
              controls=(Control("no-compensation", "the synchronous setting reused in place of every controller",
                                lambda r: L.uncompensated(r, every=True)),
                        Control("mu-zero-step-kept", "every controller replaced by mu_L = 0 with the synchronous step "
                                "kept: dropping the momentum, not compensating it",
                                lambda r: L.mu_zero_step_kept(r, every=True))),
              figure="cnn_closed_loop", power=power("extension-step-rules-cnn"), expect="result",
              own_chunks="loop"),
    )


def claims(power) -> tuple:
    return loop_claims(power) + (
        fig3(power),
        Claim(id="cnn-fixed-momentum-penalty", paper_ref="Figs. 4 and 8", statement=f"At M = {AT}, keeping momentum at 0.9 costs more "
              "iterations than momentum tuned over non-negative values: at least halfway (log scale) to the paper's "
              f"16 / 6 (a ratio of {FIG4_FIXED:.2f}).", check=_both(fixed_on, E.grid, f"updates(0.9) / updates(tuned >= 0) at M = {AT} >= {FIG4_FIXED:.2f}, interval "
                    "above 1, both seed sets", skip=_need(AT)),
              tolerance=Tolerance(FIG4_FIXED, "ratio", WHY_T + "; a censored fixed-0.9 run makes the ratio a lower bound"),
              controls=(SYNC_AT_16, INDEPENDENT), figure="cnn_penalty", power=power("cnn-fixed-momentum-penalty"), expect="result",
              paper="Figs. 4/8 at 16 groups: penalty 16 with mu fixed at 0.9 vs 6 tuned >= 0 (ratio 2.7)"),
        Claim(id="cnn-negative-momentum", paper_ref="Fig. 8", statement=f"At M = {AT} the best momentum is negative, and tuning over negative "
              f"values too lowers the penalty: at least halfway (log scale) to the paper's 6 / 3 "
              f"({FIG8_NEGATIVE:.2f}). The best momentum is read at matched effective step alpha / (1 - mu_L) "
              "(every momentum at the step where mu_L = 0 is best, between grid steps by interpolation), so that it "
              "does not rest on which steps the grid holds; the vertex over tuned steps is shown beside it.", check=_both(negative_on, _with_steps, f"best mu_L at M = {AT} at matched effective step below 0 (interval) "
                    f"and updates(tuned >= 0) / updates(any sign) >= {FIG8_NEGATIVE:.2f}, interval above 1, both "
                    "seed sets", skip=_need(AT), size=_size),
              tolerance=Tolerance(FIG8_NEGATIVE, "ratio", "the best momentum is read at matched effective step, a "
                        "statistic chosen after the batch-16 evidence existed (the tuned-step vertex was found to "
                        "depend on the grid's phase); " + WHY_T), controls=(SYNC_AT_16, INDEPENDENT), figure="cnn_penalty",
              power=power("cnn-negative-momentum"), expect="result",
              paper="Fig. 8 at 16 groups: chosen mu = -0.675; penalty 3 vs 6 tuned >= 0"),
        Claim(id="cnn-tuned-penalty-small", paper_ref="Fig. 4", statement="With momentum tuned at every M, the statistical penalty stays small "
              "up to M = 8: nearer the paper's 1, 2, 2 (M = 2, 4, 8) than a linear slowdown's 2, 4, 8 (below their "
              "geometric means " + ", ".join(f"{v:.2f}" for v in SMALL.values()) + ").", check=_both(small_on, E.grid, "tuned penalty below " + ", ".join(f"{v:.2f} at M = {m}" for m, v in
                                                                           SMALL.items()) + ", both seed sets"),
              tolerance=Tolerance(SMALL[8], "ratio", "the bar at each M is the geometric mean of the paper's penalty and M (a "
                        "linear slowdown); the largest (M = 8) is shown. " + WHY_T.split(';')[0]),
              controls=(LINEAR,), figure="cnn_penalty", power=power("cnn-tuned-penalty-small"), expect="result",
              paper="Fig. 4: penalty with momentum tuned (any sign) 1, 1, 2, 2, 3 at 1, 2, 4, 8, 16 groups"),
        Claim(id="cnn-measured-momentum-grows", paper_ref="Theorem 5 on a CNN", statement="The total momentum measured from CNN training "
              "trajectories (noise-corrected two-term fit on the mean of runs from one initial point) is 1 - 1/M: 0 "
              "at M = 1, and growing with M; measured twice, from two initial points.", check=probe_check,
              tolerance=Tolerance(Z_PROBE, "standard errors", "jackknife SE over the runs; the fit is corrected for the noise "
                        "of the mean of R runs (errors in variables), calibrated on the queue where the truth is "
                        "known (tests)"),
              controls=(Control("no-implicit-momentum", "asynchrony adds no momentum: every probe is the M = 1 probe",
                       _no_implicit),), figure="cnn_best_momentum", power=power("cnn-measured-momentum-grows"), expect="result",
              paper="Theorem 5: total momentum 1 - 1/M (0, 0.75, 0.9375 at M = 1, 4, 16)"),
        Claim(id="cnn-momentum-magnitude", paper_ref="Fig. 3 vs Theorem 5 (finding-cnn-momentum-magnitude)", statement="In our CNN too the "
              "best explicit momentum at the largest M does not fall as far as mu*(1) - (1 - 1/M), the 'momenta add' "
              f"prediction: it sits at least one grid step ({GAP_BAR}) above it. Both best momenta are read at matched "
              "effective step (as in cnn-negative-momentum); the vertex over tuned steps is shown beside it.", check=_both(magnitude_on, _with_steps, "mu*(M_max) - (mu*(1) - (1 - 1/M_max)) at matched effective step >= "
                    f"{GAP_BAR}, interval above 0, both seed sets", size=_size),
              tolerance=Tolerance(GAP_BAR, "absolute", "one step of Fig. 8's momentum grid, the gap read at matched effective "
                        "step, a statistic chosen after the batch-16 evidence existed (the tuned-step vertex was "
                        "found to depend on the grid's phase); " + WHY_T),
              controls=(MOMENTA_ADD,), figure="cnn_landscape", power=power("cnn-momentum-magnitude"), expect="result",
              meaning="a fault of the paper's own Fig. 3 numbers: a fail here favours the theory ('momenta add') "
                      "over them",
              paper="Fig. 3: best momentum falls by 0.6 from 1 to 8 groups, less than 1 - 1/M = 0.875"),
        Claim(id="cnn-warm-start", paper_ref="Fig. 5", statement=f"After one epoch of synchronous warm-up, asynchronous training with tuned "
              f"momentum costs (almost) no statistical efficiency: penalty <= {WARM} up to M = 8 (the paper: 1.00, "
              "0.92, 0.99, 0.93 for 1, 2, 4, 8 groups).", check=warm_check,
              tolerance=Tolerance(WARM, "ratio", "the paper's statement for Fig. 5; the point decides on each seed set, the "
                        "interval is reported; the warm targets must be 3 evaluation SEs apart"),
              controls=(COLD,), figure="cnn_warm", power=power("cnn-warm-start"), expect="result",
              paper="Fig. 5 (ImageNet, warm start): penalty 1.00, 0.92, 0.99, 0.93 at 1, 2, 4, 8 groups"),
    )
