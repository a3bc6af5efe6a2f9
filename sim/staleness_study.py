"""The Monte Carlo of the queue (sim.queue): the staleness law M workers produce, for several work-time laws, and the
dependence between consecutive delays. Means and variances carry batch-means standard errors (N_BATCHES batches),
since consecutive delays are correlated. `config` is the design (reports.experiments.mc_staleness.Config)."""
from __future__ import annotations

import numpy as np

from sim.queue import simulate
from sim.seeds import seed_tree
from sim.stats import batch_se as _batch_se
from sim.stats import geometric_tv

N_BATCHES = 50
CONTROL_GAMMA_SHAPE = 2.0  # control law: gamma(k = 2) work times, CV 0.71, mean staleness still M - 1


def batch_se(x) -> float:
    return _batch_se(x, N_BATCHES)


def law_stats(x: np.ndarray, n_workers: int, rng: np.random.Generator) -> dict:
    p = 1 / n_workers
    reference = rng.geometric(p, x.size) - 1  # an exact i.i.d. Geom(1/M) sample of the same size
    return {"mean": float(x.mean()), "mean_se": batch_se(x), "var": float(x.var()),
            "var_se": batch_se((x - x.mean()) ** 2), "tv": geometric_tv(x, p),
            "tv_reference": geometric_tv(reference, p),
            "pmf": (np.bincount(x, minlength=4 * n_workers)[:4 * n_workers] / x.size).tolist()}


def _steady(schedule) -> np.ndarray:
    return schedule.staleness[~schedule.warmup]


def dependence(tau: np.ndarray, warmup: np.ndarray, m: int, reference_seed) -> dict:
    """Consecutive delays are dependent, but the law given the history up to the read is still Geom(1/M)."""
    steady = ~warmup
    both = steady[:-1] & steady[1:]
    joint = float(np.mean((tau[:-1] == 0) & (tau[1:] == 1) & both) / both.mean())
    marg0, marg1 = float(np.mean(tau[steady] == 0)), float(np.mean(tau[steady] == 1))
    # history up to the read of update t includes the staleness of the write just before that read
    # (the same worker's previous update); condition on it
    t_index = np.arange(tau.size)
    read = t_index - tau
    prev = read - 1
    ok = steady & (prev >= 0)
    ok &= ~warmup[np.maximum(prev, 0)]
    groups = {}
    for label, mask in (("prev_tau=0", tau[np.maximum(prev, 0)] == 0), ("prev_tau=1..3", (tau[np.maximum(prev, 0)] >= 1)
                        & (tau[np.maximum(prev, 0)] <= 3)), ("prev_tau>=4", tau[np.maximum(prev, 0)] >= 4)):
        x = tau[ok & mask]
        groups[label] = {"n": int(x.size), "mean": float(x.mean()), "mean_se": batch_se(x),
                         "tv": geometric_tv(x, 1 / m),
                         "tv_reference": geometric_tv(np.random.default_rng(reference_seed).geometric(1 / m, x.size) - 1, 1 / m)}
    # contrast: conditioning on the previous global update (not in the history at read time) changes the law
    after_zero = tau[1:][(tau[:-1] == 0) & both]
    return {"p_joint_0_then_1": joint, "product_of_marginals": marg0 * marg1,
            "conditional_on_history": groups,
            "after_previous_update_zero": {"mean": float(after_zero.mean()), "mean_se": batch_se(after_zero)}}


def tables(config) -> dict:
    """The summary: each law's staleness statistics beside an exact Geom(1/M) sample, the controls' (gamma(2) queue,
    exponential work under the other laws' labels, i.i.d. delays), the dependence between consecutive delays."""
    seeds = seed_tree(config.seed, "reference", "exponential", "rates", "other_laws", "dependence", "control")
    rng = np.random.default_rng(seeds["reference"])
    exponential, control = {}, {}
    for m, seed, control_seed in zip(config.workers, seeds["exponential"].spawn(len(config.workers)),
                                     seeds["control"].spawn(len(config.workers))):
        exponential[m] = law_stats(_steady(simulate(m, config.n_updates, seed=seed)), m, rng)
        control[m] = law_stats(_steady(simulate(m, config.n_updates, "gamma", seed=control_seed,
                                                     shape=CONTROL_GAMMA_SHAPE)), m, rng)
    rates = {float(r): law_stats(_steady(simulate(4, config.n_updates, rate=r, seed=seed)), 4, rng)
             for r, seed in zip(config.rates, seeds["rates"].spawn(len(config.rates)))}
    other, order = {}, []   # {law: {M: stats}}; `order`: the (law, M) in the order their seeds were drawn
    law_seeds = iter(seeds["other_laws"].spawn(14))
    for m in (4, 16):
        laws = {"gamma": {"work_time": "gamma", "shape": config.gamma_shape},
                "constant": {"work_time": "constant", "value": 1.0},
                "lognormal": {"work_time": "lognormal", "sigma": config.lognormal_sigma}}
        for name, law in laws.items():
            other.setdefault(name, {})[m] = law_stats(
                _steady(simulate(m, config.n_updates, seed=next(law_seeds), **law)), m, rng)
            order.append((name, m))
    hetero = config.heterogeneous_rates
    other["heterogeneous"] = {len(hetero): law_stats(
        _steady(simulate(len(hetero), config.n_updates, rates=list(hetero), seed=next(law_seeds))), len(hetero), rng)}
    order.append(("heterogeneous", len(hetero)))
    # control for the other laws: exponential work times under the same labels
    other_exponential = {}
    for name, m in order:
        other_exponential.setdefault(name, {})[m] = law_stats(
            _steady(simulate(m, config.n_updates, seed=next(law_seeds))), m, rng)
    constant_exact = {m: bool(np.all(_steady(simulate(m, 10_000, "constant", value=1.0)) == m - 1))
                      for m in (2, 4, 16)}
    m = config.dependence_workers
    dep_seed, iid_seed, ref_seed = seeds["dependence"].spawn(3)
    queue = simulate(m, config.n_updates, seed=dep_seed)
    iid = np.random.default_rng(iid_seed).geometric(1 / m, config.n_updates) - 1  # control: independent delays
    return {"exponential": exponential, "rates": rates, "other_laws": other,
               "constant_is_pure_delay": constant_exact,
               "dependence": {"n_workers": m, **dependence(queue.staleness, queue.warmup, m, ref_seed)},
               "controls": {"gamma_queue": control, "other_laws_exponential": other_exponential,
                            "dependence_iid": {"n_workers": m, **dependence(iid, np.zeros(iid.size, bool), m, ref_seed)}}}
