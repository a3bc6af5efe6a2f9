"""The check: the best controller (no per-M grid) within 1.2x of the per-M oracle's median updates on the real
server at every M; its control (the synchronous tuning reused); the figure."""
from __future__ import annotations

import math

import numpy as np

from reports.harness.store import Result
from reports.registry import Claim, Control, Tolerance, Verdict, with_controllers_replaced

TOL = 1.2   # the queue study's bar (extension-step-rules): the server and the queue are held to the same one


def _n(value) -> float:
    """A stored number: JSON keeps a censored (infinite) median as null."""
    return math.inf if value is None else float(value)


def ratio(case: dict, name: str) -> float:
    """Median updates of a strategy over the oracle's; a strategy that never reaches the target (censored or diverged
    median) is +inf, even against a censored oracle; one that reaches it where the oracle does not is below 1."""
    s, o = _n(case["strategies"][name]["median"]), _n(case["strategies"]["oracle"]["median"])
    return math.inf if not math.isfinite(s) else s / o


def _cell(case: dict, name: str) -> str:
    s, o = case["strategies"][name], case["strategies"]["oracle"]
    value = ratio(case, name)
    if not math.isfinite(value):
        shown = (f"x>{s['cap'] / _n(o['median']):.1f}" if math.isfinite(_n(o["median"])) else
                 f"never (the oracle neither, within {o['cap']})")
    else:
        shown = f"x{value:.2f}" if math.isfinite(_n(o["median"])) else f"x<{_n(s['median']) / o['cap']:.2f}"
    reached = sum(v is not None and math.isfinite(v) for v in s.get("each", []))
    return shown + f" ({reached} of {len(s.get('each', []))} reached" + (f", {s['diverged']} diverged)" if s["diverged"]
                                                                         else ")")


def _controllers(result: Result) -> list[str]:
    return [n for n in result.summary["strategies"] if "+" in n]


def _check(result: Result, tol: Tolerance) -> Verdict:
    cases = result.summary["cases"]
    worst = {n: max(ratio(c, n) for c in cases.values()) for n in _controllers(result)}
    reached = {n: sum(v is not None and math.isfinite(v) for c in cases.values() for v in c["strategies"][n].get(
        "each", [])) for n in worst}
    best = min(worst, key=lambda n: (worst[n], -reached[n]))  # ties (censored): the one with most runs at target
    rows = []
    for label, c in cases.items():
        o, q, s = c["strategies"]["oracle"], c["queue_oracle"], c["strategies"]["oracle"]
        rows.append(f"{label}: oracle (the queue's: mu_L {q['mu_explicit']:+.1f}, alpha {q['lr']:g}) "
                    f"{_n(o['median']):.0f} [{_n(o['low']):.0f}, {_n(o['high']):.0f}] updates on the server "
                    f"({s['seconds_median']:.1f} s; "
                    f"staleness mean {s['staleness_mean']:.2f}, variance {s['staleness_var']:.1f}) against "
                    f"{_n(q['median']):.0f} under the queue; "
                    + ", ".join(f"{n} {_cell(c, n)}" for n in result.summary["strategies"] if n != "oracle"))
    values = {f"{n},worst_ratio": v for n, v in worst.items()} | {"best_worst_ratio": worst[best]}
    values |= {f"{label},oracle_updates": _n(c["strategies"]["oracle"]["median"]) for label, c in cases.items()}
    values |= {f"{label},{n},seconds_to_target": _n(s["seconds_median"]) for label, c in cases.items()
               for n, s in c["strategies"].items()}   # median wall clock of the server's single runs
    return Verdict(worst[best] <= tol.value, f"the best controller (momentum rule x step rule, no per-M grid) within "
                   f"{tol.value:g}x of the oracle's median updates on the real server at every M",
                   f"closest: {best} (worst case x{worst[best]:.2f}; {reached[best]} of "
                   f"{sum(len(c['strategies'][best].get('each', [])) for c in cases.values())} runs reached the "
                   "target, ties broken by that count)" + "; " + "; ".join(rows), values)


def _no_power(result: Result, tol: Tolerance) -> dict:
    return {"seeds": 0, "note": "not measured: one set of 10 single runs per (M, strategy) on the real server, about "
                                "45 min of wall clock (the medians' order-statistic intervals are in the text); a "
                                "re-run at fresh seeds costs as much again"}


CLAIMS = (
    Claim(id="extension-step-rules-real-server", paper_ref="Section VI; later step rules", statement="Extension: on the real Dask parameter "
          "server (M = 4, 8, 16 worker processes, injected exponential work times; logistic regression with full-batch "
          "gradients plus noise, the queue study's workload and target), two controllers the queue study tried — "
          "momentum from the logged staleness (first order, or Theorem 7) times a step rule of the later "
          "literature; the card names the closest by this claim's own metric — reach the target within "
          f"{TOL:g}x of the per-M oracle's median updates (the queue's per-M oracle "
          "replayed on the server) on single runs, at every M.", check=_check,
          tolerance=Tolerance(TOL, "ratio", "the target set for the controller; the oracle is the queue's per-M optimum, not "
                    "the server's own grid (30 configurations x 10 runs x 3 M would take about 5 h here), so a "
                    "controller could beat it"),
          controls=(Control("no-compensation", "the synchronous tuning reused in place of every controller",
                   with_controllers_replaced),),
          figure="real_step_rules", power=_no_power, expect="result"),
)


def figures(result: Result) -> dict:
    import matplotlib.pyplot as plt
    names = [n for n in result.summary["strategies"] if n != "oracle"]
    fig, ax = plt.subplots(figsize=(8, 4))
    for label, c in result.summary["cases"].items():
        o = _n(c["strategies"]["oracle"]["median"])
        capped = [min(ratio(c, n), c["strategies"][n]["cap"] / o) if math.isfinite(o) else np.nan for n in names]
        ax.plot(range(len(names)), capped, "o-", label=label)
    ax.axhline(TOL, color="gray", ls=":", lw=0.8)
    ax.set_xticks(range(len(names)), names, rotation=30, fontsize=7)
    ax.set(yscale="log", ylabel="median updates / oracle (capped runs at the cap)",
           title="Real Dask server: controllers and step rules on single runs")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return {"real_step_rules": fig}
