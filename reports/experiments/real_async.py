"""Real asynchrony on Dask: a parameter server with M worker processes on this machine (LocalCluster).

Logistic regression keeps the computation small, so the measured staleness reflects the system: injected
exponential work times (Assumption 4 realised with sleeps) or natural ones. Timings are real, so results are
not bit-reproducible (the reproducibility check skips this experiment). Cost (quick): about 2.5 min.
"""
from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reports.harness.provenance import provenance
from reports.harness.store import Result
from reports.registry import Claim, Control, Experiment, Tolerance, Verdict, with_summary
from sim.stats import batch_se, geometric_tv, law_tv
from theory import predictions


@dataclass(frozen=True)
class Config:
    geometric_workers: tuple = (2, 4, 8)
    geometric_updates: int = 300
    work_mean: float = 0.1            # seconds; much larger than the ~15 ms overhead of one Dask round trip
    natural_workers: int = 4
    natural_updates: int = 400
    momentum_workers: tuple = (2, 4)
    momentum_replicas: int = 16
    momentum_model_repeats: int = 50  # Monte Carlo repetitions of the same estimator under the queue model
    momentum_updates: int = 40
    momentum_lr: float = 0.5
    momentum_batch_size: int = 4096   # full-batch gradients: only the schedule is random, so few runs suffice
    efficiency_workers: tuple = (1, 2, 4, 8)
    efficiency_updates: int = 200
    efficiency_work_mean: float = 0.03
    efficiency_lr: float = 0.5
    efficiency_batch_size: int = 1_000_000  # full-batch gradients: SE then measures staleness, not batch noise
    efficiency_target_at: float = 0.3  # target: the loss M = 1 reaches at this fraction of its updates
    seed: int = 0

    def validate(self) -> None:
        if not self.geometric_workers or min(self.geometric_workers) < 2 or self.geometric_updates < 100:
            raise ValueError("geometric_workers must be >= 2 and geometric_updates >= 100")
        workers = (*self.geometric_workers, *self.momentum_workers, *self.efficiency_workers, self.natural_workers)
        if max(workers) > 64:
            raise ValueError("at most 64 worker processes (one per core on a large machine)")
        if not 0 < self.work_mean <= 60 or not 0 < self.efficiency_work_mean <= 60:
            raise ValueError("work means must be in (0, 60] seconds")


PROFILES = {"quick": Config(), "full": Config(geometric_updates=2000, natural_updates=2000, momentum_replicas=32,
                                              momentum_updates=60)}


def _model_estimates(n_workers: int, config: Config, replicas: int | None = None, repeats: int | None = None):
    """What the same estimator returns under the queue model (exponential work, same workload, same R)."""
    from cnn_experiments.workloads import LogReg
    from sim import async_sgd
    from sim.estimators import fit_two_term
    from sim.queue import simulate_batch

    work = LogReg(0)  # RealConfig.data_seed's default: the same workload as the real runs

    class Objective:  # the same workload as the real runs, full batch, vectorised over replicas
        dim = work.dim
        gradient = staticmethod(work.batched_full_gradient)

    out = []
    for k in range(repeats or config.momentum_model_repeats):
        schedule = simulate_batch(n_workers, config.momentum_updates, replicas or config.momentum_replicas,
                                  seed=config.seed + 97 * k + n_workers)
        x = async_sgd.run_workers(Objective, schedule, config.momentum_lr, 0.0, work.init()).x
        g = np.array([Objective.gradient(xt) for xt in x])
        out.append(fit_two_term(x.mean(axis=1), g.mean(axis=1))[0])
    return out


def _law_stats(x: np.ndarray, m: int, rng: np.random.Generator) -> dict:
    return {"mean": float(x.mean()), "mean_se": batch_se(x, 20), "var": float(x.var()),
            "tv": geometric_tv(x, 1 / m), "tv_reference": geometric_tv(rng.geometric(1 / m, x.size) - 1, 1 / m),
            "n": int(x.size), "pmf": (np.bincount(x, minlength=4 * m)[:4 * m] / x.size).tolist()}


