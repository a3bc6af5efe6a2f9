"""The experiment's figures, from the stored Result only."""
from __future__ import annotations
from reports.harness.store import Result
from theory import predictions, rates


def figures(result: Result) -> dict:
    import matplotlib.pyplot as plt
    s = result.summary
    out = {}
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ms = s["workers"]
    for name, by_m in s["per_law"].items():
        line, = ax.plot(ms, [by_m[m]["best"]["theory"]["mu_explicit"] for m in ms], "o-", label=f"{name}: law")
        ax.plot(ms, [by_m[m]["best"]["mc"]["mu_explicit"] for m in ms], "x", color=line.get_color(), ms=9)
    paper = [rates.best_explicit_momentum(predictions.implicit_momentum(m), 10.0)[0] for m in ms]
    ax.plot(ms, paper, "k--", lw=2, label="paper's picture: Theorem 7 with 1 - 1/M (asymptotic)")
    ax.set(xscale="log", xlabel="workers M", ylabel=r"best explicit momentum $\mu_L$",
           title="Best mu_L per law (lines: law's recurrence, x: Monte Carlo; Q = 10, finite horizon)")
    ax.legend(fontsize=6)
    out["laws_best_momentum"] = fig
    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    st = s["stability"]
    ax.plot(st["tau"], st["bound"], "k-", label="2 sin(pi / (2(2 tau + 1)))")
    ax.plot(st["tau"], st["measured"], "o", label="constant law: largest stable alpha lambda")
    ax.plot(st["tau"], st["same_mean_geometric"], "s", mfc="none", label="geometric law, same mean")
    ax.set(xlabel="delay tau = M - 1", ylabel="largest stable alpha lambda", yscale="log",
           title="Pure delay vs the momentum picture (mu_L = 0)")
    ax.legend(fontsize=7)
    out["laws_stability"] = fig
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    for name, by_m in s["per_law"].items():
        ms_ = sorted(by_m)
        ratio = [by_m[m]["cv_staleness"] / by_m[m]["two_term"]["geometric_cv"] for m in ms_]
        ax.plot(ratio, [max(by_m[m]["two_term"]["relative_error"], 1e-14) for m in ms_], "o-", label=name)
    floor = s.get("fit_noise_floor", {})
    if floor:
        ax.axhline(max(floor.values()), color="gray", ls=":", label="noise floor (estimated pmf)")
    ax.set(yscale="log", xlabel="staleness CV / geometric law's CV (1: as memoryless)",
           ylabel="two-term fit: relative RMS error", title="How far each law is from momentum (points: M = 2..16)")
    ax.legend(fontsize=6)
    out["laws_two_term"] = fig
    return out
