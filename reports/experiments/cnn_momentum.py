"""CNN training under simulated asynchrony: Figs. 3, 4 and 8 (best momentum vs workers, statistical penalty).

cifar10_quick on Fashion-MNIST, the queue of sim.queue (exponential work times), explicit momentum at the store.
Targets: the losses the best synchronous (M = 1) configuration reaches at fixed fractions of the budget, so that
the synchronous best reaches them well inside it. Quick (CPU, about 3 min on 2 cores): width 0.25, batch 32, 12k
images, 2 seeds, M in {1, 2, 4, 8}, targets at 1/10 and 1/5 of the budget (penalties up to 10 and 5 measurable);
the claims about M = 16 are not run at this profile. Full (GPU, paper scale): width 1, batch 128, all 60k images, M in {1, 2, 4, 8, 16},
the paper's momentum grids, 3 seeds. Controls: the M labels reversed; the M = 16 evidence replaced by the
synchronous (M = 1) runs; the naive 'momenta add' prediction in place of the measured best momentum.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from cnn_experiments.data import check_available
from reports.harness.provenance import provenance
from reports.harness.store import Result
from reports.registry import Claim, Control, Experiment, Tolerance, Verdict, with_summary
from theory import predictions

# SPEC.md section 3 (values read from the paper's figures)
PAPER_FIG3_CIFAR = {1: 0.7, 2: 0.6, 4: 0.2, 8: 0.1}
PAPER_FIG3_IMAGENET = {1: 0.6, 2: 0.6, 4: 0.6, 8: 0.6, 16: 0.3, 32: 0.0}
PAPER_FIG4 = {"fixed_0.9": {1: 2, 2: 2, 4: 2, 8: 3, 16: 16}, "non_negative": {1: 1, 2: 1, 4: 2, 8: 2, 16: 6},
              "any_sign": {1: 1, 2: 1, 4: 2, 8: 2, 16: 3}}
PAPER_FIG4_CHOSEN = {1: 0.675, 2: 0.45, 4: 0.225, 8: 0.0, 16: -0.675}
FULL_MU = tuple(sorted({round(-0.9 + 0.225 * i, 3) for i in range(9)} | {round(0.1 * i, 1) for i in range(10)}))


@dataclass(frozen=True)
class Config:
    dataset: str = "fashion_mnist"
    data_dir: str = ""
    n_train: int = 12_000
    n_eval: int = 512
    batch_size: int = 32
    width: float = 0.25
    workers: tuple = (1, 2, 4, 8)         # M = 16 needs a budget and a step grid that scale with M (issue 10)
    mu_grid: tuple = (-0.45, 0.0, 0.45, 0.9)
    lr_grid: tuple = (0.03, 0.1, 0.3)
    seeds: tuple = (0, 1)
    budget: int = 400
    eval_every: int = 10
    target_fractions: tuple = (0.1, 0.2)
    probe_workers: tuple = (1, 4, 16)
    probe_replicas: int = 8
    probe_steps: int = 20
    probe_examples: int = 128
    probe_lr: float = 0.1
    max_batch: int = 48
    work_time: str = "exponential"
    device: str = "auto"

    def validate(self) -> None:
        if self.dataset not in ("fashion_mnist", "cifar10"):
            raise ValueError(f"dataset must be fashion_mnist or cifar10, got {self.dataset!r}")
        if self.work_time not in ("exponential", "gamma", "constant", "lognormal"):
            raise ValueError(f"work_time must be exponential, gamma, constant or lognormal, got {self.work_time!r}")
        if not (self.device in ("auto", "cpu", "cuda") or
                (self.device.startswith("cuda:") and self.device[5:].isdigit())):
            raise ValueError(f"device must be auto, cpu, cuda or cuda:N, got {self.device!r}")
        if not (self.workers and self.mu_grid and self.lr_grid and self.target_fractions and self.probe_workers):
            raise ValueError("workers, mu_grid, lr_grid, target_fractions and probe_workers must be non-empty")
        if not (1 <= self.batch_size <= 4096 and 100 <= self.n_train <= 10 ** 6 and 1 <= self.n_eval <= 10 ** 5
                and 0 < self.width <= 4 and self.eval_every >= 1 and self.max_batch >= 1):
            raise ValueError("batch_size must be in 1..4096, n_train in 100..10^6, n_eval in 1..10^5, width in "
                             "(0, 4], eval_every and max_batch >= 1")
        if any(not 0 < f < 1 for f in self.target_fractions):
            raise ValueError("target_fractions must lie in (0, 1)")
        if min(self.workers) < 1 or 1 not in self.workers:
            raise ValueError("workers must be >= 1 and include 1 (the synchronous baseline)")
        if any(not -1 < mu < 1 for mu in self.mu_grid):
            raise ValueError("every momentum in mu_grid must be in (-1, 1)")
        if any(not lr > 0 for lr in self.lr_grid) or self.budget < 2 * self.eval_every:
            raise ValueError("lr_grid must be positive and budget >= 2 eval_every")
        if max(self.workers) > 1024 or self.budget > 10 ** 6 or not self.seeds:
            raise ValueError("workers must be <= 1024, budget <= 10^6 updates, and seeds non-empty")


PROFILES = {"quick": Config(),
            "full": Config(n_train=60_000, n_eval=2048, batch_size=128, width=1.0, workers=(1, 2, 4, 8, 16),
                           mu_grid=FULL_MU, lr_grid=(0.003, 0.01, 0.03, 0.1, 0.3), seeds=(0, 1, 2), budget=2000,
                           eval_every=25, target_fractions=(0.0625, 0.125),
                           probe_replicas=64, probe_steps=100, probe_examples=2048, max_batch=256)}


def _device(name: str):
    import torch
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _targets(config: Config, sync_runs: list[dict]) -> dict:
    """Loss targets: what the best synchronous configuration (mean over seeds) reaches at the budget fractions."""
    steps = np.array(sync_runs[0]["eval_steps"])
    curves = {}
    for run_ in sync_runs:
        curve = np.full(steps.size, np.inf)
        losses = _losses(run_)
        curve[:len(losses)] = [l if math.isfinite(l) and not run_["diverged"] else np.inf for l in losses]
        curves.setdefault((run_["mu_explicit"], run_["lr"]), []).append(curve)
    mean_curves = np.array([np.mean(c, axis=0) for c in curves.values()])
    out = {}
    for i, frac in enumerate(config.target_fractions):
        at = int(np.argmin(np.abs(steps - frac * config.budget)))
        out[f"target_{i + 1}"] = float(mean_curves[:, at].min()) + 1e-9
    return out


def _first_reach(steps, losses, target) -> int | None:
    for s, l in zip(steps, losses):
        if math.isfinite(l) and l <= target:
            return int(s)
    return None


def _finite_or_none(values) -> list:
    return [float(v) if math.isfinite(v) else None for v in values]


def _chunk_payload(records, target_values=()) -> dict:
    """A chunk's runs as plain JSON: losses with non-finite values as None, targets reached in target order."""
    return {"runs": [{"n_workers": r.spec.n_workers, "mu_explicit": r.spec.mu_explicit, "lr": r.spec.lr,
                      "seed": r.spec.seed, "eval_steps": [int(t) for t in r.eval_steps],
                      "losses": _finite_or_none(r.losses), "diverged": bool(r.diverged), "updates": int(r.updates),
                      "reached": [r.reached.get(v) for v in target_values]} for r in records]}


