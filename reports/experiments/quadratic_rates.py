"""Theorem 7 on quadratics: Fig. 6 (optimal mu_L vs mu_S), Fig. 7 (three tuning strategies, against the values the
paper plots), the mu_L = 0 equality gamma = sqrt(mu_S), and the closed-form rate checked against iterating the
store's expected update on a rotated quadratic. Controls: the first-order rule mu* - mu_S, tuning restricted to
mu_L >= 0, momenta that add exactly, Polyak's formula without its square. Cost: about 40 s on one CPU core.
The limit of asynchrony and the first-order prescription live in quadratic_limit.py.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from reports.harness.provenance import provenance
from reports.harness.store import Result
from reports.registry import Claim, Control, Experiment, Tolerance, Verdict, with_summary
from theory import quadratic

# docs/paper.md section 3, Fig. 6: optimal explicit momentum read from the paper's plot data, mu_S = 0.0 .. 0.9.
PAPER_FIG6 = {5.0: (0.149, 0.051, -0.062, -0.171, -0.187, -0.214, -0.236, -0.258, -0.279, -0.290),
              20.0: (0.409, 0.306, 0.198, 0.106, 0.008, -0.176, -0.258, -0.263, -0.296, -0.301)}
PAPER_FIG6_MU = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
PAPER_FIG7_TEXT_RATIO = 1.5  # Section VI text: negative momentum gives "about 1.5x" over mu_L = 0 at mu_S > 0.3
# docs/paper.md section 3, Fig. 7: gamma^10 read from the paper's plot data at mu_S = linspace(0, 0.9, 20), Q = 10.
PAPER_FIG7 = {
    "tuned": (0.001634, 0.003771, 0.005212, 0.005725, 0.005219, 0.003894, 0.001769, 0.003261, 0.006039, 0.01083,
              0.01838, 0.02957, 0.04574, 0.06822, 0.0989, 0.1396, 0.1928, 0.2611, 0.3475, 0.4663),
    "mu_L=0": (0.137, 0.1081, 0.0794, 0.05277, 0.03159, 0.01265, 0.001854, 0.004009, 0.007813, 0.01408, 0.02384,
               0.0384, 0.05932, 0.08853, 0.1283, 0.181, 0.25, 0.3384, 0.4504, 0.5904),
    "mu_L=0.5": (0.03125, 0.04591, 0.06426, 0.08622, 0.1111, 0.1345, 0.164, 0.1929, 0.2168, 0.2492, 0.2825, 0.3168,
                 0.3515, 0.3875, 0.4248, 0.4645, 0.5089, 0.5575, 0.5971, 0.6854)}
C7_RANGE = (-0.35, -0.2)     # Section VI: the optimal mu_L saturates in [-0.35, -0.2] once mu_S >= 0.6
C7_FROM = 0.6


@dataclass(frozen=True)
class Config:
    fig6_condition_numbers: tuple = (5.0, 20.0)
    fig6_mu_implicit: tuple = PAPER_FIG6_MU
    fig7_condition_number: float = 10.0
    fig7_points: int = 20
    fig7_fixed_mu_explicit: tuple = (0.0, 0.5)
    fig7_steps: int = 10
    n_eigenvalues: int = 17
    rate_check_cases: int = 8
    rate_check_steps: int = 3000
    rate_check_dim: int = 5
    seed: int = 0

    def validate(self) -> None:
        if any(q < 1 for q in self.fig6_condition_numbers) or self.fig7_condition_number < 1:
            raise ValueError("condition numbers must be >= 1")
        if not 2 <= self.fig7_points <= 1000 or self.n_eigenvalues < 2:
            raise ValueError("fig7_points must be in 2..1000 and n_eigenvalues >= 2")




def iterate_store_update(mu_implicit: float, mu_explicit: float, lr: float, hessian: np.ndarray,
                         n_steps: int) -> float:
    """Rate of the expected iterate by iterating w itself, independently of the closed form's z, c, d:
    D_{t+1} = (mu_L + mu_S) D_t - mu_L mu_S D_{t-1} - alpha (1 - mu_S) H e_t on e = w - w*, the state
    (e_t, D_t, D_{t-1}) renormalised every step; the rate is the mean log growth over the second half."""
    d = hessian.shape[0]
    e, step, prev = np.ones(d), np.zeros(d), np.zeros(d)
    logs = []
    for _ in range(n_steps):
        new = (mu_explicit + mu_implicit) * step - mu_explicit * mu_implicit * prev - lr * (1 - mu_implicit) * (hessian @ e)
        e, step, prev = e + new, new, step
        norm = math.sqrt(e @ e + step @ step + prev @ prev)
        logs.append(math.log(norm))
        e, step, prev = e / norm, step / norm, prev / norm
    return float(math.exp(np.mean(logs[n_steps // 2:])))


def _rate_checks(config: Config) -> list[dict]:
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 7]))
    out = []
    for _ in range(config.rate_check_cases):
        mu_s, mu_l = rng.uniform(0, 0.9), rng.uniform(-0.5, 0.9)
        q = rng.uniform(2, 50)
        lam = np.concatenate([[1.0, q], rng.uniform(1.0, q, config.rate_check_dim - 2)])
        basis, _ = np.linalg.qr(rng.standard_normal((config.rate_check_dim, config.rate_check_dim)))
        hessian = basis @ np.diag(lam) @ basis.T
        lr = rng.uniform(0.05, 1.0) / q / (1 - mu_s)
        out.append({"mu_implicit": mu_s, "mu_explicit": mu_l, "lr": lr, "condition_number": q,
                    "closed_form": quadratic.rate(mu_s, mu_l, lr, lam),
                    # control: heavy ball with momentum mu_S + mu_L and the same effective step (no mu_S mu_L term)
                    "closed_form_additive": quadratic.rate(0.0, mu_s + mu_l, lr * (1 - mu_s), lam),
                    "iterated": iterate_store_update(mu_s, mu_l, lr, hessian, config.rate_check_steps)})
    return out


def run(config: Config) -> Result:
    start = time.time()
    best = lambda mu_s, q, **kw: quadratic.best_explicit_momentum(mu_s, q, n_eigenvalues=config.n_eigenvalues, **kw)  # noqa: E731
    fig6 = {str(q): [best(mu, q) for mu in config.fig6_mu_implicit] for q in config.fig6_condition_numbers}
    mu7 = np.linspace(0.0, 0.9, config.fig7_points)
    q7 = config.fig7_condition_number
    fig7 = {"tuned": [best(mu, q7) for mu in mu7]}
    for fixed in config.fig7_fixed_mu_explicit:
        fig7[f"mu_L={fixed:g}"] = [best(mu, q7, mu_explicit=fixed) for mu in mu7]
    fig7_non_negative = [best(mu, q7, mu_range=(0.0, 0.95)) for mu in mu7]
    # control: if the momenta added exactly (heavy ball with mu_S + mu_L), with the same effective step
    fig7_additive = {"tuned": [quadratic.best_additive_momentum(mu, q7, config.n_eigenvalues) for mu in mu7]}
    for fixed in config.fig7_fixed_mu_explicit:
        fig7_additive[f"mu_L={fixed:g}"] = [best(0.0, q7, mu_explicit=min(fixed + mu, 0.999)) for mu in mu7]
    heavy = {str(q): [best(mu, q, mu_explicit=0.0)[2] for mu in config.fig6_mu_implicit] for q in (q7, 2 * q7)}
    summary = {
        "fig6": fig6, "fig6_mu_implicit": list(config.fig6_mu_implicit), "fig7_mu_implicit": mu7.tolist(),
        "fig7": fig7, "fig7_non_negative": fig7_non_negative, "fig7_additive": fig7_additive,
        "fig7_steps": config.fig7_steps, "fig6_additive": {str(q): [quadratic.best_additive_momentum(mu, q, config.n_eigenvalues)
                                                                   for mu in config.fig6_mu_implicit]
                                                          for q in config.fig6_condition_numbers},
        "polyak": {str(q): quadratic.polyak_momentum(q) for q in config.fig6_condition_numbers},
        "polyak_unsquared": {str(q): (math.sqrt(q) - 1) / (math.sqrt(q) + 1) for q in config.fig6_condition_numbers},
        "heavy_ball_condition_number": q7,
        "heavy_ball_best_rates": heavy[str(q7)], "heavy_ball_best_rates_twice_q": heavy[str(2 * q7)],
        "rate_checks": _rate_checks(config),
    }
    log = [{"figure": "fig6", "Q": q, "mu_implicit": mu, "mu_explicit": b[0], "lr": b[1], "rate": b[2]}
           for q, rows in fig6.items() for mu, b in zip(config.fig6_mu_implicit, rows)]
    return Result(summary=summary, log=log, provenance=provenance({"rate_checks": config.seed}, time.time() - start))


# ------------------------------------------------------------------ checks ----------------------------------

def _fig6(result: Result, tol: Tolerance) -> Verdict:
    worst, rows, values = 0.0, [], {}
    for q, paper in PAPER_FIG6.items():
        rows_q = dict(zip(result.summary["fig6_mu_implicit"], result.summary["fig6"].get(str(q), [])))
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
    star = quadratic.polyak_momentum(q)
    mus, rates = s["fig6_mu_implicit"], s["heavy_ball_best_rates"]
    gaps = [r - math.sqrt(mu) for mu, r in zip(mus, rates)]
    above = [g for mu, g in zip(mus, gaps) if mu >= star]
    below = [g for mu, g in zip(mus, gaps) if mu < star]
    ok = bool(above) and bool(below) and max(abs(g) for g in above) <= tol.value and min(below) > tol.value
    return Verdict(ok, f"Q={q:g} (mu* = {star:.3f}): |best rate - sqrt(mu_S)| <= {tol.value:g} for mu_S >= mu*, "
                   f"best rate > sqrt(mu_S) + {tol.value:g} below", "; ".join(
                       f"mu_S={mu:g}: {r:.5f} (sqrt {math.sqrt(mu):.5f})" for mu, r in zip(mus, rates)),
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
    for q in ("5.0", "20.0"):
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
    Claim("fig6-optimal-explicit-momentum", "Fig. 6", "The explicit momentum minimising the worst-case rate on "
          "quadratics with condition number Q = 5 and 20 falls with mu_S and turns negative; our grid search "
          "matches the paper's curve.", "quadratic", _fig6,
          Tolerance(0.03, "absolute", "the paper's values are read off a plot from its own grid search; the optimum "
                    "sits on a flat ridge"),
          (Control("first-order-rule", "mu_L = mu*(Q) - mu_S, the 'momenta add' prescription", _first_order_rule),),
          figure="fig6"),
    Claim("fig6-polyak-at-zero", "Fig. 6, mu_S = 0", "At mu_S = 0 the optimum is Polyak's ((sqrt Q-1)/(sqrt Q+1))^2.",
          "quadratic", _polyak, Tolerance(2e-3, "absolute", "the grid search's final resolution is 2e-4 in mu_L"),
          (Control("polyak-unsquared", "Polyak's formula without its square, (sqrt Q-1)/(sqrt Q+1)",
                   _swap(polyak="polyak_unsquared")),), figure="fig6"),
    Claim("fig6-negative-beyond-mu-star", "Fig. 6, Section VI", "Negative explicit momentum is optimal once mu_S "
          "exceeds roughly mu*(Q).", "quadratic", _negative,
          Tolerance(1, "grid steps", "the paper's mu_S grid has step 0.1"),
          (Control("never-negative", "the skeptic's rule: never go below zero, mu_L = max(optimum, 0)",
                   lambda r: with_summary(r, fig6={q: [[max(b[0], 0.0), b[1], b[2]] for b in rows]
                                                   for q, rows in r.summary["fig6"].items()})),), figure="fig6"),
    Claim("thm7-rate-closed-form", "Theorem 7, eq. (12)", "gamma = max root modulus of (19)'s characteristic "
          "polynomial equals the decay rate of the expected iterate, obtained independently by iterating the "
          "store's expected update on randomly rotated quadratics.", "quadratic", _rate_iteration,
          Tolerance(1e-3, "relative", "the fitted decay over the second half of 3,000 steps of an oscillating state "
                    "converges at O(1/steps)"),
          (Control("additive-closed-form", "the closed form of the additive model (heavy ball with mu_S + mu_L)",
                   lambda r: with_summary(r, rate_checks=[{**c, "closed_form": c["closed_form_additive"]}
                                                          for c in r.summary["rate_checks"]])),)),
    Claim("thm7-heavy-ball-bound", "Theorem 7, mu_L = 0", "With mu_L = 0 the best rate over step sizes equals "
          "sqrt(mu_S) once mu_S >= mu*(Q), and is strictly above it for smaller mu_S (Q = 10).", "quadratic",
          _heavy_ball_equality, Tolerance(1e-6, "absolute", "the step search (Brent, xatol 1e-10 in log alpha) "
                                          "resolves the rate to about 1e-8"),
          (Control("twice-the-condition-number", "the same rates on a quadratic with Q = 20: the threshold must move "
                   "to mu*(20)", _swap(heavy_ball_best_rates="heavy_ball_best_rates_twice_q")),)),
    Claim("fig7-tuning-helps", "Fig. 7", "With Q = 10, tuning mu_L (negative allowed) jointly with alpha beats "
          "mu_L = 0 after 10 steps for every mu_S > 0.3.", "quadratic", _fig7_tuning_helps,
          Tolerance(1.05, "ratio", "a 5 % margin separates a real gain from grid-search noise"),
          (Control("non-negative-only", "tuning restricted to mu_L >= 0 (negative momentum not allowed)",
                   lambda r: with_summary(r, fig7={**r.summary["fig7"], "tuned": r.summary["fig7_non_negative"]})),),
          figure="fig7"),
    Claim("finding-fig7-ratio", "Section VI text vs Fig. 7 (docs/paper.md note)", "Finding: the text's 'about 1.5x' "
          "gain of negative momentum over mu_L = 0 at mu_S > 0.3 is larger than Fig. 7's own curves give.",
          "finding", _fig7_finding, Tolerance(1.4, "ratio", "a gap of 0.1 below 1.5 is well beyond grid-search noise"),
          (Control("twenty-steps", "the text read at a horizon of 20 steps instead of Fig. 7's 10",
                   lambda r: with_summary(r, fig7_steps=2 * r.summary["fig7_steps"])),), figure="fig7"),
    Claim("c7-saturation", "Section VI, Fig. 6", "Once mu_S >= 0.6 the optimal explicit momentum saturates in "
          "[-0.35, -0.2], at Q = 5 and 20.", "quadratic", _c7_saturation,
          Tolerance(0.0, "absolute", "the interval is the paper's own statement; the optimum is resolved to 1e-6"),
          (Control("first-order-rule", "mu_L = mu*(Q) - mu_S, the 'momenta add' prescription", _first_order_rule),),
          figure="fig6"),
    Claim("fig7-paper-values", "Fig. 7 (docs/paper.md section 3)", "Our Theorem 7 curves for the three strategies (alpha "
          "and mu_L tuned; mu_L = 0; mu_L = 0.5; Q = 10) reproduce the values the paper plots.", "quadratic",
          _fig7_paper, Tolerance(0.10, "relative", "10 % in gamma^10 is 1 % in gamma: the precision of values read "
                                 "from a log-scale plot of a grid search"),
          (Control("momenta-add-exactly", ADDITIVE, lambda r: with_summary(r, fig7=r.summary["fig7_additive"])),),
          figure="fig7"),
    Claim("finding-fig7-coarse-grid", "Fig. 7 (docs/paper.md section 3)", "Finding: the paper's jointly tuned curve lies "
          "above Theorem 7's optimum by more than 10 % at some points (e.g. at mu_S = 0 the optimum is Polyak's "
          "rate, 0.00144 after 10 steps, plotted as 0.00163), while its alpha-only curves agree: its (alpha, mu_L) "
          "grid was coarse.", "finding", _fig7_coarse_grid,
          Tolerance(0.10, "relative", "the same 10 % as fig7-paper-values"),
          (Control("paper-search-exact", "the plotted tuned values taken as exact optima", _paper_search_exact),),
          figure="fig7"),
)

def figures(result: Result) -> dict:
    import matplotlib.pyplot as plt
    s = result.summary
    out = {}
    fig, ax = plt.subplots(figsize=(6, 4))
    mus = s["fig6_mu_implicit"]
    for q, paper in PAPER_FIG6.items():
        line, = ax.plot(mus, [b[0] for b in s["fig6"][str(q)]], label=f"ours, Q={q:g}")
        ax.plot(PAPER_FIG6_MU, paper, "o", color=line.get_color(), mfc="none",
                label=f"paper Fig. 6, Q={q:g}")
    ax.axhline(0, color="gray", lw=0.5)
    ax.set(xlabel=r"implicit momentum $\mu_S$", ylabel=r"optimal explicit momentum $\mu_L$",
           title="Fig. 6: optimal explicit vs implicit momentum")
    ax.legend(fontsize=8)
    out["fig6"] = fig
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, rows in s["fig7"].items():
        line, = ax.semilogy(s["fig7_mu_implicit"], [b[2] ** s["fig7_steps"] for b in rows], marker=".",
                            label=name if name != "tuned" else r"$\alpha$, $\mu_L$ tuned")
        if name in PAPER_FIG7:
            ax.semilogy(np.linspace(0.0, 0.9, 20), PAPER_FIG7[name], "o", mfc="none", ms=5, color=line.get_color(),
                        label=f"paper Fig. 7 ({name}), read from the figure")
    ax.set(xlabel=r"implicit momentum $\mu_S$", ylabel=r"$\gamma^{10}$ (distance after 10 steps)",
           title="Fig. 7: three strategies, Q = 10")
    ax.legend(fontsize=8)
    out["fig7"] = fig
    return out


EXPERIMENT = Experiment(
    name="quadratic_rates", kind="quadratic", version=3, config=Config, profiles={"quick": Config(), "full": Config()},
    smoke=Config(fig6_mu_implicit=(0.0, 0.5), fig7_points=4, n_eigenvalues=5,
                 rate_check_cases=2, rate_check_steps=300),
    run=run, figures=figures, claims=CLAIMS, uses_model=False)
