"""The phases of the real-asynchrony experiment on a Dask cluster (the parameter server of param_server.py) and the
queue model's predictions beside them: each injected law's staleness, the natural work times, the momentum measured
from trajectories, the efficiency runs; and the rule by which a recomputed (timed, never bit-identical) phase confirms
a committed one. `config` is the design (reports.experiments.real_async.config.Config)."""
from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from sim.seeds import int_seed
from sim.stats import geometric_tv, law_tv, queue_law_stats
from theory import predictions

Config = Any   # the design: a frozen dataclass with the fields read here


def _model_estimates(n_workers: int, config: Config, replicas: int | None = None, repeats: int | None = None):
    """What the same estimator returns under the queue model (exponential work, same workload, same R)."""
    from sim import async_sgd
    from sim.estimators import fit_two_term
    from sim.objectives import LogReg
    from sim.queue import simulate_batch

    work = LogReg(0)  # RealConfig.data_seed's default: the same workload as the real runs
    Objective = work.as_objective()  # full batch, vectorised over replicas

    out = []
    for k in range(repeats or config.momentum_model_repeats):
        schedule = simulate_batch(n_workers, config.momentum_updates, replicas or config.momentum_replicas,
                                  seed=int_seed(config.seed, f"model-M{n_workers}-{k}"))
        x = async_sgd.run_workers(Objective, schedule, config.momentum_lr, 0.0, work.init()).x
        g = np.array([Objective.gradient(xt) for xt in x])
        out.append(fit_two_term(x.mean(axis=1), g.mean(axis=1))[0])
    return out


def _predicted_efficiency(config: Config, workers, seeds: int = 20) -> dict:
    """Updates to the target loss under the queue model (exponential work, same workload, full batch): the
    simulator's statistical efficiency, averaged over schedules."""
    from sim import async_sgd
    from sim.objectives import LogReg
    from sim.queue import simulate_batch

    work = LogReg(0)
    Objective = work.as_objective()

    def losses(x):  # (T+1, R, d) -> (T+1, R)
        return np.array([[work.loss(w) for w in xt] for xt in x])

    out = {}
    for m in workers:
        schedule = simulate_batch(m, config.efficiency_updates, seeds, seed=int_seed(config.seed, f"efficiency-model-M{m}"))
        x = async_sgd.run_workers(Objective, schedule, config.efficiency_lr, 0.0, work.init()).x
        out[m] = losses(x[::5])  # every 5th update, as the real runs log it
    return out


def _geometric_phase(ps, client, config: Config, m: int) -> dict:
    from cnn_experiments.real_async import schedule_of
    r = ps.run(client, ps.RealConfig(n_workers=m, n_updates=config.geometric_updates, work_mean=config.work_mean,
                                     seed=int_seed(config.seed, f"geometric-M{m}")))
    s = schedule_of(r, m)
    cycle = np.array(r.cycle)
    return {**queue_law_stats(s.staleness[~s.warmup], m, int_seed(config.seed, f"geometric-reference-M{m}")), "cycle_mean_s": float(cycle.mean()),
            "cycle_cv": float(cycle.std() / cycle.mean())}


def _natural_phase(ps, client, config: Config) -> dict:
    from cnn_experiments.real_async import schedule_of
    from sim.queue import simulate
    m = config.natural_workers
    r = ps.run(client, ps.RealConfig(n_workers=m, n_updates=config.natural_updates, work_time="natural",
                                     seed=int_seed(config.seed, "natural")))
    natural_schedule = schedule_of(r, m)
    measured = natural_schedule.staleness[~natural_schedule.warmup]
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "cycles.csv"
        np.savetxt(trace, np.array(r.cycle), header="work_time", comments="")
        model = simulate(m, 20 * config.natural_updates, "trace", seed=config.seed, path=str(trace))
    predicted = model.staleness[~model.warmup]
    cycle_mean, cycle_cv = float(np.mean(r.cycle)), float(np.std(r.cycle) / np.mean(r.cycle))
    return {"n_workers": m, "measured_mean": float(measured.mean()), "measured_var": float(measured.var()),
            "predicted_mean": float(predicted.mean()), "predicted_var": float(predicted.var()),
            "tv_measured_vs_predicted": law_tv(measured, predicted),
            "tv_measured_vs_geometric": geometric_tv(measured, 1 / m), "cycle_mean_s": cycle_mean,
            "cycle_cv": cycle_cv,
            "measured_pmf": (np.bincount(measured, minlength=3 * m)[:3 * m] / measured.size).tolist(),
            "predicted_pmf": (np.bincount(predicted, minlength=3 * m)[:3 * m] / predicted.size).tolist(),
            "law_stats": {**queue_law_stats(measured, m, int_seed(config.seed, "natural-reference")), "cycle_mean_s": cycle_mean,
                          "cycle_cv": cycle_cv}}