def _losses(run: dict) -> list[float]:
    return [math.nan if v is None else v for v in run["losses"]]


def chunks_of(config: Config) -> list[tuple[str, list]]:
    """The sweep's chunks, in order: the synchronous runs of each seed (they set the targets), then one chunk per
    (M, seed) for M > 1 (every configuration of a seed shares its start, mini-batches and queue: paired)."""
    from cnn_experiments.train import RunSpec
    grid = [(mu, lr) for mu in config.mu_grid for lr in config.lr_grid]
    out = [(f"M1-seed{seed}", [RunSpec(1, mu, lr, seed) for mu, lr in grid]) for seed in config.seeds]
    out += [(f"M{m}-seed{seed}", [RunSpec(m, mu, lr, seed) for mu, lr in grid])
            for m in config.workers if m > 1 for seed in config.seeds]
    return out


def run(config: Config, checkpoint=None, progress: bool = True) -> Result:
    """The sweep, chunk by chunk (see chunks_of); `checkpoint` (reports.harness.checkpoint) stores each chunk as it
    finishes so that a killed or time-limited run resumes where it stopped."""
    import torch
    from tqdm import tqdm

    from cnn_experiments import analysis, probe
    from cnn_experiments.data import load
    from cnn_experiments.train import Data, Settings, train
    from reports.harness.checkpoint import Memory

    checkpoint = checkpoint or Memory()
    start = time.time()
    torch.manual_seed(0)
    device = _device(config.device)
    data = Data(load(config.dataset, config.data_dir or None), config.n_train, config.n_eval, device)
    settings = Settings(batch_size=config.batch_size, budget=config.budget, eval_every=config.eval_every,
                        n_eval=config.n_eval, width=config.width, work_time=config.work_time,
                        max_batch=config.max_batch)
    plan = chunks_of(config)
    total = len(plan) + 1  # and the probes
    bar = tqdm(total=sum(len(specs) for _, specs in plan), desc="cnn runs", unit="run", disable=not progress,
               mininterval=2)
    stored, targets = {}, None
    for done, (name, specs) in enumerate(plan):
        if targets is None and not name.startswith("M1-"):
            targets = _targets(config, [run for n, _ in plan if n.startswith("M1-") for run in stored[n]["runs"]])
        chunk = checkpoint.get(name)
        if chunk is None:
            checkpoint.check_deadline(done, total)
            values = tuple(targets.values()) if targets else ()
            records = train(specs, data, Settings(**{**settings.__dict__, "targets": values}), progress=bar.update)
            chunk = _chunk_payload(records, values)
            checkpoint.put(name, chunk)
        else:
            bar.update(len(specs))
        stored[name] = chunk
    bar.close()
    if targets is None:  # only synchronous runs in this config
        targets = _targets(config, [run for n, _ in plan for run in stored[n]["runs"]])
    rows, curves = [], []
    for name, _ in plan:
        for run_ in stored[name]["runs"]:
            losses = _losses(run_)
            if run_["n_workers"] == 1:
                reached = {t: _first_reach(run_["eval_steps"], losses, v) for t, v in targets.items()}
            else:
                reached = dict(zip(targets, run_["reached"]))
            rows.append({"n_workers": run_["n_workers"], "mu_explicit": run_["mu_explicit"], "lr": run_["lr"],
                         "seed": run_["seed"], "reached": reached, "diverged": run_["diverged"],
                         "updates": run_["updates"]})
            curves.append(losses)
    steps = np.array(stored[plan[0][0]]["runs"][0]["eval_steps"])
    curves_out = np.full((len(curves), steps.size), np.nan)
    for i, losses in enumerate(curves):
        curves_out[i, :len(losses)] = losses
    probes = checkpoint.get("probes")
    if probes is None:
        checkpoint.check_deadline(len(plan), total)
        probes = {"probes": [probe.measure(data, settings, m, config.probe_lr, config.probe_replicas,
                                           config.probe_steps, n_examples=config.probe_examples)
                             for m in config.probe_workers]}
        checkpoint.put("probes", probes)
    probes = probes["probes"]
    summaries = {name: analysis.summarise(rows, name, list(config.workers)) for name in targets}
    summary = {"targets": targets, "target_fractions": list(config.target_fractions), "summaries": summaries,
               "runs": rows, "probes": probes, "workers": list(config.workers), "mu_grid": list(config.mu_grid),
               "grid_step": float(np.diff(sorted(config.mu_grid)).max()) if len(config.mu_grid) > 1 else 0.0,
               "dataset": config.dataset, "device": str(device)}
    return Result(summary=summary, arrays={"curves": curves_out, "eval_steps": steps},
                  provenance=provenance({"seeds": list(config.seeds), "chunks": total}, time.time() - start))


