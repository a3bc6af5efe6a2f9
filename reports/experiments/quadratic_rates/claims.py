"""The experiment's claims: checks, controls, power."""
from __future__ import annotations

import math
import numpy as np
from reports.harness.store import Result
from reports.registry import Claim, Control, Tolerance, Verdict, with_summary
from theory import rates
from reports.experiments.quadratic_rates.config import C7_FROM, C7_RANGE, PAPER_FIG6, PAPER_FIG6_MU, PAPER_FIG7, PAPER_FIG7_TEXT_RATIO


def _fig6(result: Result, tol: Tolerance) -> Verdict:
    worst, rows, values = 0.0, [], {}
    for q, paper in PAPER_FIG6.items():
        rows_q = dict(zip(result.summary["fig6_mu_implicit"], result.summary["fig6"].get(float(q), [])))
        if any(mu not in rows_q for mu in PAPER_FIG6_MU):
            return Verdict(None, f"paper's Fig. 6 values +-{tol.value:g}", f"Q={q:g} not computed on the paper's mu_S grid")
        ours = [rows_q[mu][0] for mu in PAPER_FIG6_MU]
        worst = max(worst, max(abs(a - b) for a, b in zip(ours, paper)))
        values.update({f"Q={q:g},mu_S={mu:g}": v for mu, v in zip(PAPER_FIG6_MU, ours)})
        rows.append(f"Q={q:g}: " + ", ".join(f"{a:+.3f}" for a in ours))
    values["max_abs_deviation"] = worst
    return Verdict(worst <= tol.value, f"paper's Fig. 6 values +-{tol.value:g}",
                   f"max |ours - paper| = {worst:.3f}; " + "; ".join(rows), values)


def _first_order_rule(result: Result) -> Result:
    """Control evidence: mu_L = mu*(Q) - mu_S, the 'momenta add' prescription, as the optimum."""
    s = result.summary
    fig6 = {q: [[s["polyak"][q] - mu, b[1], b[2]] for mu, b in zip(s["fig6_mu_implicit"], rows)]
            for q, rows in s["fig6"].items()}
    return with_summary(result, fig6=fig6)


def _polyak(result: Result, tol: Tolerance) -> Verdict:
    s = result.summary
    devs = {q: abs(s["fig6"][q][0][0] - s["polyak"][q]) for q in s["polyak"]}
    return Verdict(max(devs.values()) <= tol.value, f"((sqrt Q - 1)/(sqrt Q + 1))^2 within {tol.value:g}",
                   "; ".join(f"Q={q}: ours {s['fig6'][q][0][0]:.4f}, Polyak {s['polyak'][q]:.4f}" for q in devs),
                   {f"Q={q},deviation": d for q, d in devs.items()})


def _negative(result: Result, tol: Tolerance) -> Verdict:
    texts, ok, values = [], True, {}
    mus = result.summary["fig6_mu_implicit"]
    step = float(np.diff(mus).max())
    for q in result.summary["polyak"]:
        first = next((mu for mu, b in zip(mus, result.summary["fig6"][q]) if b[0] < 0), None)
        star = result.summary["polyak"][q]
        ok &= first is not None and star < first <= star + tol.value * step + 1e-9
        values[f"Q={q},mu_star"], values[f"Q={q},first_negative_mu_S"] = star, first
        texts.append(f"Q={q}: mu*={star:.3f}, first mu_S with mu_L<0: {first}")
    return Verdict(ok, f"negative mu_L optimal from the first grid point above mu*(Q) (within {tol.value:g} grid "
                   "step)", "; ".join(texts), values)


def _rate_iteration(result: Result, tol: Tolerance) -> Verdict:
    rel = [abs(c["closed_form"] - c["iterated"]) / c["iterated"] for c in result.summary["rate_checks"]]
    return Verdict(max(rel) <= tol.value, f"relative difference <= {tol.value:g}", f"max relative difference "
                   f"{max(rel):.1e} over {len(rel)} random (mu_S, mu_L, alpha, rotated quadratic)",
                   {"max_relative_difference": max(rel)})