def run(config: Config) -> Result:
    from cnn_experiments import param_server as ps
    from cnn_experiments.real_async import schedule_of
    from sim.estimators import fit_two_term
    from sim.queue import simulate

    start = time.time()
    n_procs = max(max(config.geometric_workers), max(config.efficiency_workers), config.natural_workers)
    client, cluster = ps.local_client(n_procs)
    rng = np.random.default_rng(config.seed)
    try:
        geometric = {}
        for m in config.geometric_workers:
            r = ps.run(client, ps.RealConfig(n_workers=m, n_updates=config.geometric_updates,
                                             work_mean=config.work_mean, seed=config.seed + m))
            s = schedule_of(r, m)
            geometric[str(m)] = {**_law_stats(s.staleness[~s.warmup], m, rng),
                                 "overhead_s": float(np.mean(r.cycle) - np.mean(r.compute))}
        m = config.natural_workers
        r = ps.run(client, ps.RealConfig(n_workers=m, n_updates=config.natural_updates, work_time="natural",
                                         seed=config.seed + 50))
        natural_schedule = schedule_of(r, m)
        measured = natural_schedule.staleness[~natural_schedule.warmup]
        with tempfile.TemporaryDirectory() as tmp:
            trace = Path(tmp) / "cycles.csv"
            np.savetxt(trace, np.array(r.cycle), header="work_time", comments="")
            model = simulate(m, 20 * config.natural_updates, "trace", seed=config.seed, path=str(trace))
        predicted = model.staleness[~model.warmup]
        natural = {"n_workers": m, "measured_mean": float(measured.mean()), "measured_var": float(measured.var()),
                   "predicted_mean": float(predicted.mean()), "predicted_var": float(predicted.var()),
                   "tv_measured_vs_predicted": law_tv(measured, predicted),
                   "tv_measured_vs_geometric": geometric_tv(measured, 1 / m),
                   "cycle_mean_s": float(np.mean(r.cycle)), "cycle_cv": float(np.std(r.cycle) / np.mean(r.cycle)),
                   "measured_pmf": (np.bincount(measured, minlength=3 * m)[:3 * m] / measured.size).tolist(),
                   "predicted_pmf": (np.bincount(predicted, minlength=3 * m)[:3 * m] / predicted.size).tolist(),
                   "law_stats": {**_law_stats(measured, m, rng), "overhead_s": 0.0}}
        momentum = {}
        for m in config.momentum_workers:
            runs = [ps.run(client, ps.RealConfig(n_workers=m, n_updates=config.momentum_updates, lr=config.momentum_lr,
                                                 batch_size=config.momentum_batch_size, work_mean=config.work_mean, seed=config.seed + 1000 * m + rep,
                                                 record_trajectory=True)) for rep in range(config.momentum_replicas)]
            xs = np.array([r.trajectory for r in runs])        # (R, T+1, d), all from the same initial point
            gs = np.array([r.full_gradients for r in runs])
            mu, eta = fit_two_term(xs.mean(axis=0), gs.mean(axis=0))
            halves = [fit_two_term(xs[h].mean(axis=0), gs[h].mean(axis=0))[0]
                      for h in (slice(0, None, 2), slice(1, None, 2))]
            model_mu = _model_estimates(m, config)
            momentum[str(m)] = {"mu": mu, "eta": eta, "mu_se": float(abs(halves[0] - halves[1]) / 2),
                                "predicted": predictions.implicit_momentum(m), "lr": config.momentum_lr, "replicas": len(runs),
                                "model_mean": float(np.mean(model_mu)), "model_sd": float(np.std(model_mu, ddof=1)),
                                "model_large_r": _model_estimates(m, config, replicas=400, repeats=1)[0]}
        synchronous = _model_estimates(1, config)  # control: the same estimator when asynchrony adds no momentum
        efficiency = {}
        for m in config.efficiency_workers:
            r = ps.run(client, ps.RealConfig(n_workers=m, n_updates=config.efficiency_updates, lr=config.efficiency_lr,
                                             batch_size=config.efficiency_batch_size,
                                             work_mean=config.efficiency_work_mean, seed=config.seed + 7),
                       loss_every=5)
            efficiency[str(m)] = {"seconds_per_update": r.wall_seconds / len(r.staleness), "losses": r.losses}
    finally:
        client.close()
        cluster.close()
    losses_1 = efficiency["1"]["losses"]
    at = int(config.efficiency_target_at * config.efficiency_updates)
    target = min(l for u, l, _ in losses_1 if u <= at) + 1e-12
    for m, e in efficiency.items():
        e["updates_to_target"] = next((u for u, l, _ in e["losses"] if l <= target), None)
        e["seconds_to_target"] = next((sec for _, l, sec in e["losses"] if l <= target), None)
    base = efficiency["1"]
    for m, e in efficiency.items():
        e["hardware_efficiency"] = e["seconds_per_update"] / base["seconds_per_update"]
        e["statistical_efficiency"] = (e["updates_to_target"] / base["updates_to_target"]
                                       if e["updates_to_target"] else None)
        e["time_to_target_ratio"] = (e["hardware_efficiency"] * e["statistical_efficiency"]
                                     if e["statistical_efficiency"] else None)
        e["measured_time_ratio"] = (e["seconds_to_target"] / base["seconds_to_target"]
                                    if e["seconds_to_target"] and base["seconds_to_target"] else None)
    summary = {"geometric": geometric, "natural": natural, "momentum": momentum, "efficiency": efficiency,
               "efficiency_target_loss": target, "work_mean": config.work_mean,
               "synchronous_model": {"mean": float(np.mean(synchronous)), "sd": float(np.std(synchronous, ddof=1))}}
    return Result(summary=summary, provenance=provenance({"seed": config.seed}, time.time() - start))


