"""The CNN figures, drawn from the stored Result only: the lead figure (best momentum and measured momentum vs M,
beside the paper's Fig. 3), the penalties of Figs. 4 and 8, Fig. 5's warm start, and the landscape that shows
where the optimum sits on the (mu_L, alpha) grid."""
from __future__ import annotations

import numpy as np

from cnn_experiments import analysis
from cnn_experiments import claim_stats as S
from cnn_experiments import momentum_views as E
from cnn_experiments.momentum_views import Result
from theory import predictions

STYLE = {"decision": ("o-", 0.97), "replication": ("s--", 1.03)}


def _interval_plot(ax, ms, triples, label, style):
    fmt, shift = style
    mean = np.array([t[0] for t in triples])
    low, high = np.array([t[1] for t in triples]), np.array([t[2] for t in triples])
    ax.errorbar(np.asarray(ms) * shift, mean, yerr=[mean - low, high - mean], fmt=fmt, capsize=3, label=label)


def lead(result: Result):
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for which in E.sets_present(result):
        ev = E.grid(result, which)
        best = S.matched_best(ev, tuple(result.summary["lr_grid"]))
        _interval_plot(left, ev.workers, [best[m] for m in ev.workers],
                       f"ours at matched effective step, {which} seeds (n = {ev.n_seeds}), 95% t interval",
                       STYLE[which])
        vertex = S.best_momentum(ev)
        left.plot(np.asarray(ev.workers) * STYLE[which][1], [vertex[m][0] for m in ev.workers], ".", color="gray",
                  label=f"ours, vertex over tuned steps ({which}; depends on the grid's phase)")
        probes = E.probes(result, which)
        ms = np.array([p["n_workers"] for p in probes])
        right.errorbar(ms * STYLE[which][1], [p["mu"] for p in probes], yerr=[2 * p["mu_se"] for p in probes],
                       fmt=STYLE[which][0][0], capsize=3, label=f"ours, {which} start: corrected fit, +-2 SE")
    for table, fmt, label in ((S.PAPER_FIG3_CIFAR, "^:", "paper Fig. 3, CIFAR-10 (read)"),
                              (S.PAPER_FIG3_IMAGENET, "v:", "paper Fig. 3, ImageNet (read)"),
                              (S.PAPER_FIG8_CHOSEN, "x:", "paper Fig. 8, chosen (read)")):
        left.plot(list(table), list(table.values()), fmt, label=label)
    ms = range(1, max(result.summary["workers"]) + 1)
    right.plot(ms, [predictions.implicit_momentum(m) for m in ms], "-", color="gray", label="1 - 1/M (Theorem 5)")
    left.set(xscale="log", xlabel="workers M", ylabel=r"best explicit momentum $\mu_L$",
             title=f"Best momentum vs M (target {result.summary['targets'][-1]:.3f})")
    right.set(xscale="log", xlabel="workers M", ylabel="measured total momentum",
              title="Momentum measured on the CNN")
    for ax in (left, right):
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def penalties(result: Result):
    import matplotlib.pyplot as plt
    ev = E.grid(result, "decision")
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for k, name in enumerate(("fixed_0.9", "non_negative", "any_sign")):
        triples = [S.geometric(S.penalty(ev, m, name)) for m in ev.workers]
        line = ax.errorbar(np.asarray(ev.workers) * (0.95 + 0.05 * k), [t[0] for t in triples],
                           yerr=[[t[0] - t[1] for t in triples], [t[2] - t[0] for t in triples]], fmt="o-",
                           capsize=2, label=f"ours: {name} (decision seeds)")
        ax.plot(list(S.PAPER_FIG4[name]), list(S.PAPER_FIG4[name].values()), ":",
                color=line.lines[0].get_color(), label=f"paper Figs. 4/8: {name} (read)")
    ax.set(xscale="log", yscale="log", xlabel="workers M", ylabel="penalty (updates / best at M = 1)",
           title=f"Statistical penalty at the last target ({result.summary['targets'][-1]:.3f})")
    ax.legend(fontsize=6)
    return fig