# ------------------------------------------------------------------ checks ----------------------------------

FALL = 0.3  # Fig. 3: the best momentum falls by at least this much from M = 1 to the largest M


def _best(result: Result, target: str) -> dict:
    per = result.summary["summaries"][target]["per_workers"]
    return {int(m): e.get("any_sign", {}).get("mu_explicit") for m, e in per.items()}


def _momentum_falls(result: Result, tol: Tolerance) -> Verdict:
    step, ok, rows, values = result.summary["grid_step"], True, [], {}
    for target in result.summary["targets"]:
        best = _best(result, target)
        ms = sorted(best)
        series = [best[m] for m in ms]
        values.update({f"{target},M={m}": v for m, v in zip(ms, series)})
        if any(v is None for v in series):
            ok = False
            rows.append(f"{target}: some M never reached the target ({best})")
            continue
        ups = [(a, b) for a, b in zip(series, series[1:]) if b > a + 1e-9]
        fine = len(ups) <= tol.value and all(b - a <= step + 1e-9 for a, b in ups) and series[-1] <= series[0] - FALL + 1e-9
        ok &= fine
        rows.append(f"{target}: " + ", ".join(f"M={m}: {v:+.3f}" for m, v in zip(ms, series)))
    return Verdict(ok, f"best mu_L non-increasing in M ({tol.value:g} violation of one grid step allowed) and "
                   f"mu*(M_max) <= mu*(1) - {FALL}, at both targets", "; ".join(rows), values)