# ------------------------------------------------------------------ checks ----------------------------------

def _geometric(result: Result, tol: Tolerance) -> Verdict:
    z, ok, rows, values = tol.value, True, [], {}
    for m, g in result.summary["geometric"].items():
        mm = int(m)
        zm = abs(g["mean"] - (mm - 1)) / g["mean_se"] if g["mean_se"] > 0 else math.inf
        tv_ok = g["tv"] <= max(0.05, 3 * g["tv_reference"])
        ok &= zm <= z and tv_ok
        values.update({f"M={m},z_mean": zm, f"M={m},var": g["var"], f"M={m},tv": g["tv"]})
        rows.append(f"M={m}: mean {g['mean']:.2f} (z {zm:.1f}), var {g['var']:.1f} vs {mm * (mm - 1)}, TV {g['tv']:.3f} "
                    f"(exact-sample TV {g['tv_reference']:.3f}, n {g['n']}); overhead {1000 * g['overhead_s']:.0f} ms")
    return Verdict(ok, f"mean M-1 within {z:g} SE; TV <= max(0.05, 3x TV of an exact Geom sample)", "; ".join(rows),
                   values)


def _predicts(result: Result, tol: Tolerance) -> Verdict:
    n = result.summary["natural"]
    return Verdict(n["tv_measured_vs_predicted"] <= tol.value, "queue model fed with the measured cycle times predicts "
                   f"the measured law: TV <= {tol.value:g}",
                   f"M={n['n_workers']}, natural work times: measured mean {n['measured_mean']:.2f}, var "
                   f"{n['measured_var']:.2f}; predicted mean {n['predicted_mean']:.2f}, var {n['predicted_var']:.2f}; "
                   f"TV {n['tv_measured_vs_predicted']:.3f} (to Geom(1/M): {n['tv_measured_vs_geometric']:.3f}); "
                   f"cycle {1000 * n['cycle_mean_s']:.1f} ms, CV {n['cycle_cv']:.2f}",
                   {"tv_measured_vs_predicted": n["tv_measured_vs_predicted"], "measured_var": n["measured_var"],
                    "predicted_var": n["predicted_var"], "cycle_cv": n["cycle_cv"]})


