"""Measured momentum: estimators that read the total momentum off trajectories, where the truth is known.

Mean trajectories of queue-driven asynchronous SGD on a quadratic (affine gradient, so grad f(E w) = E grad f)
are fed to the two-term least-squares fit and to YellowFin's estimator. Standard errors come from splitting
the replicas into batches. Controls: a law with the same mean (gamma work times), YellowFin fed the effective step,
the additive model's own trajectory, the mean of many runs in place of one run, exponential work in place of the
others. Cost (quick): about 20 s on one CPU core.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reports.harness.store import Result
from reports.registry import Claim, Control, Experiment, Tolerance, Verdict, with_summary
from sim.momentum_study import tables
from theory import predictions


@dataclass(frozen=True)
class Config:
    n_replicas: int = 20_000
    n_batches: int = 10
    n_steps: int = 60
    eigenvalues: tuple = (1.0, 0.3, 0.05)
    lr: float = 0.2
    noise_std: float = 0.0
    workers: tuple = (2, 4, 8, 16)
    explicit_cases: tuple = ((2.0, 0.1), (4.0, 0.2), (4.0, 0.5), (8.0, -0.3))
    other_laws_workers: int = 8
    gamma_shape: float = 10.0
    single_steps: int = 20_000       # one long noisy trajectory per M (no averaging over replicas)
    single_dim: int = 50
    single_noise_std: float = 0.05
    seed: int = 0

    def validate(self) -> None:
        if self.n_batches < 4 or self.n_replicas < 10 * self.n_batches or self.n_replicas > 10 ** 7:
            raise ValueError("need n_batches >= 4 and 10 n_batches <= n_replicas <= 10^7")
        if not self.workers or min(self.workers) < 2 or max(self.workers) > 1024:
            raise ValueError("workers must be a non-empty list of counts in 2..1024")


def run(config: Config) -> Result:
    return Result(summary=tables(config))


def _recovers(result: Result, tol: Tolerance) -> Verdict:
    s, z = result.summary, tol.value
    ok, rows, values = True, [], {}
    for mm, e in sorted(s["exponential"].items()):
        m = mm
        zm = abs(e["mu"] - predictions.implicit_momentum(mm)) / max(e["mu_se"], 1e-15)
        ze = abs(e["eta"] - predictions.effective_step(s["lr"], mm)) / max(e["eta_se"], 1e-15)
        zy = abs(e["yellowfin_effective_lr"] - predictions.implicit_momentum(mm)) / max(e["yellowfin_effective_se"], 1e-15)
        ok &= max(zm, ze, zy) <= z
        values.update({f"M={m},mu": e["mu"], f"M={m},z_mu": zm, f"M={m},z_eta": ze, f"M={m},z_yellowfin": zy})
        rows.append(f"M={m}: two-term mu {e['mu']:.4f} (z {zm:.1f}), eta {e['eta']:.4f} (z {ze:.1f}); "
                    f"YellowFin (step alpha/M) {e['yellowfin_effective_lr']:.4f} (z {zy:.1f})")
    return Verdict(ok, f"mu = 1 - 1/M and eta = alpha/M within {z:g} SE", "; ".join(rows), values)


def _next_m(result: Result) -> Result:
    per = result.summary["exponential"]
    ms = sorted(per)
    return with_summary(result, exponential={a: per[b] for a, b in zip(ms, ms[1:])})


def _yellowfin_finding(result: Result, tol: Tolerance) -> Verdict:
    s = result.summary
    gaps = {m: abs(e["yellowfin_nominal_lr"] - predictions.implicit_momentum(m)) for m, e in s["exponential"].items()}
    rows = [f"M={m}: {e['yellowfin_nominal_lr']:.3f} (truth {predictions.implicit_momentum(m):.3f})"
            for m, e in sorted(s["exponential"].items())]
    return Verdict(all(g > tol.value for g in gaps.values()), f"estimates off by more than {tol.value:g} when fed "
                   "the nominal step alpha", "YellowFin estimator with step alpha: " + "; ".join(rows),
                   {f"M={m},bias": g for m, g in gaps.items()})


def _explicit_finding(result: Result, tol: Tolerance) -> Verdict:
    rows, worst, values = [], 0.0, {}
    for key, e in result.summary["explicit"].items():
        mu_s, mu_l = predictions.implicit_momentum(e["n_workers"]), e["mu_explicit"]
        gap = e["mu"] - (mu_s + mu_l)
        worst = max(worst, abs(gap))
        values[f"{key},gap"] = gap
        rows.append(f"{key}: measured {e['mu']:.3f} vs mu_L + mu_S = {mu_s + mu_l:.3f} (mu_L mu_S = {mu_l * mu_s:.3f})")
    return Verdict(worst > tol.value, f"two-term estimate departs from mu_L + mu_S by more than {tol.value:g} "
                   "somewhere", "; ".join(rows), values)


def _laws_finding(result: Result, tol: Tolerance) -> Verdict:
    s = result.summary
    m = s["other_laws_workers"]
    e = s["other_laws"]
    z = {n: abs(e[n]["mu"] - predictions.implicit_momentum(m)) / max(e[n]["mu_se"], 1e-3) for n in ("gamma", "constant")}
    rows = [f"{name}: {v['mu']:.3f} +- {v['mu_se']:.3f}" for name, v in e.items()]
    return Verdict(all(v > tol.value for v in z.values()), f"gamma and constant work times: estimate off 1 - 1/M = "
                   f"{predictions.implicit_momentum(m):.3f} by > {tol.value:g} SE", f"M={m}, two-term estimate: "
                   + "; ".join(rows), {f"{n},z": v for n, v in z.items()})


def _single_finding(result: Result, tol: Tolerance) -> Verdict:
    single = result.summary["single_trajectory"]
    gaps = {m: abs(e["mu"] - predictions.implicit_momentum(m)) for m, e in single.items() if m >= 4}
    rows = [f"M={m}: {e['mu']:.3f} (1 - 1/M = {predictions.implicit_momentum(m):.3f})"
            for m, e in sorted(single.items())]
    return Verdict(all(g > tol.value for g in gaps.values()), f"on one run the fitted momentum stays far (> "
                   f"{tol.value:g}) from 1 - 1/M for M >= 4", "two-term fit on a single noisy trajectory: "
                   + "; ".join(rows), {f"M={m},gap": g for m, g in gaps.items()})


CLAIMS = (
    Claim(id="mc-momentum-estimator", paper_ref="Theorem 5; YellowFin estimator (docs/paper.md section 4)", statement="From mean trajectories "
          "under exponential work times, the two-term least-squares fit returns mu = 1 - 1/M and step alpha/M, and "
          "YellowFin's estimator returns 1 - 1/M when given the effective step alpha/M.", check=_recovers,
          tolerance=Tolerance(4.0, "standard errors", "batch-to-batch spread (10 batches of replicas) measures the Monte Carlo "
                    "error of each estimate"),
          controls=(Control("next-M", "the nearest miss on the grid: at each M the estimates of the next larger M (e.g. 8 workers' "
                   "system read as 16's: mu_S 0.875 vs 0.9375)", _next_m),
           Control("gamma-work-times", "gamma(k = 10) work times: the same mean staleness M - 1, not memoryless",
                   lambda r: with_summary(r, exponential={r.summary["other_laws_workers"]:
                                                          r.summary["other_laws"]["gamma"]})),)),
    Claim(id="extension-yellowfin-dampening", paper_ref="docs/paper.md section 4 vs Theorem 3", statement="Beyond the paper: YellowFin's "
          "estimator assumes an undampened gradient term -alpha grad f; fed the nominal step alpha it is badly biased, "
          "because Theorem 3's momentum is dampened (gradient term -(1 - mu_S) alpha grad f).", check=_yellowfin_finding, tolerance=Tolerance(0.1, "absolute", "a bias this large cannot come from Monte Carlo error (SE < 0.01)"),
          controls=(Control("effective-step", "YellowFin fed the effective step alpha/M (the dampened model)",
                   lambda r: with_summary(r, exponential={m: {**e, "yellowfin_nominal_lr": e["yellowfin_effective_lr"]}
                                                          for m, e in r.summary["exponential"].items()})),),
          aliases=("finding-yellowfin-dampening",)),
    Claim(id="extension-momenta-add-measured", paper_ref="Theorem 6 ('total momentum ~ mu_L + mu_S')", statement="Beyond the paper: the "
          "total momentum measured by the two-term fit departs from mu_L + mu_S when mu_L mu_S is not small (the "
          "model is third order; the paper says the momenta add to first order).", check=_explicit_finding,
          tolerance=Tolerance(0.05, "absolute", "0.05 is far above the estimator's SE"),
          controls=(Control("additive-trajectory", "trajectories of the additive model itself (heavy ball with mu_L + mu_S)",
                   lambda r: with_summary(r, explicit={k: {**e, "mu": e["mu_additive_model"]}
                                                       for k, e in r.summary["explicit"].items()})),),
          aliases=("finding-momenta-add-measured",)),
    Claim(id="extension-momentum-only-in-expectation", paper_ref="Theorem 3 (a statement about expectations)", statement="Beyond the paper: "
          "the implicit momentum lives in the expected iterates. Fitted on one long noisy run, the two-term model "
          "returns a momentum near 0: the regressor x_t - x_{t-1} is dominated by gradient noise, and least squares "
          "with a noisy regressor is attenuated towards 0 (errors in variables). An estimator must average over runs "
          "(or use the known law), which bears on closed-loop tuners that read momentum off a single run.",
          check=_single_finding, tolerance=Tolerance(0.3, "absolute", "20,000 steps make the fit's own error far "
                                                  "smaller than 0.3"),
          controls=(Control("mean-of-runs", "the fit on the mean of many runs (the expectation the theorem is about)",
                   lambda r: with_summary(r, single_trajectory=r.summary["exponential"])),),
          aliases=("finding-momentum-only-in-expectation",)),
    Claim(id="finding-estimator-non-exponential", paper_ref="docs/paper.md note on Assumption 4", statement="Finding: with gamma or constant "
          "work times the measured momentum is not 1 - 1/M: the estimator (and the theory) needs memoryless work.",
          check=_laws_finding, tolerance=Tolerance(5.0, "standard errors", "SE from batches of replicas"),
          controls=(Control("exponential-in-their-place", "exponential work times under the gamma and constant labels",
                   lambda r: with_summary(r, other_laws={n: r.summary["other_laws"]["exponential"]
                                                         for n in ("gamma", "constant", "exponential")})),)),
)


def figures(result: Result) -> dict:
    import matplotlib.pyplot as plt
    s = result.summary
    fig, ax = plt.subplots(figsize=(6, 4))
    exp_sorted = sorted(s["exponential"].items())
    ms = np.array([m for m, _ in exp_sorted])
    ax.errorbar(ms, [e["mu"] for _, e in exp_sorted], yerr=[3 * e["mu_se"] for _, e in exp_sorted],
                fmt="o", label="two-term fit (exponential)")
    ax.plot(ms, [e["yellowfin_nominal_lr"] for _, e in exp_sorted], "x", label=r"YellowFin, step $\alpha$")
    grid = np.arange(1, ms.max() + 1)
    ax.plot(grid, [predictions.implicit_momentum(int(m)) for m in grid], "k-", lw=1, label="1 - 1/M")
    m = s["other_laws_workers"]
    for name in ("gamma", "constant"):
        ax.plot([m], [s["other_laws"][name]["mu"]], "s", label=f"two-term fit ({name} work times)")
    ax.set(xlabel="workers M", ylabel="measured momentum", title="Measured vs predicted implicit momentum")
    ax.legend(fontsize=7)
    return {"momentum": fig}


EXPERIMENT = Experiment(
    name="mc_momentum", method="monte_carlo", part="monte-carlo", seeded=True, version=3, config=Config,
    profiles={"quick": Config(), "full": Config(n_replicas=400_000, n_batches=20)},
    smoke=Config(n_replicas=400, n_batches=4, n_steps=20, workers=(2, 4), explicit_cases=((4.0, 0.5),),
                 other_laws_workers=4, single_steps=500, single_dim=5),
    power_seeds=20, run=run, figures=figures, claims=CLAIMS)
