"""The experiment's figures, from the stored Result only."""
from __future__ import annotations

import math
import numpy as np
from reports.harness.store import Result
from theory import predictions


def figures(result: Result) -> dict:
    import matplotlib.pyplot as plt
    s = result.summary
    out = {}
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for m, v in s["per_workers"].items():
        line, = ax.plot(v["counts"], v["estimates"], label=f"M={m}: estimate")
        ax.axhline(predictions.implicit_momentum(m), color=line.get_color(), ls=":", lw=0.8)
    ax.set(xlabel="updates logged", ylabel=r"estimated $\mu_S$", title="System-side estimate vs 1 - 1/M (dotted)")
    ax.legend(fontsize=7)
    out["compensation_estimates"] = fig
    fig, ax = plt.subplots(figsize=(6, 3.8))
    ms = sorted(s["per_workers"])
    for name in ("oracle", "closed_loop", "first_order", "fixed_0.9", "no_compensation"):
        ys = [s["per_workers"][m][name]["updates"] for m in ms]
        ax.plot(ms, [np.nan if y is None else y for y in ys], "o-", label=name + (" (diverges where absent)" if
                                                                               None in ys else ""))
    ax.axhline(s["synchronous"]["updates"], color="gray", ls=":", label="synchronous (M = 1), tuned")
    ax.set(xscale="log", yscale="log", xlabel="workers M", ylabel="updates to shrink the error by 1e-3",
           title=f"Strategies on the quadratic model (Omnivore: M={s['omnivore']['n_workers']})")
    ax.legend(fontsize=7)
    out["compensation_updates"] = fig
    if "logreg" in s:
        fig, ax = plt.subplots(figsize=(6, 3.8))
        per = s["logreg"]["per_workers"]
        ms = sorted(per)
        for name in ("oracle", "closed_loop", "closed_loop_theorem7_step", "closed_loop_delay_step", "fixed_0.9",
                     "no_compensation"):
            ys = [per[m][name]["updates"] for m in ms]
            ax.plot(ms, [np.nan if y is None or y == math.inf else y for y in ys], "o-", label=name)
        ax.axhline(s["logreg"]["synchronous"]["updates"], color="gray", ls=":", label="synchronous (M = 1), tuned")
        ax.set(xscale="log", yscale="log", xlabel="workers M", ylabel="updates to ||w - w*|| <= 1e-2 ||w*||",
               title="Logistic regression under the queue (absent: not reached / diverged)")
        ax.legend(fontsize=6)
        out["compensation_logreg"] = fig
    est = s.get("estimators", {})
    panels = [law for law in ("exponential", "constant") if any(v["law"] == law for v in est.values())]
    if panels:
        fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), sharey=True, squeeze=False)
        for ax, law in zip(axes[0], panels):
            for v in (v for v in est.values() if v["law"] == law and v["n_workers"] in (2, 8, 16)):
                line, = ax.plot(v["counts"], v["system_law"], label=f"M={v['n_workers']}: staleness law")
                ax.plot(v["trajectory_counts"], v["yellowfin_effective_step"], "--", color=line.get_color(),
                        label="YellowFin (step alpha(1 - mu_S))")
                ax.plot(v["trajectory_counts"], v["iv"], ":", color=line.get_color(), label="IV fit")
                ax.axhline(v["truth"], color=line.get_color(), lw=0.6, alpha=0.6)
            ax.set(xlabel="updates logged", title=f"{law} work times (thin: truth)", ylim=(-0.2, 1.2))
        axes[0][0].set_ylabel("estimated implicit momentum")
        axes[0][0].legend(fontsize=6)
        out["compensation_trajectory_estimates"] = fig
    return out