def _heavy_ball_equality(result: Result, tol: Tolerance) -> Verdict:
    """Theorem 7 with mu_L = 0: the best rate equals sqrt(mu_S) once mu_S >= mu*(Q), and is above it below."""
    s = result.summary
    q = s["heavy_ball_condition_number"]
    star = rates.polyak_momentum(q)
    mus, best = s["fig6_mu_implicit"], s["heavy_ball_best_rates"]
    gaps = [r - math.sqrt(mu) for mu, r in zip(mus, best)]
    above = [g for mu, g in zip(mus, gaps) if mu >= star]
    below = [g for mu, g in zip(mus, gaps) if mu < star]
    ok = bool(above) and bool(below) and max(abs(g) for g in above) <= tol.value and min(below) > tol.value
    return Verdict(ok, f"Q={q:g} (mu* = {star:.3f}): |best rate - sqrt(mu_S)| <= {tol.value:g} for mu_S >= mu*, "
                   f"best rate > sqrt(mu_S) + {tol.value:g} below", "; ".join(
                       f"mu_S={mu:g}: {r:.5f} (sqrt {math.sqrt(mu):.5f})" for mu, r in zip(mus, best)),
                   {"max_gap_above_mu_star": max(abs(g) for g in above) if above else None,
                    "min_gap_below_mu_star": min(below) if below else None})


def _fig7_ratios(result: Result):
    s = result.summary
    mu = np.array(s["fig7_mu_implicit"])
    tuned = np.array([b[2] for b in s["fig7"]["tuned"]])
    zero = np.array([b[2] for b in s["fig7"]["mu_L=0"]])
    return mu, (zero / tuned) ** s["fig7_steps"]


def _fig7_tuning_helps(result: Result, tol: Tolerance) -> Verdict:
    mu, ratio = _fig7_ratios(result)
    high = ratio[mu > 0.3]
    return Verdict(bool(np.all(high > tol.value)), f"tuned mu_L beats mu_L = 0 by a ratio > {tol.value:g} after 10 "
                   "steps for every mu_S > 0.3", f"gamma0^10 / gamma_tuned^10 in [{high.min():.3f}, {high.max():.3f}] "
                   "for mu_S > 0.3", {"min_ratio": float(high.min()), "max_ratio": float(high.max())})


def _fig7_finding(result: Result, tol: Tolerance) -> Verdict:
    mu, ratio = _fig7_ratios(result)
    high = ratio[mu > 0.3]
    return Verdict(bool(high.max() < tol.value), f"ratio below {tol.value:g}, clearly under the text's 'about "
                   f"{PAPER_FIG7_TEXT_RATIO}x'", f"ratio in [{high.min():.3f}, {high.max():.3f}] for mu_S > 0.3 after "
                   f"{result.summary['fig7_steps']} steps (text: about {PAPER_FIG7_TEXT_RATIO})",
                   {"min_ratio": float(high.min()), "max_ratio": float(high.max())})


def _c7_saturation(result: Result, tol: Tolerance) -> Verdict:
    """Section VI: once mu_S >= 0.6 the optimal mu_L lies in [-0.35, -0.2] (Q = 5 and 20)."""
    lo, hi = C7_RANGE
    s, values, rows, ok = result.summary, {}, [], True
    for q in (5.0, 20.0):
        pairs = [(mu, b[0]) for mu, b in zip(s["fig6_mu_implicit"], s["fig6"].get(q, [])) if mu >= C7_FROM - 1e-12]
        if not pairs:
            return Verdict(None, f"mu_L* in [{lo}, {hi}]", f"Q={q} not computed for mu_S >= {C7_FROM}")
        ok &= all(lo - tol.value <= v <= hi + tol.value for _, v in pairs)
        values.update({f"Q={float(q):g},mu_S={mu:g}": v for mu, v in pairs})
        rows.append(f"Q={float(q):g}: " + ", ".join(f"{v:+.3f}" for _, v in pairs))
    return Verdict(ok, f"mu_L* in [{lo}, {hi}] (+-{tol.value:g}) for every mu_S >= {C7_FROM} on the grid",
                   "; ".join(rows) + f" (mu_S = {C7_FROM}..0.9)", values)


