"""Tuning under asynchrony on a quadratic with queue-driven staleness, against Theorem 7.

For each M, every (mu_L, alpha) on a grid runs on the same R queue schedules (common random numbers). The score of
a configuration is the decay rate of the expected iterate, the quantity Theorem 7 is about: with m_t the replica
mean of w_t - w* and s_t = ||(m_t, m_{t-1}, m_{t-2})||, rate = (s_T / s_t0)^(1 / (T - t0)). Theorem 7's
prediction of the same finite-horizon score comes from iterating (19) exactly from the same start, so the best
mu_L of the Monte Carlo and of the theory are compared on the same grid. Diverged runs score infinity. Controls:
the prediction of the model where the momenta add exactly, and the M labels reversed.
Cost (quick): about 15 s on one CPU core.
"""
from __future__ import annotations

from dataclasses import dataclass

from reports.harness.store import Result
from reports.registry import Claim, Control, Experiment, Tolerance, Verdict, with_summary
from sim.quadratic_tuning import tables


@dataclass(frozen=True)
class Config:
    workers: tuple = (1, 2, 4, 8, 16)
    condition_number: float = 100.0
    mu_explicit_grid: tuple = (-0.6, -0.45, -0.3, -0.15, 0.0, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9)
    lr_per_worker_grid: tuple = (0.03, 0.06, 0.1, 0.17, 0.3, 0.5, 0.85, 1.4, 2.0, 2.8, 4.0)  # alpha / M
    n_replicas: int = 1000
    n_steps: int = 60
    burn_in: int = 10          # t0: the score skips the transient of the first steps
    seed: int = 0

    def validate(self) -> None:
        if not 10 <= self.n_replicas <= 10 ** 5 or not 10 <= self.n_steps <= 10 ** 4:
            raise ValueError("n_replicas must be in 10..10^5 and n_steps in 10..10^4 (memory)")
        if not 2 <= self.burn_in <= self.n_steps - 5:
            raise ValueError("burn_in must be in 2..n_steps - 5")
        if len(self.workers) < 2 or min(self.workers) < 1 or max(self.workers) > 1024:
            raise ValueError("workers must list at least two counts in 1..1024")
        if 0.0 not in self.mu_explicit_grid or any(not -1 < mu < 1 for mu in self.mu_explicit_grid):
            raise ValueError("mu_explicit_grid must lie in (-1, 1) and contain 0.0")
        if not self.lr_per_worker_grid or any(not lr > 0 for lr in self.lr_per_worker_grid):
            raise ValueError("lr_per_worker_grid must be a non-empty list of positive steps")


def run(config: Config) -> Result:
    summary, arrays = tables(config)
    return Result(summary=summary, arrays=arrays)


def _per_m(result: Result, key: str) -> tuple[list[int], list[float]]:
    per = result.summary["per_workers"]
    ms = sorted(per)
    return ms, [per[m][key]["mu_explicit"] for m in ms]


def _tuning(result: Result, tol: Tolerance) -> Verdict:
    """The paper's prescription: the Monte Carlo's best mu_L (expected-iterate score over the configurations whose
    runs converge: a diverging run has no rate to measure) equals Theorem 7's optimum (over every configuration, as
    the paper states it) within tol grid steps at every M, and is lower at the largest M than at M = 1. Beside it,
    labelled as a consistency check only: Theorem 7 on the same admissible set (masked by the Monte Carlo's own
    stability, so the two agree nearly by construction)."""
    s = result.summary
    ms, best = _per_m(result, "best")
    _, theory = _per_m(result, "theory_unrestricted")
    _, masked = _per_m(result, "theory")
    gaps = [abs(b - t) / s["grid_step"] for b, t in zip(best, theory)]
    masked_gaps = [abs(b - t) / s["grid_step"] for b, t in zip(best, masked)]
    ok = max(gaps) <= tol.value + 1e-9 and best[-1] < best[0]
    listing = "; ".join(f"M={m}: Monte Carlo {b:+.2f}, Theorem 7 {t:+.2f} (on the admissible set {k:+.2f})"
                        for m, b, t, k in zip(ms, best, theory, masked))
    values = {f"M={m},best_mu_explicit": b for m, b in zip(ms, best)} | {
        f"M={m},theory_mu_explicit": t for m, t in zip(ms, theory)} | {
        "max_gap_grid_steps": max(gaps), "consistency_max_gap_grid_steps": max(masked_gaps)}
    return Verdict(ok, f"Monte Carlo best mu_L (converging runs) = Theorem 7's optimum within {tol.value:g} grid "
                   f"step(s) at every M, and lower at M = {ms[-1]} than at M = 1", listing +
                   f"; consistency check on the same admissible set: max gap {max(masked_gaps):.0f} grid steps "
                   "(not a test: the mask comes from the Monte Carlo itself)", values)