def _momentum(result: Result, tol: Tolerance) -> Verdict:
    ok, rows, values = True, [], {}
    for m, e in result.summary["momentum"].items():
        gap = abs(e["mu"] - e["model_mean"])
        z = gap / e["model_sd"] if e["model_sd"] > 0 else (0.0 if gap == 0 else math.inf)  # a deterministic model
        ok &= z <= tol.value
        values.update({f"M={m},mu": e["mu"], f"M={m},model_mean": e["model_mean"], f"M={m},z": z})
        rows.append(f"M={m}: measured {e['mu']:.3f} from {e['replicas']} real runs; the queue model gives "
                    f"{e['model_mean']:.3f} +- {e['model_sd']:.3f} for the same estimator and R (z {z:.1f}), "
                    f"{e['model_large_r']:.3f} with R = 400, vs 1 - 1/M = {e['predicted']:.3f}")
    return Verdict(ok, f"measured momentum within {tol.value:g} SD of what the queue model (mu_S = 1 - 1/M) gives for "
                   "the same estimator and number of runs", "; ".join(rows), values)


def _efficiency(result: Result, tol: Tolerance) -> Verdict:
    e = result.summary["efficiency"]
    ms = sorted(e, key=int)
    he = [e[m]["hardware_efficiency"] for m in ms]
    pairs = [(e[m]["time_to_target_ratio"], e[m]["measured_time_ratio"]) for m in ms]
    agree = all(p is not None and q is not None and abs(p - q) <= tol.value * q for p, q in pairs)
    ok = all(b < a for a, b in zip(he, he[1:])) and agree
    rows = [f"M={m}: HE {e[m]['hardware_efficiency']:.2f}, SE {_fmt(e[m]['statistical_efficiency'])}, HE x SE "
            f"{_fmt(e[m]['time_to_target_ratio'])}, measured time ratio {_fmt(e[m]['measured_time_ratio'])}"
            for m in ms]
    values = {f"M={m},HE": e[m]["hardware_efficiency"] for m in ms}
    values.update({f"M={m},SE": e[m]["statistical_efficiency"] for m in ms})
    return Verdict(ok, f"HE (time per update vs M = 1) falls with M, and HE x SE matches the measured time to target "
                   f"within {tol.value:.0%}", "; ".join(rows) + f" (target loss "
                   f"{result.summary['efficiency_target_loss']:.4f}; SE < 1 means the implicit momentum helped at this "
                   "step size)", values)


def _fmt(value) -> str:
    return "never" if value is None else f"{value:.2f}"


def _no_speedup(result: Result) -> Result:
    eff = {m: {**e, "hardware_efficiency": 1.0, "time_to_target_ratio": e["statistical_efficiency"]}
           for m, e in result.summary["efficiency"].items()}
    return with_summary(result, efficiency=eff)


