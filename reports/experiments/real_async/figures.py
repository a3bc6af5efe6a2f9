"""The real-asynchrony figure: measured staleness laws beside the queue model's."""
from __future__ import annotations

import numpy as np

from reports.harness.store import Result
from theory import predictions


def figures(result: Result) -> dict:
    import matplotlib.pyplot as plt
    s = result.summary
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.6))
    for m, g in s["geometric"].items():
        mm = m
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