def _momentum_phase(ps, client, config: Config, m: int) -> dict:
    from sim.estimators import fit_two_term
    runs = [ps.run(client, ps.RealConfig(n_workers=m, n_updates=config.momentum_updates, lr=config.momentum_lr,
                                         batch_size=config.momentum_batch_size, work_mean=config.momentum_work_mean,
                                         seed=int_seed(config.seed, f"momentum-M{m}-{rep}"),
                                         record_trajectory=True))
            for rep in range(config.momentum_replicas)]
    xs = np.array([r.trajectory for r in runs])        # (R, T+1, d), all from the same initial point
    gs = np.array([r.full_gradients for r in runs])
    mu, eta = fit_two_term(xs.mean(axis=0), gs.mean(axis=0))
    halves = [fit_two_term(xs[h].mean(axis=0), gs[h].mean(axis=0))[0] for h in (slice(0, None, 2), slice(1, None, 2))]
    model_mu = _model_estimates(m, config)
    fewer = _model_estimates(m - 1, config) if m > 1 else model_mu   # the nearest miss: one worker fewer
    return {"mu": mu, "eta": eta, "mu_se": float(abs(halves[0] - halves[1]) / 2),
            "model_mean_fewer": float(np.mean(fewer)), "model_sd_fewer": float(np.std(fewer, ddof=1)),
            "predicted": predictions.implicit_momentum(m), "lr": config.momentum_lr, "replicas": len(runs),
            "model_mean": float(np.mean(model_mu)), "model_sd": float(np.std(model_mu, ddof=1)),
            "model_estimates": [float(v) for v in model_mu],
            "model_large_r": _model_estimates(m, config, replicas=400, repeats=1)[0]}


def _efficiency_phase(ps, client, config: Config, m: int) -> dict:
    out = {}
    for role in ("prediction", "measured"):  # separate runs, each its own seed
        seed = int_seed(config.seed, f"efficiency-{role}")
        r = ps.run(client, ps.RealConfig(n_workers=m, n_updates=config.efficiency_updates, lr=config.efficiency_lr,
                                         batch_size=config.efficiency_batch_size,
                                         work_mean=config.efficiency_work_mean, seed=seed), loss_every=5)
        out[role] = {"seconds_per_update": r.wall_seconds / len(r.staleness), "losses": r.losses}
    return out


PHASES = {"geometric": _geometric_phase, "natural": _natural_phase, "momentum": _momentum_phase,
          "efficiency": _efficiency_phase}


MODEL = "queue-model"   # the queue model's side (numpy, seeded): deterministic, compared bit for bit


def model_chunk(config: Config) -> dict:
    """The queue model's predictions the claims compare with: the estimator without asynchrony (M = 1) and the
    simulator's losses for the efficiency phase."""
    return {"synchronous": [float(v) for v in _model_estimates(1, config)],
            "efficiency_losses": {m: v.tolist() for m, v in
                                  _predicted_efficiency(config, sorted(config.efficiency_workers)).items()}}