def _fig7_deviations(result: Result):
    """Relative deviation ours/paper - 1 of gamma^10 per strategy, or None off the paper's mu_S grid."""
    s = result.summary
    mus = s["fig7_mu_implicit"]
    if len(mus) != 20 or not np.allclose(mus, np.linspace(0.0, 0.9, 20)):
        return None
    return {name: np.array([b[2] ** s["fig7_steps"] for b in s["fig7"][name]]) / np.array(paper) - 1
            for name, paper in PAPER_FIG7.items() if name in s["fig7"]}


def _fig7_paper(result: Result, tol: Tolerance) -> Verdict:
    """Fig. 7: all three curves within tol of the plotted values; on the jointly tuned curve a point where ours is
    lower counts as the paper's coarser (alpha, mu_L) grid (a finer search can only find a lower rate) and is listed
    (finding-fig7-coarse-grid); ours above the plotted value is never excused."""
    devs = _fig7_deviations(result)
    if devs is None or len(devs) < len(PAPER_FIG7):
        return Verdict(None, f"within {tol.value:g} relative of the paper's Fig. 7", "not computed on the paper's grid")
    mus = np.linspace(0.0, 0.9, 20)
    bad = [(n, mu, d) for n, dev in devs.items() for mu, d in zip(mus, dev)
           if abs(d) > tol.value and not (n == "tuned" and d < 0)]
    grid = [(mu, d) for mu, d in zip(mus, devs["tuned"]) if d < -tol.value]
    values = {f"{n},max_abs_relative": float(np.abs(d).max()) for n, d in devs.items()}
    values |= {"violations": len(bad), "tuned_points_below_paper": len(grid)}
    text = "; ".join(f"{n}: max |ours/paper - 1| {np.abs(d).max():.3f}" for n, d in devs.items())
    if grid:
        text += "; tuned curve below the plotted value (coarse grid) at mu_S = " + ", ".join(
            f"{mu:.3f} ({d:+.1%})" for mu, d in grid)
    if bad:
        text += "; outside: " + ", ".join(f"{n} at mu_S={mu:.3f} ({d:+.1%})" for n, mu, d in bad)
    return Verdict(not bad, f"gamma^10 within {tol.value:.0%} of the paper's value at each of the 20 points of every "
                   "curve (tuned curve: lower is the paper's grid)", text, values)


def _fig7_coarse_grid(result: Result, tol: Tolerance) -> Verdict:
    """Finding: the plotted jointly tuned curve lies above Theorem 7's optimum by more than tol somewhere, while the
    alpha-only curves agree: the gap is the paper's grid, not the model."""
    devs = _fig7_deviations(result)
    if devs is None or len(devs) < len(PAPER_FIG7):
        return Verdict(None, "", "not computed on the paper's grid")
    mus = np.linspace(0.0, 0.9, 20)
    gaps = [(mu, d) for mu, d in zip(mus, devs["tuned"]) if d < -tol.value]
    fixed_ok = all(np.abs(d).max() <= tol.value for n, d in devs.items() if n != "tuned")
    worst = int(np.argmin(devs["tuned"]))
    return Verdict(bool(gaps) and fixed_ok, f"a finding if the plotted tuned value exceeds the optimum by more than "
                   f"{tol.value:.0%} somewhere while the alpha-only curves agree within {tol.value:.0%}",
                   f"plotted tuned gamma^10 above the optimum by more than {tol.value:.0%} at {len(gaps)} of 20 points; "
                   f"largest at mu_S = {mus[worst]:.3f}: ours {PAPER_FIG7['tuned'][worst] * (1 + devs['tuned'][worst]):.5f}"
                   f" vs plotted {PAPER_FIG7['tuned'][worst]:.5f}; alpha-only curves within {tol.value:.0%}: {fixed_ok}",
                   {"points": len(gaps), "worst_mu_S": float(mus[worst]),
                    "worst_relative": float(devs["tuned"][worst]), "fixed_curves_agree": fixed_ok})


def _paper_search_exact(result: Result) -> Result:
    """Control evidence: the paper's plotted tuned values taken as exact optima."""
    s = result.summary
    tuned = [[b[0], b[1], p ** (1 / s["fig7_steps"])] for b, p in zip(s["fig7"]["tuned"], PAPER_FIG7["tuned"])]
    return with_summary(result, fig7={**s["fig7"], "tuned": tuned})


