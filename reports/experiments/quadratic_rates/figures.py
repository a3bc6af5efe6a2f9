"""The experiment's figures, from the stored Result only."""
from __future__ import annotations
import numpy as np
from reports.harness.store import Result
from reports.experiments.quadratic_rates.config import PAPER_FIG6, PAPER_FIG6_MU, PAPER_FIG7


def figures(result: Result) -> dict:
    import matplotlib.pyplot as plt
    s = result.summary
    out = {}
    fig, ax = plt.subplots(figsize=(6, 4))
    mus = s["fig6_mu_implicit"]
    for q, paper in PAPER_FIG6.items():
        line, = ax.plot(mus, [b[0] for b in s["fig6"][float(q)]], label=f"ours, Q={q:g}")
        ax.plot(PAPER_FIG6_MU, paper, "o", color=line.get_color(), mfc="none",
                label=f"paper Fig. 6, Q={q:g}")
    ax.axhline(0, color="gray", lw=0.5)
    ax.set(xlabel=r"implicit momentum $\mu_S$", ylabel=r"optimal explicit momentum $\mu_L$",
           title="Fig. 6: optimal explicit vs implicit momentum")
    ax.legend(fontsize=8)
    out["fig6"] = fig
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, rows in s["fig7"].items():
        line, = ax.semilogy(s["fig7_mu_implicit"], [b[2] ** s["fig7_steps"] for b in rows], marker=".",
                            label=name if name != "tuned" else r"$\alpha$, $\mu_L$ tuned")
        if name in PAPER_FIG7:
            ax.semilogy(np.linspace(0.0, 0.9, 20), PAPER_FIG7[name], "o", mfc="none", ms=5, color=line.get_color(),
                        label=f"paper Fig. 7 ({name}), read from the figure")
    ax.set(xlabel=r"implicit momentum $\mu_S$", ylabel=r"$\gamma^{10}$ (distance after 10 steps)",
           title="Fig. 7: three strategies, Q = 10")
    ax.legend(fontsize=8)
    out["fig7"] = fig
    return out