def agree(config: Config, name: str, committed: dict, again: dict) -> tuple[bool, str]:
    """Whether a recomputed phase confirms the committed one. A phase is timed (real processes): never bit-identical.
    Staleness phases: the two staleness samples agree in law (two-sided Mann-Whitney, p >= 0.001). Momentum: the
    two estimates within 3 SD of their difference (the estimator's SD at the same R under the queue model).
    Efficiency: the time per update within a factor of 2 (another machine's server may be faster or slower; the claim
    reads ratios within one run)."""
    from scipy.stats import mannwhitneyu
    phase = name.partition("-M")[0]
    if name == MODEL:
        return None   # deterministic: the default rules (bits on this kind of machine)
    if phase in ("geometric", "natural"):
        a, b = (c["staleness"] if phase == "geometric" else c["law_stats"]["staleness"] for c in (committed, again))
        p = 1.0 if a == b else float(mannwhitneyu(a, b).pvalue)
        return p >= 0.001, (f"a timed phase (never bit-identical): staleness mean {np.mean(a):.2f} committed vs "
                            f"{np.mean(b):.2f} now, same law by a Mann-Whitney test (p = {p:.3g}; needs >= 0.001)")
    if phase == "momentum":   # the spread of the estimator at this R under the queue model (its repetitions),
        #                       not the halves' (one degree of freedom: a z of 4 from it alone is not rare)
        sd = math.sqrt(2) * max(committed["model_sd"], again["model_sd"]) or 1e-12
        z = abs(committed["mu"] - again["mu"]) / sd
        return z <= 3, (f"a timed phase: measured momentum {committed['mu']:.3f} committed vs {again['mu']:.3f} now "
                        f"(z = {z:.1f} against the estimator's spread at R = {committed['replicas']} under the queue "
                        "model; needs <= 3)")
    ratio = again["measured"]["seconds_per_update"] / committed["measured"]["seconds_per_update"]
    return 0.5 <= ratio <= 2, (f"a timed phase: {again['measured']['seconds_per_update'] * 1e3:.1f} ms per update now "
                               f"vs {committed['measured']['seconds_per_update'] * 1e3:.1f} committed (x{ratio:.2f}; "
                               f"needs 0.5..2)")


def efficiency_summary(config: Config, runs: dict, simulated: dict) -> tuple[dict, float]:
    """HE predicted from the 'prediction' runs' time per update, SE from the simulator; the product against the
    time to target of the separate 'measured' runs. Target: the loss M = 1's measured run reaches at
    efficiency_target_at of its updates."""
    at = int(config.efficiency_target_at * config.efficiency_updates)
    target = min(l for u, l, _ in runs[1]["measured"]["losses"] if u <= at) + 1e-12

    def each(m):  # per schedule: the first logged update at or below the target (None: never)
        return [5 * int(h[0]) if h.size else None for h in (np.flatnonzero(col <= target) for col in simulated[m].T)]

    def sim_updates(m):  # mean over schedules (censored: None)
        hits = each(m)
        return float(np.mean(hits)) if all(h is not None for h in hits) else None

    out = {}
    base_pred, base_meas, base_sim = runs[1]["prediction"], runs[1]["measured"], sim_updates(1)
    base_seconds = next((sec for _, l, sec in base_meas["losses"] if l <= target), None)
    for m, r in runs.items():
        he = r["prediction"]["seconds_per_update"] / base_pred["seconds_per_update"]
        sim = sim_updates(m)
        se = sim / base_sim if sim and base_sim else None
        seconds = next((sec for _, l, sec in r["measured"]["losses"] if l <= target), None)
        out[m] = {"hardware_efficiency": he, "statistical_efficiency": se, "simulated_updates_to_target": sim,
                  "simulated_updates_each": each(m),
                  "predicted_time_ratio": he * se if se else None,
                  "measured_updates_to_target": next((u for u, l, _ in r["measured"]["losses"] if l <= target), None),
                  "measured_seconds_per_update_ratio": (r["measured"]["seconds_per_update"]
                                                        / base_meas["seconds_per_update"]),
                  "measured_time_ratio": seconds / base_seconds if seconds and base_seconds else None}
    return out, target


def summary(config: Config, out: dict) -> dict:
    """What the claims read from every phase: the queue model's predictions beside the measurements (numpy, seeded)."""
    efficiency = {m: out[f"efficiency-M{m}"] for m in config.efficiency_workers}
    model = out[MODEL]
    synchronous = model["synchronous"]  # control: the same estimator when asynchrony adds no momentum
    # the committed chunk's keys are JSON's strings (its format is kept): typed here, where it is read
    simulated = {int(m): np.asarray(v, dtype=float) for m, v in model["efficiency_losses"].items()}
    efficiency, target = efficiency_summary(config, efficiency, simulated)
    return {"geometric": {m: out[f"geometric-M{m}"] for m in config.geometric_workers},
               "natural": out["natural"], "momentum": {m: out[f"momentum-M{m}"] for m in config.momentum_workers},
               "efficiency": efficiency, "efficiency_target_loss": target, "work_mean": config.work_mean,
               "synchronous_model": {"mean": float(np.mean(synchronous)), "sd": float(np.std(synchronous, ddof=1)),
                                     "estimates": [float(v) for v in synchronous]}}


def numbers(config: Config, chunks: dict, payload: dict) -> list[float]:
    if "synchronous" in payload:
        return list(payload["synchronous"])
    return [float(np.mean(payload.get("staleness", [0])))]
