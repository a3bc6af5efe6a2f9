"""Monte Carlo of the queue (sim.queue): the staleness law M workers produce, for several work-time laws.

Claims 1-3 of the Monte Carlo issue. Means and variances carry batch-means standard errors (50 batches), since
consecutive delays are correlated. Cost (quick): about 10 s on one CPU core.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from reports.registry import Claim, Verdict
from sim.provenance import provenance
from sim.queue import simulate
from sim.stats import geometric_tv
from sim.stats import batch_se as _batch_se
from sim.store import Result

KIND, NAME = "monte_carlo", "mc_staleness"
VERSION = 1  # bump when the stored output of this experiment changes
N_BATCHES = 50


def batch_se(x) -> float:
    return _batch_se(x, N_BATCHES)


@dataclass(frozen=True)
class Config:
    workers: tuple = (2, 4, 8, 16, 32)
    n_updates: int = 200_000
    rates: tuple = (0.5, 3.0)          # exponential rates checked for rate-independence (M = 4)
    gamma_shape: float = 10.0
    lognormal_sigma: float = 1.0
    heterogeneous_rates: tuple = (0.5, 1.0, 1.0, 2.0, 4.0, 4.0, 8.0, 8.0)
    dependence_workers: int = 4
    z_threshold: float = 4.0
    seed: int = 0

    def validate(self) -> None:
        if self.n_updates < 10 * N_BATCHES or min(self.workers) < 1:
            raise ValueError(f"n_updates must be >= {10 * N_BATCHES} and workers >= 1")


PROFILES = {"quick": Config(), "full": Config(n_updates=2_000_000)}


def law_stats(x: np.ndarray, n_workers: int, rng: np.random.Generator) -> dict:
    p = 1 / n_workers
    reference = rng.geometric(p, x.size) - 1  # an exact i.i.d. Geom(1/M) sample of the same size
    return {"mean": float(x.mean()), "mean_se": batch_se(x), "var": float(x.var()),
            "var_se": batch_se((x - x.mean()) ** 2), "tv": geometric_tv(x, p),
            "tv_reference": geometric_tv(reference, p),
            "pmf": (np.bincount(x, minlength=4 * n_workers)[:4 * n_workers] / x.size).tolist()}


def _steady(schedule) -> np.ndarray:
    return schedule.staleness[~schedule.warmup]


def dependence(config: Config) -> dict:
    """Consecutive delays are dependent, but the law given the history up to the read is still Geom(1/M)."""
    m = config.dependence_workers
    s = simulate(m, config.n_updates, seed=config.seed + 7)
    tau = s.staleness
    steady = ~s.warmup
    both = steady[:-1] & steady[1:]
    joint = float(np.mean((tau[:-1] == 0) & (tau[1:] == 1) & both) / both.mean())
    marg0, marg1 = float(np.mean(tau[steady] == 0)), float(np.mean(tau[steady] == 1))
    # history up to the read of update t includes the staleness of the write just before that read
    # (the same worker's previous update); condition on it
    t_index = np.arange(tau.size)
    read = t_index - tau
    prev = read - 1
    ok = steady & (prev >= 0)
    ok &= ~s.warmup[np.maximum(prev, 0)]
    groups = {}
    for label, mask in (("prev_tau=0", tau[np.maximum(prev, 0)] == 0), ("prev_tau=1..3", (tau[np.maximum(prev, 0)] >= 1)
                        & (tau[np.maximum(prev, 0)] <= 3)), ("prev_tau>=4", tau[np.maximum(prev, 0)] >= 4)):
        x = tau[ok & mask]
        groups[label] = {"n": int(x.size), "mean": float(x.mean()), "mean_se": batch_se(x),
                         "tv": geometric_tv(x, 1 / m),
                         "tv_reference": geometric_tv(np.random.default_rng(config.seed + 9).geometric(1 / m, x.size) - 1, 1 / m)}
    # contrast: conditioning on the previous global update (not in the history at read time) changes the law
    after_zero = tau[1:][(tau[:-1] == 0) & both]
    return {"n_workers": m, "p_joint_0_then_1": joint, "product_of_marginals": marg0 * marg1,
            "conditional_on_history": groups,
            "after_previous_update_zero": {"mean": float(after_zero.mean()), "mean_se": batch_se(after_zero)}}


def run(config: Config) -> Result:
    start = time.time()
    rng = np.random.default_rng(config.seed + 1)
    exponential = {}
    for i, m in enumerate(config.workers):
        exponential[str(m)] = law_stats(_steady(simulate(m, config.n_updates, seed=config.seed + i)), m, rng)
    rates = {str(r): law_stats(_steady(simulate(4, config.n_updates, rate=r, seed=config.seed + 100 + i)), 4, rng)
             for i, r in enumerate(config.rates)}
    other = {}
    for m in (4, 16):
        laws = {"gamma": {"work_time": "gamma", "shape": config.gamma_shape},
                "constant": {"work_time": "constant", "value": 1.0},
                "lognormal": {"work_time": "lognormal", "sigma": config.lognormal_sigma}}
        for name, law in laws.items():
            other[f"{name}/M={m}"] = law_stats(_steady(simulate(m, config.n_updates, seed=config.seed + 200 + m, **law)),
                                               m, rng)
    hetero = config.heterogeneous_rates
    other[f"heterogeneous/M={len(hetero)}"] = law_stats(
        _steady(simulate(len(hetero), config.n_updates, rates=list(hetero), seed=config.seed + 300)), len(hetero), rng)
    constant_exact = {}
    for m in (2, 4, 16):
        s = simulate(m, 10_000, "constant", value=1.0)
        constant_exact[str(m)] = bool(np.all(_steady(s) == m - 1))
    summary = {"exponential": exponential, "rates": rates, "other_laws": other,
               "constant_is_pure_delay": constant_exact, "dependence": dependence(config),
               "z_threshold": config.z_threshold}
    return Result(summary=summary, provenance=provenance({"seed": config.seed}, time.time() - start))


# ------------------------------------------------------------------ checks ----------------------------------

def _geometric(result: Result) -> Verdict:
    s, z = result.summary, result.summary["z_threshold"]
    ok, rows = True, []
    by_m = sorted(s["exponential"].items(), key=lambda kv: int(kv[0]))
    for m, st in by_m + [(f"4 (rate {r})", v) for r, v in s["rates"].items()]:
        mm = int(m.split()[0])
        zm = abs(st["mean"] - (mm - 1)) / st["mean_se"]
        zv = abs(st["var"] - mm * (mm - 1)) / st["var_se"]
        tv_ok = st["tv"] <= max(0.01, 3 * st["tv_reference"])
        ok &= zm <= z and zv <= z and tv_ok
        rows.append(f"M={m}: mean {st['mean']:.3f} (z {zm:.1f}), var {st['var']:.1f} (z {zv:.1f}), TV {st['tv']:.4f} "
                    f"(exact-sample TV {st['tv_reference']:.4f})")
    return Verdict(ok, f"mean M-1, variance M(M-1) within {z} SE; TV <= max(0.01, 3x TV of an exact Geom sample)",
                   "; ".join(rows))


def _any_law_mean(result: Result) -> Verdict:
    s, z = result.summary, result.summary["z_threshold"]
    ok, rows = True, []
    for name, st in s["other_laws"].items():
        m = int(name.split("M=")[1])
        zm = abs(st["mean"] - (m - 1)) / st["mean_se"] if st["mean_se"] > 0 else (0 if st["mean"] == m - 1 else np.inf)
        ok &= zm <= z
        rows.append(f"{name}: mean {st['mean']:.3f} (z {zm:.1f}), var {st['var']:.1f} vs geometric {m * (m - 1)}, "
                    f"TV {st['tv']:.3f}")
    concentrated = all(s["other_laws"][f"{n}/M=16"]["var"] < 0.25 * 240 for n in ("gamma", "constant"))
    pure_delay = all(s["constant_is_pure_delay"].values())
    return Verdict(ok and concentrated and pure_delay, f"mean M-1 within {z} SE for every law; gamma and constant far "
                   "more concentrated (variance < 1/4 of M(M-1)); constant: tau == M-1 after warm-up",
                   "; ".join(rows) + f"; constant pure delay: {s['constant_is_pure_delay']}")


def _dependence(result: Result) -> Verdict:
    d, z = result.summary["dependence"], result.summary["z_threshold"]
    m = d["n_workers"]
    ok = d["p_joint_0_then_1"] == 0 and d["product_of_marginals"] > 0.01
    rows = [f"P(tau_t=0, tau_t+1=1) = {d['p_joint_0_then_1']:.4f} vs product of marginals "
            f"{d['product_of_marginals']:.4f}"]
    for label, g in d["conditional_on_history"].items():
        zm = abs(g["mean"] - (m - 1)) / g["mean_se"]
        tv_ok = g["tv"] <= max(0.01, 3 * g["tv_reference"])
        ok &= zm <= z and tv_ok
        rows.append(f"given {label}: mean {g['mean']:.3f} (z {zm:.1f}), TV {g['tv']:.4f} (n {g['n']})")
    after = d["after_previous_update_zero"]
    rows.append(f"contrast, given the previous update had tau = 0: mean {after['mean']:.3f} (not {m - 1})")
    return Verdict(ok, "joint probability exactly 0; conditional law given history is Geom(1/M) (mean within "
                   f"{z} SE, TV small)", "; ".join(rows))


CLAIMS = (
    Claim("mc-queue-geometric", "Theorem 5, Assumption 4", "Exponential work times give staleness Geom(1/M): mean "
          "M-1, variance M(M-1), small TV distance to the geometric law, for M in 2..32, whatever the rate.",
          "monte_carlo", _geometric, "4 batch-means SE; TV <= max(0.01, 3 x TV of an exact geometric sample)",
          "delays are correlated, so batch means give honest SEs; an exact sample of the same size calibrates "
          "the TV that sampling alone produces", figure="staleness"),
    Claim("mc-any-law-mean", "SPEC.md note on Assumption 4", "Any work-time law gives mean staleness M-1, but gamma "
          "and constant laws give a far more concentrated law (constant: tau == M-1, a pure delay): the momentum "
          "form needs memoryless work times.", "monte_carlo", _any_law_mean, "4 batch-means SE",
          "batch means account for correlated delays", figure="staleness_laws"),
    Claim("mc-delays-dependent", "Section IV text vs proof (SPEC.md note)", "Consecutive delays are not "
          "independent (M = 4: P(tau_t = 0, tau_t+1 = 1) = 0), yet the law of tau_t given the history up to that "
          "update's read is Geom(1/M), which is what the proof needs.", "monte_carlo", _dependence,
          "exact zero; 4 batch-means SE", "the zero is structural; the conditional laws are estimated"),
)


def figures(result: Result) -> dict:
    import matplotlib.pyplot as plt
    s = result.summary
    fig, ax = plt.subplots(figsize=(6, 4))
    for m, st in sorted(s["exponential"].items(), key=lambda kv: int(kv[0])):
        mm = int(m)
        l = np.arange(len(st["pmf"]))
        line, = ax.semilogy(l, np.maximum(st["pmf"], 1e-7), ".", label=f"M={m} (simulated)")
        ax.semilogy(l, (1 / mm) * (1 - 1 / mm) ** l, "-", color=line.get_color(), lw=0.8)
    ax.set(xlabel=r"staleness $\tau$", ylabel="probability", ylim=(1e-5, 1),
           title="Exponential work times: staleness vs Geom(1/M) (lines)")
    ax.legend(fontsize=7)
    out = {"staleness": fig}
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, st in s["other_laws"].items():
        if name.endswith("M=16"):
            ax.plot(np.arange(len(st["pmf"])), st["pmf"], marker=".", label=name)
    ax.plot(np.arange(64), (1 / 16) * (15 / 16) ** np.arange(64), "k--", label="Geom(1/16)")
    ax.set(xlabel=r"staleness $\tau$", ylabel="probability", title="M = 16: other work-time laws")
    ax.legend(fontsize=7)
    out["staleness_laws"] = fig
    return out