AT_WORKERS = 16  # Figs. 4 and 8 make these claims at 16 groups


def _penalty(result: Result, target: str, name: str) -> float:
    per = result.summary["summaries"][target]["per_workers"][str(AT_WORKERS)]
    value = per.get(name, {}).get("penalty")
    return math.inf if value is None else value  # stored JSON has null for "never reached"


def _not_at_16(result: Result) -> Verdict | None:
    if AT_WORKERS not in result.summary["workers"]:
        return Verdict(None, f"a verdict at M={AT_WORKERS}", f"this profile trains M in {result.summary['workers']}: "
                       f"no M={AT_WORKERS} runs, so the claim is not run (the full profile has them)")
    return None


def _fixed_penalty(result: Result, tol: Tolerance) -> Verdict:
    if (skip := _not_at_16(result)) is not None:
        return skip
    ok, rows, values = True, [], {}
    for target in result.summary["targets"]:
        fixed, tuned = _penalty(result, target, "fixed_0.9"), _penalty(result, target, "non_negative")
        ok &= math.isfinite(tuned) and fixed >= tol.value * tuned
        values.update({f"{target},fixed_0.9": fixed, f"{target},non_negative": tuned})
        rows.append(f"{target}: fixed 0.9 penalty {fixed:.2f}, tuned non-negative {tuned:.2f}"
                    + (" (fixed never reached the target)" if not math.isfinite(fixed) else ""))
    return Verdict(ok, f"at M={AT_WORKERS}: penalty(mu_L = 0.9) >= {tol.value:g} x penalty(tuned mu_L >= 0), both "
                   "targets", "; ".join(rows), values)


def _negative_helps(result: Result, tol: Tolerance) -> Verdict:
    if (skip := _not_at_16(result)) is not None:
        return skip
    ok, rows, values = True, [], {}
    for target in result.summary["targets"]:
        per = result.summary["summaries"][target]["per_workers"][str(AT_WORKERS)]
        chosen = per.get("any_sign", {}).get("mu_explicit")
        anyp, nonneg = _penalty(result, target, "any_sign"), _penalty(result, target, "non_negative")
        ok &= chosen is not None and chosen < 0 and nonneg > tol.value * anyp
        values.update({f"{target},chosen_mu_explicit": chosen, f"{target},any_sign": anyp,
                       f"{target},non_negative": nonneg})
        rows.append(f"{target}: chosen mu_L {chosen}, penalty {anyp:.2f} vs non-negative {nonneg:.2f}")
    return Verdict(ok, f"at M={AT_WORKERS}: tuning over negative values picks mu_L < 0 and lowers the penalty (ratio "
                   f"> {tol.value:g})", "; ".join(rows), values)


def _measured_grows(result: Result, tol: Tolerance) -> Verdict:
    probes = sorted(result.summary["probes"], key=lambda p: p["n_workers"])
    series = [p["mu"] for p in probes]
    grows = all(b > a + tol.value for a, b in zip(series, series[1:]))
    return Verdict(grows, "measured total momentum increases with M",
                   ", ".join(f"M={p['n_workers']}: {p['mu']:.3f} +- {p.get('mu_se', math.nan):.3f} (1 - 1/M = "
                             f"{predictions.implicit_momentum(p['n_workers']):.3f})" for p in probes)
                   + f" (mean of {probes[0]['n_replicas']} runs each; SE from two halves of the runs; the value at "
                   "M = 1, where the truth is 0, is the estimator's bias at this size)",
                   {f"M={p['n_workers']}": p["mu"] for p in probes}
                   | {f"M={p['n_workers']},se": p.get("mu_se", math.nan) for p in probes})