def warm(result: Result):
    import matplotlib.pyplot as plt
    fig, (ax, across) = plt.subplots(1, 2, figsize=(11, 3.9))
    trace = E.warm_trace(result, "decision")
    if trace is not None:
        at = result.summary["warm"]["trace_updates"]
        for m in trace.workers[1:]:
            across.plot(at, [S.geometric(S.penalty(trace, m, t=k))[0] for k in range(len(at))], "o-",
                        label=f"M = {m} (decision seeds)")
        across.axhline(1.2, color="gray", ls=":", lw=0.8)
        across.set(xlabel="target: the best M = 1 loss this many updates after the warm-up", yscale="log",
                   ylabel="penalty (tuned momentum)", title="Across targets (shown, not deciding)")
        across.legend(fontsize=6)
    cold = E.cold_as_warm(result)
    for which in E.sets_present(result):
        for label, res, fmt in (("warm start", result, "o-"), ("cold start", cold, "s--")):
            ev = E.warm(res, which)
            triples = [S.geometric(S.penalty(ev, m)) for m in ev.workers]
            ax.plot(ev.workers, [t[0] for t in triples], fmt, label=f"ours: {label}, {which} seeds")
    ax.plot(list(S.PAPER_FIG5_WARM), list(S.PAPER_FIG5_WARM.values()), "x:", label="paper Fig. 5, warm (read)")
    ax.axhline(1.2, color="gray", ls=":", lw=0.8)
    ax.set(xscale="log", yscale="log", xlabel="workers M", ylabel="penalty (tuned momentum)",
           title=f"After {result.summary['warm']['warm_updates']} synchronous updates")
    ax.legend(fontsize=6)
    return fig


def landscape(result: Result):
    """Mean log time to the last target over (mu_L, alpha) per M, the best alpha per mu_L marked: where the
    optimum sits on the grid (interior or at its edge)."""
    import matplotlib.pyplot as plt
    ev = E.grid(result, "decision")
    s = result.summary
    fig, axes = plt.subplots(1, len(ev.workers), figsize=(3.0 * len(ev.workers), 3.4), squeeze=False)
    score, _ = analysis.scores(ev)
    _, step = analysis.best_per_momentum(ev)
    for j, (ax, m) in enumerate(zip(axes[0], ev.workers)):
        z = np.log(score[-1, j, :, :, 0])
        ax.imshow(z, origin="lower", aspect="auto", cmap="viridis")
        ax.plot(step[-1, j, :, 0], range(len(ev.mu_grid)), "w.-")
        best = np.unravel_index(np.argmin(z), z.shape)
        ax.plot(best[1], best[0], "r*", ms=12)
        ax.set_xticks(range(len(s["lr_grid"])), [f"{v:g}" for v in s["lr_grid"]], rotation=60, fontsize=6)
        ax.set_yticks(range(len(ev.mu_grid)), [f"{v:+.2f}" for v in ev.mu_grid], fontsize=6)
        ax.set_title(f"M = {m}", fontsize=8)
        ax.set_xlabel("alpha", fontsize=7)
    axes[0][0].set_ylabel("mu_L", fontsize=7)
    fig.suptitle("log mean updates to the last target (white: best alpha per mu_L; red: the optimum)", fontsize=8)
    fig.tight_layout()
    return fig


def figures(result: Result) -> dict:
    from cnn_experiments import loop_checks
    loop = loop_checks.figure(result)
    return {"cnn_best_momentum": lead(result), "cnn_penalty": penalties(result), "cnn_warm": warm(result),
            "cnn_landscape": landscape(result)} | ({"cnn_closed_loop": loop} if loop is not None else {})


def edges(result: Result) -> dict:
    """Per M: whether the best configuration's alpha or mu_L sits at the grid's edge (decision seeds)."""
    ev = E.grid(result, "decision")
    out = {}
    _, step = analysis.best_per_momentum(ev)
    for j, m in enumerate(ev.workers):
        _, chosen = analysis.strategy(ev, "any_sign")
        i = list(ev.mu_grid).index(float(chosen[-1, j, 0]))
        k = int(step[-1, j, i, 0])
        out[m] = {"mu_edge": i in (0, len(ev.mu_grid) - 1), "lr_edge": k in (0, ev.times.shape[3] - 1)}
    return out