WHY = "real timings on a shared 2-core machine; batch means (20 batches) for correlated delays"
CLAIMS = (
    Claim("real-async-geometric", "Theorem 5 on a real system", "With injected exponential work times, the staleness "
          "measured on a real Dask parameter server is Geom(1/M) for M in {2, 4, 8}.", "real_async", _geometric,
          Tolerance(4.0, "standard errors", WHY + "; TV <= max(0.05, 3x the TV of an exact Geom sample of the same size)"),
          (Control("natural-work-times", "the same system with natural (not injected) work times: mean M - 1, nearly "
                   "round-robin", lambda r: with_summary(r, geometric={str(r.summary["natural"]["n_workers"]):
                                                                       r.summary["natural"]["law_stats"]})),),
          figure="real_staleness"),
    Claim("real-async-model-predicts", "Assumption 4 vs a real system", "With natural work times, the queue model "
          "fed with the measured cycle times predicts the measured staleness law.", "real_async", _predicts,
          Tolerance(0.15, "absolute", "a TV distance: a few hundred updates leave a sampling TV of a few hundredths"),
          (Control("geometric-prediction", "the exponential model's Geom(1/M) in place of the trace-fed prediction",
                   lambda r: with_summary(r, natural={**r.summary["natural"], "tv_measured_vs_predicted":
                                                      r.summary["natural"]["tv_measured_vs_geometric"]})),),
          figure="real_staleness"),
    Claim("real-async-momentum", "Theorem 5 on a real system", "The total momentum measured from real runs (mean "
          "of runs from one initial point, two-term fit) matches 1 - 1/M + mu_L (mu_L = 0), as seen through the "
          "same estimator at the same number of runs.", "real_async", _momentum,
          Tolerance(3.0, "standard errors", "the SD of the model's estimator over 50 repetitions at the same R; with "
                    "few runs the two-term fit is biased towards 0 (noisy regressors), and comparing with the model's "
                    "estimator at the same R removes that bias"),
          (Control("no-implicit-momentum", "asynchrony adds no momentum: the model's estimator at M = 1",
                   lambda r: with_summary(r, momentum={m: {**e, "model_mean": r.summary["synchronous_model"]["mean"],
                                                           "model_sd": r.summary["synchronous_model"]["sd"]}
                                                       for m, e in r.summary["momentum"].items()})),)),
    Claim("real-async-efficiency", "Section IV-A (HE x SE)", "On a real system, more workers make each update "
          "cheaper (hardware efficiency HE) while statistical efficiency SE changes with the implicit momentum; the "
          "time to target is their product.", "real_async", _efficiency,
          Tolerance(0.2, "relative", WHY + "; monotone HE"),
          (Control("no-speedup", "workers make updates no cheaper (HE = 1 for every M)", _no_speedup),)),
)


def figures(result: Result) -> dict:
    import matplotlib.pyplot as plt
    s = result.summary
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.6))
    for m, g in s["geometric"].items():
        mm = int(m)
        l = np.arange(len(g["pmf"]))
        line, = a1.plot(l, g["pmf"], ".", label=f"M={m} measured")
        a1.plot(l, predictions.staleness_pmf(mm, l.size), "-", color=line.get_color(), lw=0.8)
    a1.set(xlabel="staleness", ylabel="probability", title="Injected exponential work (lines: Geom(1/M))")
    a1.legend(fontsize=7)
    n = s["natural"]
    a2.bar(np.arange(len(n["measured_pmf"])) - 0.2, n["measured_pmf"], width=0.4, label="measured")
    a2.bar(np.arange(len(n["predicted_pmf"])) + 0.2, n["predicted_pmf"], width=0.4, label="queue model (trace)")
    a2.set(xlabel="staleness", title=f"Natural work times, M={n['n_workers']}")
    a2.legend(fontsize=7)
    fig.tight_layout()
    return {"real_staleness": fig}


EXPERIMENT = Experiment(
    name="real_async", kind="real_async", version=3, config=Config,
    profiles={"quick": Config(), "full": Config(geometric_updates=2000, natural_updates=2000, momentum_replicas=32,
                                                momentum_updates=60)},
    smoke=Config(geometric_workers=(2,), geometric_updates=100, work_mean=0.01, natural_workers=2,
                 natural_updates=100, momentum_workers=(2,), momentum_replicas=2, momentum_model_repeats=3,
                 momentum_updates=10, efficiency_workers=(1, 2), efficiency_updates=40, efficiency_work_mean=0.01),
    run=run, figures=figures, claims=CLAIMS, deterministic=False, slow=True)