def _mean_square(result: Result, tol: Tolerance) -> Verdict:
    """Extension: Theorem 7's optimum of the expected iterate lies where the runs themselves diverge in mean square;
    among runs that converge the best mu_L is higher by more than tol grid steps at some M >= 2."""
    s, per = result.summary, result.summary["per_workers"]
    ms, stable = _per_m(result, "theory")
    _, unrestricted = _per_m(result, "theory_unrestricted")
    gaps = [(m, (a - b) / s["grid_step"]) for m, a, b in zip(ms, stable, unrestricted) if m >= 2]
    listing = "; ".join(f"M={m}: {b:+.2f} among converging runs vs {a:+.2f} unrestricted "
                        f"({per[m]['stable_configs']} of the grid's configurations converge)"
                        for m, b, a in zip(ms, stable, unrestricted))
    return Verdict(any(g > tol.value for _, g in gaps), f"a result if the best mu_L among runs that converge in mean "
                   f"square exceeds the expected iterate's optimum by more than {tol.value:g} grid steps at some M",
                   listing, {f"M={m},gap_grid_steps": g for m, g in gaps})


def _swap(**keys):
    """Control evidence: each M's entry `dst` replaced by the wrong model's entry `src` stored beside it."""
    return lambda r: with_summary(r, per_workers={m: {**v, **{dst: v[src] for dst, src in keys.items()}}
                                                  for m, v in r.summary["per_workers"].items()})


def _reversed_labels(result: Result) -> Result:
    per = result.summary["per_workers"]
    ms = sorted(per)
    return with_summary(result, per_workers={m: {**per[m], "best": per[n]["best"]} for m, n in zip(ms, reversed(ms))})


CLAIMS = (
    Claim(id="mc-tuning-under-asynchrony", paper_ref="Theorem 7, Section IV", statement="On a quadratic (Q = 100) with queue-driven "
          "staleness, the explicit momentum that makes the expected iterate decay fastest (tuned jointly with alpha, "
          "negative values allowed, measured on the configurations whose runs converge) is Theorem 7's optimum at "
          "every M = 1..16, and it falls as M grows.", check=_tuning,
          tolerance=Tolerance(1, "grid steps", "neighbouring grid points (step 0.15) differ in rate by less than the Monte Carlo "
                    "error near the flat optimum"),
          controls=(Control("momenta-add-exactly", "the prediction of the model where the momenta add exactly (heavy ball with "
                   "mu_L + mu_S, step alpha/M)", _swap(theory_unrestricted="additive")),
           Control("M-labels-reversed", "the Monte Carlo's tuned results with the M labels reversed",
                   _reversed_labels)), figure="tuning", expect="result",
          meaning="an imprecision of the paper: Theorem 7 prescribes for the expected iterate, and single runs need "
                  "a higher momentum (extension-tuning-in-mean-square)"),
    Claim(id="extension-tuning-in-mean-square", paper_ref="Theorem 7 (beyond the paper)", statement="Extension: Theorem 7's optimum is "
          "the expected iterate's; on the same grid it lies where single runs diverge in mean square for M >= 2, "
          "and among runs that converge the best explicit momentum is markedly higher (less negative).", check=_mean_square, tolerance=Tolerance(1, "grid steps", "one grid step (0.15) is the grid's resolution"),
          controls=(Control("runs-converge-with-their-mean", "the runs converge wherever their mean does (Theorem 7's optimum "
                   "is admissible)", _swap(theory="theory_unrestricted")),), figure="tuning"),
)


def figures(result: Result) -> dict:
    import matplotlib.pyplot as plt
    s = result.summary
    ms = sorted(s["per_workers"])
    per = [s["per_workers"][m] for m in ms]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.6))
    a1.plot(ms, [p["best"]["mu_explicit"] for p in per], "o-", label="Monte Carlo, runs that converge")
    a1.plot(ms, [p["theory"]["mu_explicit"] for p in per], "k--", label="Theorem 7 (19), same grid and runs")
    a1.plot(ms, [p["theory_unrestricted"]["mu_explicit"] for p in per], "k:", label="Theorem 7, unrestricted")
    a1.plot(ms, [p["additive"]["mu_explicit"] for p in per], "x", color="gray", label="if the momenta added")
    a1.set(xscale="log", xlabel="workers M", ylabel=r"best $\mu_L$", title="Best explicit momentum")
    a1.legend(fontsize=7)
    a2.plot(ms, [p["best"]["rate"] for p in per], "o-", label=r"$\mu_L$ tuned")
    a2.plot(ms, [p["best_rate_at_mu0"] for p in per], "s-", label=r"$\mu_L = 0$")
    a2.axvline(s["m0"], color="gray", ls="--", label=f"$M_0$ = {s['m0']}")
    a2.set(xscale="log", xlabel="workers M", ylabel="rate of the expected iterate", title="Best achievable rate")
    a2.legend(fontsize=7)
    fig.tight_layout()
    return {"tuning": fig}


EXPERIMENT = Experiment(
    name="mc_tuning", method="monte_carlo", part="monte-carlo", seeded=True, version=3, config=Config,
    profiles={"quick": Config(), "full": Config(n_replicas=10_000)},
    smoke=Config(workers=(1, 4), n_replicas=10, n_steps=20, burn_in=5, mu_explicit_grid=(-0.3, 0.0, 0.5),
                 lr_per_worker_grid=(0.1, 0.5)),
    power_seeds=20, run=run, figures=figures, claims=CLAIMS)
