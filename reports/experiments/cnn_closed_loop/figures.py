"""The closed loop against the per-M oracle: updates to the last target per M, and the momentum each chose."""
from __future__ import annotations

import numpy as np

from cnn_experiments import analysis
from reports.experiments.cnn_closed_loop.claims import loop_scores
from cnn_experiments.closed_loop_chunks import NO_COMPENSATION, evidence
from reports.harness.store import Result
from theory import predictions


def figures(result: Result) -> dict:
    import matplotlib.pyplot as plt
    ev, loop = evidence(result), result.summary["closed_loop"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.9))
    ms, t = np.asarray(loop["workers"]), ev.times.shape[0] - 1
    grid_ms = [list(ev.workers).index(m) for m in ms]
    for name in ("any_sign", "fixed_0.9"):
        left.plot(ms, analysis.strategy(ev, name)[0][t, grid_ms, 0], "o-" if name == "any_sign" else "s:",
                  label="oracle (grid best at each M)" if name == "any_sign" else "mu_L = 0.9, step tuned")
    scores = loop_scores(result)[t, :, :, 0]
    for k, name in enumerate(loop["strategies"]):
        left.plot(ms, scores[:, k], "^--" if name == NO_COMPENSATION else "D-", label=name.replace("_", " "))
        if name != NO_COMPENSATION:
            right.plot(ms, [loop["final"][m][name]["mu_explicit"] for m in ms], "D-",
                       label=f"{name.replace('_', ' ')}: mu_L at its last update")
    left.axhline(loop["budget"], color="gray", ls=":", lw=0.8, label="budget (censored)")
    left.set(xscale="log", yscale="log", xlabel="workers M", ylabel="updates to the target (mean over seeds)",
             title=f"Closed loop vs the per-M oracle, target {t + 1}")
    left.legend(fontsize=7)
    right.plot(ms, analysis.strategy(ev, "any_sign")[1][t, grid_ms, 0], "o-", label="oracle's mu_L")
    right.plot(ms, [np.clip(loop["mu_sync"] - predictions.implicit_momentum(m), -0.9, 0.9) for m in ms],
               color="gray", label="mu_sync - mu_S (first order)")
    right.set(xscale="log", xlabel="workers M", ylabel=r"explicit momentum $\mu_L$",
              title=f"Tuned once at M = 1: mu_L {loop['mu_sync']:+.3f}, step {loop['step_sync']:g}")
    right.legend(fontsize=7)
    for ax in (left, right):
        ax.set_xticks(ms, [str(m) for m in ms])
        ax.tick_params(axis="x", which="minor", bottom=False, labelbottom=False)
    fig.tight_layout()
    return {"cnn_closed_loop": fig}
