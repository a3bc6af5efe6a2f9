"""Typed views of the CNN sweep's stored result (Figs. 3, 4, 5 and 8: its `summary` and `arrays`), and the wrong models
the controls build from it (pure)."""
from __future__ import annotations

import copy
from typing import Any

import numpy as np

from cnn_experiments.analysis import Evidence
from theory import predictions

Result = Any   # a stored result: .summary (dict) and .arrays (name -> array), as reports.harness.store writes it

SETS = ("decision", "replication")


def grid(result: Result, which: str) -> Evidence:
    """The main sweep of one seed set: times (targets, M, mu_L, alpha, seed), caps (M, seed)."""
    s = result.summary
    return Evidence(result.arrays[f"times_{which}"], tuple(s["workers"]), tuple(s["mu_grid"]),
                    result.arrays[f"caps_{which}"])


def warm(result: Result, which: str) -> Evidence:
    """Fig. 5's continuations after the synchronous warm-up: times (targets, M, mu_L, alpha, seed)."""
    w = result.summary["warm"]
    return Evidence(result.arrays[f"warm_times_{which}"], tuple(w["workers"]), tuple(w["mu_grid"]),
                    result.arrays[f"warm_caps_{which}"])


def warm_trace(result: Result, which: str) -> Evidence | None:
    """Fig. 5 across targets (summary warm.trace_updates after the warm-up): times (targets, M, mu_L, alpha, seed);
    None where the Result has no trace."""
    w = result.summary["warm"]
    if f"warmtrace_times_{which}" not in result.arrays:
        return None
    return Evidence(result.arrays[f"warmtrace_times_{which}"], tuple(w["workers"]), tuple(w["mu_grid"]),
                    result.arrays[f"warm_caps_{which}"])


def probes(result: Result, which: str) -> list[dict]:
    return sorted(result.summary["probes"][which], key=lambda p: p["n_workers"])


def sets_present(result: Result) -> list[str]:
    return [w for w in SETS if f"times_{w}" in result.arrays]


def with_arrays(result: Result, change) -> Result:
    """A copy of result whose arrays `change(name, array)` rewrote (the evidence a wrong model gives)."""
    new = copy.copy(result)
    new.arrays = {k: change(k, np.array(v)) for k, v in result.arrays.items()}
    new.summary = copy.deepcopy(result.summary)
    return new


def _grid_arrays(name: str) -> bool:
    return name.startswith(("times_", "caps_"))


def rewrite_workers(result: Result, source) -> Result:
    """The runs of M index source(j) put in place of those of M index j (times and caps of the main sweep)."""
    n = len(result.summary["workers"])
    idx = [source(j, n) for j in range(n)]

    def change(name, a):
        if not _grid_arrays(name):
            return a
        return a[:, idx] if name.startswith("times_") else a[idx]
    return with_arrays(result, change)


def reversed_labels(result: Result) -> Result:
    return rewrite_workers(result, lambda j, n: n - 1 - j)


def synchronous_schedule(result: Result) -> Result:
    return rewrite_workers(result, lambda j, n: 0)


def synchronous_at_largest(result: Result) -> Result:
    return rewrite_workers(result, lambda j, n: 0 if j == n - 1 else j)


def _best(times: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """(targets, M, S): the best time of each (target, M, seed), the cap where every run was censored."""
    finite = np.where(np.isfinite(times), times, np.inf).min(axis=(2, 3))
    return np.where(np.isfinite(finite), finite, caps[None])


def momentum_independent_of_m(result: Result) -> Result:
    """A skeptic's model: asynchrony only slows training by a factor; the landscape over (mu_L, alpha) keeps its
    synchronous shape at every M. Each M's times = the M = 1 times x (best time at M / best time at M = 1), per
    target and seed; caps scaled alike."""
    def change(name, a):
        if name.startswith("times_"):
            best = _best(a, result.arrays[name.replace("times_", "caps_")])
            return a[:, :1] * (best / best[:, :1])[:, :, None, None]
        if name.startswith("caps_"):
            best = _best(result.arrays[name.replace("caps_", "times_")], a)[-1]
            return a[:1] * best / best[:1]
        return a
    return with_arrays(result, change)


def linear_slowdown(result: Result) -> Result:
    """A skeptic's model: asynchrony wastes the parallelism, the M = 1 landscape at M times the updates."""
    workers = np.asarray(result.summary["workers"], dtype=float)

    def change(name, a):
        if name.startswith("times_"):
            return a[:, :1] * workers[None, :, None, None, None]
        if name.startswith("caps_"):
            return a[:1] * workers[:, None]
        return a
    return with_arrays(result, change)


def _shifted(mu: np.ndarray, row: np.ndarray, shift: float) -> np.ndarray:
    """log T at mu + shift from the grid's values: interpolated inside the grid; past its top, momentum towards 1
    costs log((1 - mu_top) / (1 - mu)) more (heavy ball's time grows as 1 / (1 - mu); mu >= 1 does not converge)."""
    at = mu + shift
    inside = np.interp(np.minimum(at, mu[-1]), mu, row)
    beyond = np.log((1 - mu[-1]) / (1 - np.minimum(at, 0.999)))
    return np.where(at > mu[-1], row[-1] + beyond, inside)


def momenta_add(result: Result) -> Result:
    """The first-order model: explicit and implicit momentum add, so the M = 1 landscape shifted down in mu_L by
    mu_S = 1 - 1/M (log T interpolated along the grid, see _shifted), at M's best time."""
    mu = np.asarray(result.summary["mu_grid"], dtype=float)
    workers = result.summary["workers"]

    def change(name, a):
        if not name.startswith("times_"):
            return a
        caps = result.arrays[name.replace("times_", "caps_")]
        logt = np.log(np.where(np.isfinite(a), a, caps[None, :, None, None]))   # censored: at the cap
        out = np.empty_like(a)
        best = _best(a, caps)
        for j, m in enumerate(workers):
            for t, k, s in np.ndindex(a.shape[0], a.shape[3], a.shape[4]):
                out[t, j, :, k, s] = np.exp(_shifted(mu, logt[t, 0, :, k, s], predictions.implicit_momentum(m)))
            out[:, j] *= (best[:, j] / best[:, 0])[:, None, None]
        return out

    def caps(name, a):
        return np.full_like(a, np.inf) if name.startswith("caps_") else a
    return with_arrays(with_arrays(result, change), caps)


def cold_as_warm(result: Result) -> Result:
    """The warm-up does not matter: the main sweep's cold-start runs (at the warm grid's M, mu_L and alpha where the
    grids share them) in place of the warm-started continuations."""
    s, w = result.summary, result.summary["warm"]
    jm = [s["workers"].index(m) for m in w["workers"]]
    imu = [s["mu_grid"].index(mu) for mu in w["mu_grid"]]
    ilr = [s["lr_grid"].index(lr) for lr in w["lr_grid"]]

    def change(name, a):
        if name.startswith("warm_times_"):  # the cold targets in order (their penalties are what is compared)
            cold = result.arrays[name.replace("warm_", "")]
            return cold[np.ix_(range(a.shape[0]), jm, imu, ilr, range(cold.shape[-1]))]
        if name.startswith("warm_caps_"):
            return result.arrays[name.replace("warm_", "")][jm]
        return a
    return with_arrays(result, change)