def _magnitude(result: Result, tol: Tolerance) -> Verdict:
    rows, gaps, values = [], [], {}
    for target in result.summary["targets"]:
        best = _best(result, target)
        if best.get(1) is None:
            rows.append(f"{target}: M=1 never reached")
            continue
        for m in sorted(best):
            if m > 1 and best[m] is not None:
                predicted = best[1] - predictions.implicit_momentum(m)
                gaps.append(best[m] - predicted)
                values[f"{target},M={m},gap"] = best[m] - predicted
                rows.append(f"{target}, M={m}: best {best[m]:+.3f} vs mu*(1) - (1 - 1/M) = {predicted:+.3f}")
    step = result.summary["grid_step"]
    confirmed = bool(gaps) and max(gaps) > tol.value * step
    return Verdict(confirmed, f"best mu_L above mu*(1) - (1 - 1/M) by more than {tol.value:g} grid step at some M",
                   "; ".join(rows), values)


def _map_summaries(result: Result, per_workers) -> Result:
    """Control evidence: each target's per-M summary rewritten by `per_workers(per) -> per`."""
    summaries = {t: {**v, "per_workers": per_workers(v["per_workers"])} for t, v in result.summary["summaries"].items()}
    return with_summary(result, summaries=summaries)


def _reversed(per: dict) -> dict:
    ms = sorted(per, key=int)
    return {m: per[n] for m, n in zip(ms, reversed(ms))}


def _synchronous_at_16(per: dict) -> dict:
    return {**per, str(AT_WORKERS): per["1"]} if str(AT_WORKERS) in per else per


def _naive_prediction(result: Result) -> Result:
    def rewrite(per: dict) -> dict:
        base = per["1"].get("any_sign", {}).get("mu_explicit")
        if base is None:
            return per
        return {m: {**e, "any_sign": {**e.get("any_sign", {}), "mu_explicit": base - predictions.implicit_momentum(int(m))
                                      if int(m) > 1 else base}} for m, e in per.items()}
    return _map_summaries(result, rewrite)


WHY_GRID = "the momentum grid is discrete and each score is a mean over the profile's seeds"
NO_ASYNCHRONY = Control("synchronous-at-16", "no asynchrony: the M = 16 evidence replaced by the M = 1 runs",
                        lambda r: _map_summaries(r, _synchronous_at_16))
CLAIMS = (
    Claim("cnn-best-momentum-falls", "Fig. 3", "Training cifar10_quick under simulated asynchrony, the explicit "
          f"momentum with the best statistical efficiency falls as the number of workers grows, by at least {FALL} "
          "from M = 1 to the largest M.", "cnn", _momentum_falls, Tolerance(1, "count", WHY_GRID),
          (Control("M-labels-reversed", "the same tuned results with the M labels reversed",
                   lambda r: _map_summaries(r, _reversed)),), figure="cnn_best_momentum"),
    Claim("cnn-fixed-momentum-penalty", "Figs. 4 and 8", "At M = 16, keeping momentum at 0.9 costs at least "
          "1.5x the iterations of momentum tuned over non-negative values.", "cnn", _fixed_penalty,
          Tolerance(1.5, "ratio", WHY_GRID), (NO_ASYNCHRONY,), figure="cnn_penalty"),
    Claim("cnn-negative-momentum", "Fig. 8", "At M = 16, tuning over negative values too picks a negative "
          "momentum and lowers the penalty further.", "cnn", _negative_helps,
          Tolerance(1.0, "ratio", "strictly lower: " + WHY_GRID), (NO_ASYNCHRONY,), figure="cnn_penalty"),
    Claim("cnn-measured-momentum-grows", "Theorem 5 on a CNN", "The total momentum measured from CNN training "
          "trajectories (two-term fit on the mean of runs from one initial point) grows with M.", "cnn",
          _measured_grows, Tolerance(0, "absolute", "the fit is on a Monte Carlo mean of a few runs; only the strict "
                                     "order is claimed"),
          (Control("M-labels-reversed", "the probes with their M labels reversed",
                   lambda r: with_summary(r, probes=[{**p, "n_workers": q["n_workers"]} for p, q in zip(
                       r.summary["probes"], reversed(r.summary["probes"]))])),), figure="cnn_loss"),
    Claim("cnn-momentum-magnitude", "Fig. 3 vs Theorem 5 (SPEC.md note)", "Beside finding-cnn-momentum-magnitude "
          "(decided on the paper's Fig. 3): in our CNN too the best explicit momentum does not fall as fast as "
          "mu*(1) - (1 - 1/M), the naive 'momenta add' prediction.", "cnn",
          _magnitude, Tolerance(1, "grid steps", WHY_GRID),
          (Control("naive-prediction-holds", "the best momentum exactly as mu*(1) - (1 - 1/M) predicts",
                   _naive_prediction),), figure="cnn_best_momentum"),
)