ADDITIVE = "momenta that add exactly: heavy ball with momentum mu_S + mu_L, the step tuned"


def _swap(**keys):
    """Control evidence: summary entries replaced by the wrong model's entries stored beside them."""
    return lambda r: with_summary(r, **{dst: r.summary[src] for dst, src in keys.items()})


CLAIMS = (
    Claim(id="fig6-optimal-explicit-momentum", paper_ref="Fig. 6", statement="The explicit momentum minimising the worst-case rate on "
          "quadratics with condition number Q = 5 and 20 falls with mu_S and turns negative; our grid search "
          "matches the paper's curve.", check=_fig6,
          tolerance=Tolerance(0.03, "absolute", "the paper's values are read off a plot from its own grid search; the optimum "
                    "sits on a flat ridge"),
          controls=(Control("first-order-rule", "mu_L = mu*(Q) - mu_S, the 'momenta add' prescription", _first_order_rule),),
          figure="fig6",
          paper=("Fig. 6: mu_L* at mu_S = 0, 0.1, ..., 0.9 — Q = 5: 0.149, 0.051, -0.062, -0.171, -0.187, -0.214, "
                 "-0.236, -0.258, -0.279, -0.290; Q = 20: 0.409, 0.306, 0.198, 0.106, 0.008, -0.176, -0.258, "
                 "-0.263, -0.296, -0.301")),
    Claim(id="fig6-polyak-at-zero", paper_ref="Fig. 6, mu_S = 0", statement="At mu_S = 0 the optimum is Polyak's ((sqrt Q-1)/(sqrt Q+1))^2.",
          check=_polyak, tolerance=Tolerance(2e-3, "absolute", "the grid search's final resolution is 2e-4 in mu_L"),
          controls=(Control("polyak-unsquared", "Polyak's formula without its square, (sqrt Q-1)/(sqrt Q+1)",
                   _swap(polyak="polyak_unsquared")),), figure="fig6",
          paper="Fig. 6: at mu_S = 0 the optimum is Polyak's ((sqrt(Q) - 1)/(sqrt(Q) + 1))^2 (0.146 at Q = 5)"),
    Claim(id="fig6-negative-beyond-mu-star", paper_ref="Fig. 6, Section VI", statement="Negative explicit momentum is optimal once mu_S "
          "exceeds roughly mu*(Q).", check=_negative,
          tolerance=Tolerance(1, "grid steps", "the paper's mu_S grid has step 0.1"),
          controls=(Control("never-negative", "the skeptic's rule: never go below zero, mu_L = max(optimum, 0)",
                   lambda r: with_summary(r, fig6={q: [[max(b[0], 0.0), b[1], b[2]] for b in rows]
                                                   for q, rows in r.summary["fig6"].items()})),), figure="fig6",
          paper="Fig. 6: negative mu_L is optimal once mu_S exceeds about mu*(Q)"),
    Claim(id="thm7-rate-closed-form", paper_ref="Theorem 7, eq. (12)", statement="gamma = max root modulus of (19)'s characteristic "
          "polynomial equals the decay rate of the expected iterate, obtained independently by iterating the "
          "store's expected update on randomly rotated quadratics.", check=_rate_iteration,
          tolerance=Tolerance(1e-3, "relative", "the fitted decay over the second half of 3,000 steps of an oscillating state "
                    "converges at O(1/steps)"),
          controls=(Control("additive-closed-form", "the closed form of the additive model (heavy ball with mu_S + mu_L)",
                   lambda r: with_summary(r, rate_checks=[{**c, "closed_form": c["closed_form_additive"]}
                                                          for c in r.summary["rate_checks"]])),)),
    Claim(id="thm7-heavy-ball-bound", paper_ref="Theorem 7, mu_L = 0", statement="With mu_L = 0 the best rate over step sizes equals "
          "sqrt(mu_S) once mu_S >= mu*(Q), and is strictly above it for smaller mu_S (Q = 10).", check=_heavy_ball_equality, tolerance=Tolerance(1e-6, "absolute", "the step search (Brent, xatol 1e-10 in log alpha) "
                                          "resolves the rate to about 1e-8"),
          controls=(Control("twice-the-condition-number", "the same rates on a quadratic with Q = 20: the threshold must move "
                   "to mu*(20)", _swap(heavy_ball_best_rates="heavy_ball_best_rates_twice_q")),)),
    Claim(id="fig7-tuning-helps", paper_ref="Fig. 7", statement="With Q = 10, tuning mu_L (negative allowed) jointly with alpha beats "
          "mu_L = 0 after 10 steps for every mu_S > 0.3.", check=_fig7_tuning_helps,
          tolerance=Tolerance(1.05, "ratio", "a 5 % margin separates a real gain from grid-search noise"),
          controls=(Control("non-negative-only", "tuning restricted to mu_L >= 0 (negative momentum not allowed)",
                   lambda r: with_summary(r, fig7={**r.summary["fig7"], "tuned": r.summary["fig7_non_negative"]})),),
          figure="fig7",
          paper="Fig. 7: tuning mu_L beats mu_L = 0 and mu_L = 0.5 for every mu_S (gamma^10, Q = 10)"),
    Claim(id="finding-fig7-ratio", paper_ref="Section VI text vs Fig. 7 (docs/paper.md note)", statement="Finding: the text's 'about 1.5x' "
          "gain of negative momentum over mu_L = 0 at mu_S > 0.3 is larger than Fig. 7's own curves give.",
          check=_fig7_finding, tolerance=Tolerance(1.4, "ratio", "a gap of 0.1 below 1.5 is well beyond grid-search noise"),
          controls=(Control("twenty-steps", "the text read at a horizon of 20 steps instead of Fig. 7's 10",
                   lambda r: with_summary(r, fig7_steps=2 * r.summary["fig7_steps"])),), figure="fig7",
          paper="Section VI text: negative momentum gives about 1.5x over mu_L = 0 for mu_S > 0.3"),
    Claim(id="c7-saturation", paper_ref="Section VI, Fig. 6", statement="Once mu_S >= 0.6 the optimal explicit momentum saturates in "
          "[-0.35, -0.2], at Q = 5 and 20.", check=_c7_saturation,
          tolerance=Tolerance(0.0, "absolute", "the interval is the paper's own statement; the optimum is resolved to 1e-6"),
          controls=(Control("first-order-rule", "mu_L = mu*(Q) - mu_S, the 'momenta add' prescription", _first_order_rule),),
          figure="fig6",
          paper="Fig. 6: the optimum saturates near -0.3 (-0.290 at Q = 5, -0.301 at Q = 20 for mu_S = 0.9)"),
    Claim(id="fig7-paper-values", paper_ref="Fig. 7 (docs/paper.md section 3)", statement="Our Theorem 7 curves for the three strategies (alpha "
          "and mu_L tuned; mu_L = 0; mu_L = 0.5; Q = 10) reproduce the values the paper plots.", check=_fig7_paper, tolerance=Tolerance(0.10, "relative", "10 % in gamma^10 is 1 % in gamma: the precision of values read "
                                 "from a log-scale plot of a grid search"),
          controls=(Control("momenta-add-exactly", ADDITIVE, lambda r: with_summary(r, fig7=r.summary["fig7_additive"])),),
          figure="fig7",
          paper=("Fig. 7: gamma^10 at 20 points of mu_S in [0, 0.9]; tuned 0.001634 ... 0.4663, mu_L = 0: 0.137 "
                 "... 0.5904, mu_L = 0.5: 0.03125 ... 0.6854")),
    Claim(id="finding-fig7-coarse-grid", paper_ref="Fig. 7 (docs/paper.md section 3)", statement="Finding: the paper's jointly tuned curve lies "
          "above Theorem 7's optimum by more than 10 % at some points (e.g. at mu_S = 0 the optimum is Polyak's "
          "rate, 0.00144 after 10 steps, plotted as 0.00163), while its alpha-only curves agree: its (alpha, mu_L) "
          "grid was coarse.", check=_fig7_coarse_grid,
          tolerance=Tolerance(0.10, "relative", "the same 10 % as fig7-paper-values"),
          controls=(Control("paper-search-exact", "the plotted tuned values taken as exact optima", _paper_search_exact),),
          figure="fig7"),
)
