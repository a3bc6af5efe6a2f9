"""The closed loop on the CNN (beyond the paper; section VI's tuning from the logged staleness, and the later
literature's step rules) scored against the per-M oracle of the committed (mu_L, alpha) grid on the same seeds, and the
wrong models its controls build (pure). Times are mean capped updates over seeds: a censored run counts as its
batch's stop, a lower bound, as in the grid's scores."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnn_experiments import analysis
from cnn_experiments import momentum_views as E
from cnn_experiments.momentum_chunks import NO_COMPENSATION

LOOP = "loop_keep"        # the closed loop proper: mu_L = mu_sync - mu_S from the logged staleness, the step kept
FIXED_SLOWER = 2.0        # mu_L = 0.9 (step tuned at that M) at least this many times slower than the loop, largest M
APART = 1.10              # the loop at least 10 % faster than only dropping the momentum (mu_L = 0, the step kept)


@dataclass(frozen=True)
class Loop:
    """One seed set: the grid (the oracle's evidence) and the loop's runs on the same seeds."""
    grid: analysis.Evidence
    times: np.ndarray     # (targets, loop M, strategy, seed), inf = censored
    caps: np.ndarray      # (loop M, seed): each batch's stop
    workers: tuple        # loop M
    strategies: tuple
    lr_grid: tuple
    lr_sync: float

    @property
    def n_seeds(self) -> int:
        return self.times.shape[-1]

    def score(self, name: str) -> np.ndarray:
        """(targets, loop M): mean capped updates of a loop strategy."""
        return np.minimum(self.times, self.caps[None, :, None, :])[:, :, self.strategies.index(name)].mean(axis=-1)

    def grid_score(self, name: str) -> np.ndarray:
        """(targets, loop M): the grid's strategy (any_sign: the per-M oracle; fixed_0.9; mu0_step_kept: mu_L = 0 at
        the synchronous alpha, which at mu_L = 0 is also the effective step)."""
        cols = [list(self.grid.workers).index(m) for m in self.workers]
        if name == "mu0_step_kept":
            score, _ = analysis.scores(self.grid)
            return score[:, cols, list(self.grid.mu_grid).index(0.0), list(self.lr_grid).index(self.lr_sync), 0]
        return analysis.strategy(self.grid, name)[0][:, cols, 0]


def view(result, which: str) -> Loop | None:
    """The loop of one seed set of a stored result; None where the result holds no loop."""
    loop = result.summary.get("loop")
    if not loop or f"loop_times_{which}" not in result.arrays:
        return None
    return Loop(E.grid(result, which), np.asarray(result.arrays[f"loop_times_{which}"], dtype=float),
                np.asarray(result.arrays[f"loop_caps_{which}"], dtype=float), tuple(loop["workers"]),
                tuple(loop["strategies"]), tuple(result.summary["lr_grid"]), float(loop["lr_sync"]))


def ratio(v: Loop, top: str, bottom: str) -> np.ndarray:
    """(targets, loop M): top's score over bottom's (loop strategies or grid strategies)."""
    def score(name):
        return v.score(name) if name in v.strategies else v.grid_score(name)
    with np.errstate(divide="ignore", invalid="ignore"):
        return score(top) / score(bottom)


def closed_loop_on(v: Loop, tol) -> tuple[bool, str, dict]:
    """The loop within tol of the oracle at every loop M and target; mu_L = 0.9 (tuned step) FIXED_SLOWER x slower
    and mu_L = 0 with the step kept APART x slower than the loop at the largest M, last target."""
    near = ratio(v, LOOP, "any_sign")
    fixed, dropped = ratio(v, "fixed_0.9", LOOP)[-1, -1], ratio(v, "mu0_step_kept", LOOP)[-1, -1]
    ok = bool((near <= 1 + tol.value).all() and fixed >= FIXED_SLOWER and dropped >= APART)
    text = "; ".join(f"target {t + 1}: loop / oracle " + ", ".join(f"M={m} x{near[t, j]:.2f}" for j, m in
                                                                    enumerate(v.workers)) for t in range(len(near)))
    text += (f"; at M={v.workers[-1]}: mu_L = 0.9 / loop x{fixed:.2f}, mu_L = 0 with the step kept / loop "
             f"x{dropped:.2f}; others / oracle at the last target: " + others(v, LOOP))
    values = {f"target_{t + 1},M={m},ratio": float(near[t, j]) for t in range(len(near))
              for j, m in enumerate(v.workers)}
    return ok, text, values | {"fixed_0.9_over_loop": float(fixed), "mu0_step_kept_over_loop": float(dropped)}


def others(v: Loop, but: str) -> str:
    near = {n: ratio(v, n, "any_sign")[-1] for n in v.strategies if n != but}
    return "; ".join(f"{n} " + ", ".join(f"x{r:.2f}" for r in row) for n, row in near.items())


def step_rules_on(v: Loop, tol) -> tuple[bool, str, dict]:
    """The best controller (its worst ratio to the oracle over the loop M, last target) within tol, and at least
    APART x faster than mu_L = 0 with the step kept at the largest M."""
    names = [n for n in v.strategies if n != NO_COMPENSATION]
    worst = {n: float(ratio(v, n, "any_sign")[-1].max()) for n in names}
    best = min(worst, key=worst.get)
    dropped = float(ratio(v, "mu0_step_kept", best)[-1, -1])
    ok = worst[best] <= tol.value and dropped >= APART
    return ok, (f"best: {best} (worst over M x{worst[best]:.2f}; mu_L = 0 with the step kept / it at "
                f"M={v.workers[-1]} x{dropped:.2f}); " + ", ".join(f"{n} x{r:.2f}" for n, r in worst.items())), \
        {f"{n},worst_ratio": r for n, r in worst.items()} | {"mu0_step_kept_over_best": dropped}


def _with_loop_times(result, change):
    return E.with_arrays(result, lambda k, a: change(k, a) if k.startswith("loop_times_") else a)


def uncompensated(result, every: bool = False):
    """Control evidence: the synchronous setting reused unchanged (no compensation) in place of the loop (every
    controller with `every`)."""
    if not result.summary.get("loop"):
        return result   # no loop in this evidence: the check says not run
    names = result.summary["loop"]["strategies"]

    def change(_, a):
        for k, name in enumerate(names):
            if (every and name != NO_COMPENSATION) or name == LOOP:
                a[:, :, k] = a[:, :, names.index(NO_COMPENSATION)]
        return a
    return _with_loop_times(result, change)


def mu_zero_step_kept(result, every: bool = False):
    """Control evidence: only mu_L set to 0, the synchronous alpha kept (the grid's run, same seed), in place of the
    loop (every controller with `every`): dropping the momentum, not compensating it."""
    if not result.summary.get("loop"):
        return result   # no loop in this evidence: the check says not run
    loop, s = result.summary["loop"], result.summary
    cols = [list(s["workers"]).index(m) for m in loop["workers"]]
    i, k = list(s["mu_grid"]).index(0.0), list(s["lr_grid"]).index(loop["lr_sync"])

    def change(name, a):
        grid = np.asarray(result.arrays[name.replace("loop_times_", "times_")])[:, cols, i, k]
        for n, strategy in enumerate(loop["strategies"]):
            if (every and strategy != NO_COMPENSATION) or strategy == LOOP:
                a[:, :, n] = grid
        return a
    return _with_loop_times(result, change)


def figure(result):
    """The closed loop against the per-M oracle (decision seeds, last target), and the momentum each controller
    ended with; None where the result holds no loop."""
    import matplotlib.pyplot as plt
    from theory import predictions
    v, loop = view(result, "decision"), result.summary.get("loop")
    if v is None:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.9))
    ms = np.asarray(v.workers)
    for name, style, label in (("any_sign", "o-", "oracle (grid best at each M)"),
                               ("fixed_0.9", "s:", "mu_L = 0.9, step tuned"),
                               ("mu0_step_kept", "x:", "mu_L = 0, step kept")):
        left.plot(ms, v.grid_score(name)[-1], style, label=label)
    for name in v.strategies:
        left.plot(ms, v.score(name)[-1], "^--" if name == NO_COMPENSATION else "D-", label=name.replace("_", " "))
        if name != NO_COMPENSATION:
            right.plot(ms, [loop["final"][m][name][0] for m in ms], "D-", label=f"{name.replace('_', ' ')}: last mu_L")
    left.set(xscale="log", yscale="log", xlabel="workers M", ylabel="updates to the last target (mean, capped)",
             title=f"Closed loop vs the per-M oracle ({v.n_seeds} decision seeds)")
    left.legend(fontsize=7)
    right.plot(ms, analysis.strategy(v.grid, "any_sign")[1][-1, [list(v.grid.workers).index(m) for m in ms], 0],
               "o-", label="oracle's mu_L")
    right.plot(ms, [np.clip(loop["mu_sync"] - predictions.implicit_momentum(m), -0.9, 0.9) for m in ms],
               color="gray", label="mu_sync - mu_S (first order)")
    right.set(xscale="log", xlabel="workers M", ylabel=r"explicit momentum $\mu_L$",
              title=f"Tuned once at M = 1: mu_L {loop['mu_sync']:+.3f}, alpha {loop['lr_sync']:g}")
    right.legend(fontsize=7)
    for ax in (left, right):
        ax.set_xticks(ms, [str(m) for m in ms])
        ax.tick_params(axis="x", which="minor", bottom=False, labelbottom=False)
    fig.tight_layout()
    return fig