def figures(result: Result) -> dict:
    import matplotlib.pyplot as plt
    s = result.summary
    out = {}
    fig, ax = plt.subplots(figsize=(6, 4))
    for target in s["targets"]:
        best = _best(result, target)
        ms = [m for m in sorted(best) if best[m] is not None]
        ax.plot(ms, [best[m] for m in ms], "o-", label=f"ours, {target} (loss {s['targets'][target]:.3f})")
    ax.plot(list(PAPER_FIG3_CIFAR), list(PAPER_FIG3_CIFAR.values()), "s--", label="paper Fig. 3, CIFAR-10")
    ax.plot(list(PAPER_FIG3_IMAGENET), list(PAPER_FIG3_IMAGENET.values()), "^--", label="paper Fig. 3, ImageNet")
    ax.plot(list(PAPER_FIG4_CHOSEN), list(PAPER_FIG4_CHOSEN.values()), "x:", label="paper Fig. 8, chosen")
    ax.set(xscale="log", xlabel="workers M", ylabel=r"best explicit momentum $\mu_L$",
           title=f"Best momentum vs workers ({s['dataset']}, {s['device']})")
    ax.legend(fontsize=7)
    out["cnn_best_momentum"] = fig
    fig, axes = plt.subplots(1, len(s["targets"]), figsize=(5 * len(s["targets"]), 3.6), squeeze=False)
    for ax, target in zip(axes[0], s["targets"]):
        per = s["summaries"][target]["per_workers"]
        ms = sorted(int(m) for m in per)
        for name in ("fixed_0.9", "non_negative", "any_sign"):
            ys = [per[str(m)].get(name, {}).get("penalty") for m in ms]
            never = [m for m, y in zip(ms, ys) if y is None or not math.isfinite(y)]
            ys = [y if y is not None and math.isfinite(y) else np.nan for y in ys]
            line, = ax.plot(ms, ys, "o-", label=f"ours: {name}")
            if never:  # censored: the target was never reached within the budget
                top = 1.3 * np.nanmax([v for v in ys if v is not None] + [1.0])
                ax.plot(never, [top] * len(never), "^", color=line.get_color(), label=f"ours: {name}, never reached")
            ax.plot(list(PAPER_FIG4[name]), list(PAPER_FIG4[name].values()), ":", color=line.get_color(),
                    label=f"paper: {name}")
        ax.set(xscale="log", yscale="log", xlabel="workers M", ylabel="penalty (iterations / best at M=1)",
               title=target)
        ax.legend(fontsize=6)
    fig.tight_layout()
    out["cnn_penalty"] = fig
    fig, ax = plt.subplots(figsize=(6, 4))
    steps = result.arrays["eval_steps"]
    lrs = sorted({r["lr"] for r in s["runs"]})
    shown_lr, first_seed = lrs[len(lrs) // 2], min(r["seed"] for r in s["runs"])  # a one-point grid works too
    for i, row in enumerate(s["runs"]):
        if row["seed"] == first_seed and row["lr"] == shown_lr and row["mu_explicit"] in (0.0, 0.9):
            ax.plot(steps, result.arrays["curves"][i], label=f"M={row['n_workers']}, mu_L={row['mu_explicit']}")
    for name, value in s["targets"].items():
        ax.axhline(value, color="gray", ls=":", lw=0.8)
    ax.set(xlabel="update", ylabel="training loss (fixed subset)", title="Loss curves (dotted: targets)")
    ax.legend(fontsize=6)
    out["cnn_loss"] = fig
    return out


EXPERIMENT = Experiment(
    name="cnn_momentum", kind="cnn", version=5, config=Config, profiles=PROFILES,
    smoke=Config(n_train=256, n_eval=64, batch_size=8, width=0.125, workers=(1, 2), mu_grid=(0.0, 0.9),
                 lr_grid=(0.1,), seeds=(0,), budget=20, eval_every=5, probe_workers=(1, 2), probe_replicas=2,
                 probe_steps=4, probe_examples=16, max_batch=16),
    run=run, figures=figures, claims=CLAIMS, needs_gpu=("full",), slow=True, resumable=True,
    preflight=lambda config: check_available(config.dataset, config.data_dir or None))
