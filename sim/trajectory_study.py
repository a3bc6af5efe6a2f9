"""The Monte Carlo of asynchronous SGD against Theorems 2, 3, 5 and 6 (sim.async_sgd, pooled over replicas in
chunks): each case's mean trajectory against the expected recursion and its wrong models, the resolution in mu_S,
Theorem 2 with i.i.d. staleness and Theorem 3 on the double well. Every comparison is a z-score (mean - prediction)
/ SE per step and coordinate. `config` is the design (reports.experiments.mc_trajectories.Config)."""
from __future__ import annotations

import numpy as np

from sim import async_sgd
from sim.montecarlo import chunks, queue_trajectory
from sim.objectives import DoubleWell, Quadratic
from sim.seeds import seed_tree
from sim.stats import Pool, max_abs_z
from theory import predictions


def _trajectory(config, objective, n_workers: int, mu_explicit: float, lr: float, w0, seed, statistics=None,
                noise_std: float | None = None):
    return queue_trajectory(objective, n_workers, config.n_steps, config.n_replicas, config.chunk, lr, mu_explicit,
                            w0, config.noise_std if noise_std is None else noise_std, seed, statistics)


def _pure_delay(quad, m: int, mu_l: float, config, w0) -> np.ndarray:
    """The nearest wrong model with the same mean staleness: every update M - 1 steps stale (a pure delay), step alpha
    per update: its expected iterate, (T+1, d)."""
    from theory import laws
    pmf = np.zeros(m)
    pmf[m - 1] = 1.0
    return laws.recurrence(pmf, mu_l, config.lr, np.asarray(config.eigenvalues), config.n_steps, w0)


def _resolution(quad, m: int, mu_l: float, config, w0, mean, se, z: float = 4.5) -> float:
    """The smallest departure of mu_S (above 1 - 1/M) that the check detects at this sample size: the delta at which
    the largest |z| against the recursion with mu_S + delta reaches z (bisection)."""
    mu_s = predictions.implicit_momentum(m)

    def detects(delta):
        other = predictions.momentum_recursion(quad, config.n_steps, config.lr, min(mu_s + delta, 0.999), mu_l, w0)
        return max_abs_z(mean[1:], se[1:], other[1:]) > z
    low, high = 0.0, 1.0 - mu_s
    if not detects(high):
        return float(high)
    for _ in range(30):
        mid = (low + high) / 2
        low, high = (low, mid) if detects(mid) else (mid, high)
    return float(high)


