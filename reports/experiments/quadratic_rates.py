"""Theorem 7 on quadratics: Fig. 6 (optimal mu_L vs mu_S), Fig. 7 (three tuning strategies), the limit of
asynchrony M_0, and the closed-form rate checked against iterating (19). Cost: about 40 s on one CPU core.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from reports.registry import Claim, Verdict
from sim.provenance import provenance
from sim.store import Result
from theory import quadratic

KIND, NAME = "quadratic", "quadratic_rates"
VERSION = 1  # bump when the stored output of this experiment changes

# SPEC.md section 3, Fig. 6: optimal explicit momentum read from the paper's plot data, mu_S = 0.0 .. 0.9.
PAPER_FIG6 = {5.0: (0.149, 0.051, -0.062, -0.171, -0.187, -0.214, -0.236, -0.258, -0.279, -0.290),
              20.0: (0.409, 0.306, 0.198, 0.106, 0.008, -0.176, -0.258, -0.263, -0.296, -0.301)}
PAPER_FIG6_MU = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
PAPER_FIG7_TEXT_RATIO = 1.5  # Section VI text: negative momentum gives "about 1.5x" over mu_L = 0 at mu_S > 0.3


@dataclass(frozen=True)
class Config:
    fig6_condition_numbers: tuple = (5.0, 20.0)
    fig6_mu_implicit: tuple = PAPER_FIG6_MU
    fig7_condition_number: float = 10.0
    fig7_points: int = 20
    fig7_fixed_mu_explicit: tuple = (0.0, 0.5)
    fig7_steps: int = 10
    limit_condition_number: float = 100.0
    limit_max_workers: int = 16
    n_eigenvalues: int = 17
    rate_check_cases: int = 8
    rate_check_steps: int = 3000
    seed: int = 0

    def validate(self) -> None:
        if any(q < 1 for q in self.fig6_condition_numbers) or self.fig7_condition_number < 1:
            raise ValueError("condition numbers must be >= 1")
        if self.fig7_points < 2 or self.limit_max_workers < 2 or self.n_eigenvalues < 2:
            raise ValueError("fig7_points, limit_max_workers and n_eigenvalues must be >= 2")


PROFILES = {"quick": Config(), "full": Config()}


def _rate_checks(config: Config) -> list[dict]:
    rng = np.random.default_rng(config.seed)
    out = []
    for _ in range(config.rate_check_cases):
        mu_s, mu_l = rng.uniform(0, 0.9), rng.uniform(-0.5, 0.9)
        q = rng.uniform(2, 50)
        lam = quadratic.spread_eigenvalues(q, 5)
        lr = rng.uniform(0.05, 1.0) / q / (1 - mu_s)
        out.append({"mu_implicit": mu_s, "mu_explicit": mu_l, "lr": lr, "condition_number": q,
                    "closed_form": quadratic.rate(mu_s, mu_l, lr, lam),
                    "iterated": quadratic.rate_by_iteration(mu_s, mu_l, lr, lam, config.rate_check_steps)})
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
    workers = np.arange(1, config.limit_max_workers + 1)
    q_lim = config.limit_condition_number
    limit = {"tuned": [best(1 - 1 / m, q_lim) for m in workers],
             "non_negative": [best(1 - 1 / m, q_lim, mu_range=(0.0, 0.95)) for m in workers]}
    mu_star = quadratic.polyak_momentum(q_lim)
    heavy = [best(mu, q7, mu_explicit=0.0)[2] for mu in config.fig6_mu_implicit]
    summary = {
        "fig6": fig6, "fig6_mu_implicit": list(config.fig6_mu_implicit), "fig7_mu_implicit": mu7.tolist(),
        "fig7": fig7, "fig7_steps": config.fig7_steps, "limit_condition_number": q_lim,
        "polyak": {str(q): quadratic.polyak_momentum(q) for q in config.fig6_condition_numbers},
        "limit": limit, "limit_workers": workers.tolist(), "limit_mu_star": mu_star,
        "limit_m0": math.ceil(1 / (1 - mu_star)), "heavy_ball_best_rates": heavy,
        "rate_checks": _rate_checks(config),
    }
    log = [{"figure": "fig6", "Q": q, "mu_implicit": mu, "mu_explicit": b[0], "lr": b[1], "rate": b[2]}
           for q, rows in fig6.items() for mu, b in zip(config.fig6_mu_implicit, rows)]
    return Result(summary=summary, log=log, provenance=provenance({"rate_checks": config.seed}, time.time() - start))


# ------------------------------------------------------------------ checks ----------------------------------

def _fig6(result: Result) -> Verdict:
    worst, rows = 0.0, []
    paper_mus = PAPER_FIG6_MU
    for q, paper in PAPER_FIG6.items():
        rows_q = dict(zip(result.summary["fig6_mu_implicit"], result.summary["fig6"].get(str(q), [])))
        if any(mu not in rows_q for mu in paper_mus):
            return Verdict(False, "paper's Fig. 6 values +-0.03", f"Q={q:g} not computed on the paper's mu_S grid")
        ours = [rows_q[mu][0] for mu in paper_mus]
        dev = [abs(a - b) for a, b in zip(ours, paper)]
        worst = max(worst, max(dev))
        rows.append(f"Q={q:g}: " + ", ".join(f"{a:+.3f}" for a in ours))
    return Verdict(worst <= 0.03, "paper's Fig. 6 values +-0.03", f"max |ours - paper| = {worst:.3f}; " + "; ".join(rows))


def _polyak(result: Result) -> Verdict:
    devs = {q: abs(result.summary["fig6"][q][0][0] - result.summary["polyak"][q]) for q in result.summary["polyak"]}
    return Verdict(max(devs.values()) <= 2e-3, "((sqrt Q - 1)/(sqrt Q + 1))^2 within 2e-3",
                   "; ".join(f"Q={q}: ours {result.summary['fig6'][q][0][0]:.4f}, Polyak {result.summary['polyak'][q]:.4f}"
                             for q in devs))


def _negative(result: Result) -> Verdict:
    texts, ok = [], True
    mus = result.summary["fig6_mu_implicit"]
    for q in result.summary["polyak"]:
        first = next((mu for mu, b in zip(mus, result.summary["fig6"][q]) if b[0] < 0), None)
        star = result.summary["polyak"][q]
        ok &= first is not None and star < first <= star + 0.1 + 1e-9
        texts.append(f"Q={q}: mu*={star:.3f}, first mu_S with mu_L<0: {first}")
    return Verdict(ok, "negative mu_L optimal from the first grid point above mu*(Q)", "; ".join(texts))


def _rate_iteration(result: Result) -> Verdict:
    rel = [abs(c["closed_form"] - c["iterated"]) / c["closed_form"] for c in result.summary["rate_checks"]]
    return Verdict(max(rel) <= 1e-3, "relative difference <= 1e-3", f"max relative difference {max(rel):.1e} over "
                   f"{len(rel)} random (mu_S, mu_L, alpha, Q)")


def _heavy_bound(result: Result) -> Verdict:
    mus = result.summary["fig6_mu_implicit"]
    gaps = [r - math.sqrt(mu) for mu, r in zip(mus, result.summary["heavy_ball_best_rates"])]
    return Verdict(min(gaps) >= -1e-9, "best rate with mu_L = 0 >= sqrt(mu_S)",
                   f"min(best rate - sqrt(mu_S)) = {min(gaps):.2e} over mu_S in {mus[0]}..{mus[-1]}")


def _fig7_ratios(result: Result) -> np.ndarray:
    s = result.summary
    mu = np.array(s["fig7_mu_implicit"])
    tuned = np.array([b[2] for b in s["fig7"]["tuned"]])
    zero = np.array([b[2] for b in s["fig7"]["mu_L=0"]])
    return mu, (zero / tuned) ** s["fig7_steps"]


def _fig7_tuning_helps(result: Result) -> Verdict:
    mu, ratio = _fig7_ratios(result)
    high = ratio[mu > 0.3]
    return Verdict(bool(np.all(high > 1.05)), "tuned mu_L beats mu_L = 0 by > 5 % after 10 steps for every mu_S > 0.3",
                   f"gamma0^10 / gamma_tuned^10 in [{high.min():.3f}, {high.max():.3f}] for mu_S > 0.3")


def _fig7_finding(result: Result) -> Verdict:
    mu, ratio = _fig7_ratios(result)
    high = ratio[mu > 0.3]
    return Verdict(bool(high.max() < PAPER_FIG7_TEXT_RATIO - 0.1), "ratio clearly below the text's 'about 1.5x'",
                   f"ratio in [{high.min():.3f}, {high.max():.3f}] for mu_S > 0.3 (text: about {PAPER_FIG7_TEXT_RATIO})")


def _limit(result: Result) -> Verdict:
    s = result.summary
    m0, rates = s["limit_m0"], [b[2] for b in s["limit"]["tuned"]]
    beyond = rates[m0 - 1:]
    increasing = all(b > a for a, b in zip(beyond, beyond[1:]))
    worse = all(r > rates[0] for r in rates[m0:])
    listing = ", ".join(f"M={m}: {r:.3f}" for m, r in zip(s["limit_workers"], rates))
    return Verdict(increasing and worse, f"M_0 = ceil(1/(1-mu*)) = {m0}; best rate increasing in M for M >= M_0 and worse "
                   "than sequential beyond it", f"mu* = {s['limit_mu_star']:.3f}; best rate (mu_L tuned): {listing}")


CLAIMS = (
    Claim("fig6-optimal-explicit-momentum", "Fig. 6", "The explicit momentum minimising the worst-case rate on "
          "quadratics with condition number Q = 5 and 20 falls with mu_S and turns negative; our grid search "
          "matches the paper's curve.", "quadratic", _fig6, "+-0.03 at each mu_S",
          "the paper's values are read off a plot from its own grid search; the optimum sits on a flat ridge",
          figure="fig6"),
    Claim("fig6-polyak-at-zero", "Fig. 6, mu_S = 0", "At mu_S = 0 the optimum is Polyak's ((sqrt Q-1)/(sqrt Q+1))^2.",
          "quadratic", _polyak, "2e-3", "the grid search's final resolution is 2e-4 in mu_L", figure="fig6"),
    Claim("fig6-negative-beyond-mu-star", "Fig. 6, Section VI", "Negative explicit momentum is optimal once mu_S "
          "exceeds roughly mu*(Q).", "quadratic", _negative, "first negative within one grid step (0.1) above mu*",
          "the mu_S grid has step 0.1", figure="fig6"),
    Claim("thm7-rate-closed-form", "Theorem 7, eq. (12)", "gamma = max root modulus predicts the decay of "
          "iterating (19) on a diagonal quadratic.", "quadratic", _rate_iteration, "relative 1e-3",
          "the fitted decay over 1500 steps of an oscillating state converges at O(1/steps)"),
    Claim("thm7-heavy-ball-bound", "Theorem 7, mu_L = 0", "With mu_L = 0 no step size gives a rate below sqrt(mu_S).",
          "quadratic", _heavy_bound, "1e-9", "floating-point round-off of the root moduli"),
    Claim("fig7-tuning-helps", "Fig. 7", "With Q = 10, tuning mu_L (negative allowed) jointly with alpha beats "
          "mu_L = 0 after 10 steps for every mu_S > 0.3.", "quadratic", _fig7_tuning_helps, "ratio > 1.05",
          "a 5 % margin separates a real gain from grid-search noise", figure="fig7"),
    Claim("finding-fig7-ratio", "Section VI text vs Fig. 7 (SPEC.md note)", "Finding: the text's 'about 1.5x' "
          "gain of negative momentum over mu_L = 0 at mu_S > 0.3 is larger than Fig. 7's own curves give.",
          "finding", _fig7_finding, "max ratio < 1.4", "a gap of 0.1 below 1.5 is well beyond grid-search noise",
          figure="fig7"),
    Claim("limit-of-asynchrony", "Section IV (Theorem 5 consequences)", "If the best sequential momentum is mu*, "
          "then beyond M_0 = ceil(1/(1-mu*)) workers the implicit momentum alone exceeds it and the best "
          "achievable per-step rate worsens with every added worker.", "quadratic", _limit,
          "strict increase of the best rate for M >= M_0", "rates come from the same deterministic grid search",
          figure="limit"),
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
        ax.semilogy(s["fig7_mu_implicit"], [b[2] ** s["fig7_steps"] for b in rows], marker=".",
                    label=name if name != "tuned" else r"$\alpha$, $\mu_L$ tuned")
    ax.set(xlabel=r"implicit momentum $\mu_S$", ylabel=r"$\gamma^{10}$ (distance after 10 steps)",
           title="Fig. 7: three strategies, Q = 10")
    ax.legend(fontsize=8)
    out["fig7"] = fig
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(s["limit_workers"], [b[2] for b in s["limit"]["tuned"]], marker="o", label=r"$\mu_L$ tuned (any sign)")
    ax.plot(s["limit_workers"], [b[2] for b in s["limit"]["non_negative"]], marker=".", label=r"$\mu_L \geq 0$")
    ax.axvline(s["limit_m0"], color="gray", ls="--", label=f"$M_0$ = {s['limit_m0']}")
    ax.set(xlabel="workers M", ylabel=r"best per-step rate $\gamma$",
           title=f"Limit of asynchrony, Q = {s['limit_condition_number']:g}")
    ax.legend(fontsize=8)
    out["limit"] = fig
    return out
