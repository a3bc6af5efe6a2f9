"""The ladder's figure: the M = 16 ratios of Figs. 4 and 8 against the batch (ours with 95% intervals on both seed
sets, the paper's value at its batch 128, the regime prediction as a line)."""
from __future__ import annotations

from reports.experiments.cnn_batch_ladder.claims import PAPER, RATIOS, geometric, log_ratio, rung


def figures(result) -> dict:
    import matplotlib.pyplot as plt
    s = result.summary
    batches = s["batches"]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    titles = {"fixed_0.9_over_non_negative": "Fig. 4: T(mu_L = 0.9) / T(tuned mu_L >= 0)",
              "non_negative_over_any_sign": "Fig. 8: T(tuned mu_L >= 0) / T(any sign)"}
    for ax, name in zip(axes, RATIOS):
        for k, (which, marker) in enumerate((("decision", "o"), ("replication", "s"))):
            if not s["seeds"].get(which):
                continue
            stats = [geometric(log_ratio(rung(result, b, which), name)) for b in batches]
            x = [b * (1.06 if k else 0.94) for b in batches]
            ax.errorbar(x, [v[0] for v in stats], yerr=[[v[0] - v[1] for v in stats], [v[2] - v[0] for v in stats]],
                        fmt=marker, capsize=3, label=f"measured ({which} seeds)")
        ax.plot(batches, [s["rungs"][b]["regime"]["predicted"][name] for b in batches], "k--",
                label="recurrence (19) from the measured regime")
        ax.plot([128], [PAPER[name]], "r*", markersize=12, label="paper (batch 128)")
        ax.axhline(1, color="grey", lw=0.5)
        ax.set_xscale("log", base=2)
        ax.set_xticks(batches, [str(b) for b in batches])
        ax.set_xlabel("batch size")
        ax.set_title(titles[name], fontsize=9)
    axes[0].set_ylabel("ratio of updates to the last target, M = 16")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return {"cnn_batch_ladder": fig}