def theorem2_iid(config, seed: np.random.SeedSequence) -> dict:
    """Theorem 2 on the double well, staleness i.i.d. uniform on {0..K}, in both of its forms (t >= 1), and the same
    data against a geometric law with the same mean (the control)."""
    K, T, lr = config.iid_support, config.n_steps, config.double_well_lr
    q = np.full(K + 1, 1.0 / (K + 1))
    q_next = np.append(q[1:], 0.0)
    p = 1 / (1 + K / 2)
    q_geometric = predictions.geometric_weights(p, 1 - p, T + 1)
    well = DoubleWell(1)
    simple, paper, geometric = Pool(), Pool(), Pool()
    n_chunks = -(-config.n_replicas // config.chunk)
    for (index, size), child in zip(chunks(config.n_replicas, config.chunk), seed.spawn(n_chunks)):
        tau_seed, noise_seed = child.spawn(2)
        tau = np.random.default_rng(tau_seed).integers(0, K + 1, size=(size, T))
        x = async_sgd.run_iid(well, tau, lr, 0.0, config.double_well_start, config.double_well_noise_std,
                             seed=noise_seed).x
        g = well.gradient(x)                                     # (T+1, R, 1): grad f(w_t) per replica
        past = lambda t, l: g[max(t - l, 0)]                     # noqa: E731  constant pre-history
        steps = np.diff(x, axis=0)
        d_simple, d_paper, d_geometric = [], [], []
        for t in range(1, T):
            d_simple.append(steps[t] + lr * sum(q[l] * past(t, l) for l in range(K + 1)))
            correction = sum((q[l] - q_next[l]) * past(t, l + 1) for l in range(K + 1))
            d_paper.append(steps[t] - steps[t - 1] + lr * (q[0] * g[t] - correction))
            d_geometric.append(steps[t] + lr * sum(q_geometric[l] * past(t, l) for l in range(T)))
        simple.add(np.array(d_simple))
        paper.add(np.array(d_paper[1:]))                          # D_t itself must follow the simple form: t >= 2
        geometric.add(np.array(d_geometric))
    (m1, s1), (m2, s2), (m3, s3) = simple.mean_se(), paper.mean_se(), geometric.mean_se()
    return {"support": K, "max_z_simple_form": max_abs_z(m1, s1, 0 * m1), "max_z_paper_form": max_abs_z(m2, s2, 0 * m2),
            "comparisons": int(m1.size + m2.size), "max_z_if_law_were_geometric": max_abs_z(m3, s3, 0 * m3)}


def theorem3_double_well(config, seed: np.random.SeedSequence) -> dict:
    """Theorem 3 on the double well under the exponential queue, at several mu_S:
    E[D_{t+1} - mu_S D_t + alpha (1 - mu_S) grad f(w_t)] = 0; the control puts the undampened -alpha grad f in."""
    lr, well, out = config.double_well_lr, DoubleWell(1), {}

    def residual(mu, step):
        def statistic(x):
            steps = np.diff(x, axis=0)
            return np.array([steps[t] - mu * steps[t - 1] + step * well.gradient(x[t]) for t in range(1, x.shape[0] - 1)])
        return statistic

    for m, child in zip(config.double_well_workers, seed.spawn(len(config.double_well_workers))):
        mu_s = predictions.implicit_momentum(int(m))
        (mean, se), (wrong, wrong_se) = _trajectory(
            config, well, int(m), 0.0, lr, config.double_well_start, child,
            statistics=[residual(mu_s, predictions.effective_step(lr, int(m))), residual(mu_s, lr)],
            noise_std=config.double_well_noise_std)
        out[int(m)] = {"mu_implicit": mu_s, "max_z": max_abs_z(mean, se, 0 * mean), "comparisons": int(mean.size),
                       "max_z_undampened": max_abs_z(wrong, wrong_se, 0 * wrong)}
    return out


def tables(config, seed: int) -> tuple[dict, dict]:
    """(summary, arrays): every case's max |z| against the recursion and its wrong models, Theorems 2 and 3."""
    seeds = seed_tree(seed, "cases", "theorem2", "theorem3")
    quad = Quadratic(tuple(config.eigenvalues))
    w0 = np.ones(quad.dim)
    T = config.n_steps
    summary, arrays = {"cases": {}}, {}
    cases = [(m, 0.0) for m in config.workers] + [(int(m), mu) for m, mu in config.explicit_cases]
    for (m, mu_l), seed in zip(cases, seeds["cases"].spawn(len(cases))):
        (mean, se), = _trajectory(config, quad, m, mu_l, config.lr, w0, seed)
        mu_s = predictions.implicit_momentum(m)
        paper = predictions.momentum_recursion(quad, T, config.lr, mu_s, mu_l, w0)
        undampened = predictions.undampened_recursion(quad, T, config.lr, mu_s, mu_l, w0)
        additive = predictions.additive_recursion(quad, T, config.lr, mu_s, mu_l, w0)
        next_m = predictions.momentum_recursion(quad, T, config.lr, predictions.implicit_momentum(m + 1), mu_l, w0)
        key = f"M={m},mu_L={mu_l:g}"
        summary["cases"][key] = {"n_workers": m, "mu_explicit": mu_l, "max_z": max_abs_z(mean[1:], se[1:], paper[1:]),
                                 "max_z_undampened": max_abs_z(mean[1:], se[1:], undampened[1:]),
                                 "max_z_additive": max_abs_z(mean[1:], se[1:], additive[1:]),
                                 "max_z_next_m": max_abs_z(mean[1:], se[1:], next_m[1:]),
                                 "max_z_pure_delay": max_abs_z(mean[1:], se[1:], _pure_delay(quad, m, mu_l, config,
                                                                                            w0)[1:]),
                                 "resolution_mu_s": _resolution(quad, m, mu_l, config, w0, mean, se),
                                 "comparisons": int(mean[1:].size)}
        arrays[f"{key}/mean"], arrays[f"{key}/se"], arrays[f"{key}/prediction"] = mean, se, paper
    summary["theorem2_iid"] = theorem2_iid(config, seeds["theorem2"])
    summary["theorem3_double_well"] = theorem3_double_well(config, seeds["theorem3"])
    return summary, arrays
