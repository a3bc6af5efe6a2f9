"""The quadratic model's tables (section 4, Figs. 6 and 7): the best explicit momentum and step per implicit
momentum mu_S and condition number Q (theory.quadratic's rate, searched on a grid), the 'momenta add' model beside it,
and the closed-form rate checked against iterating the expected update itself on random quadratics. `config` is the
design (reports.experiments.quadratic_rates.config.Config)."""
from __future__ import annotations

import math

import numpy as np

from theory import rates


def iterate_store_update(mu_implicit: float, mu_explicit: float, lr: float, hessian: np.ndarray,
                         n_steps: int) -> float:
    """Rate of the expected iterate by iterating w itself, independently of the closed form's z, c, d:
    D_{t+1} = (mu_L + mu_S) D_t - mu_L mu_S D_{t-1} - alpha (1 - mu_S) H e_t on e = w - w*, the state
    (e_t, D_t, D_{t-1}) renormalised every step; the rate is the mean log growth over the second half."""
    d = hessian.shape[0]
    e, step, prev = np.ones(d), np.zeros(d), np.zeros(d)
    logs = []
    for _ in range(n_steps):
        new = (mu_explicit + mu_implicit) * step - mu_explicit * mu_implicit * prev - lr * (1 - mu_implicit) * (hessian @ e)
        e, step, prev = e + new, new, step
        norm = math.sqrt(e @ e + step @ step + prev @ prev)
        logs.append(math.log(norm))
        e, step, prev = e / norm, step / norm, prev / norm
    return float(math.exp(np.mean(logs[n_steps // 2:])))


def rate_checks(config) -> list[dict]:
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 7]))
    out = []
    for _ in range(config.rate_check_cases):
        mu_s, mu_l = rng.uniform(0, 0.9), rng.uniform(-0.5, 0.9)
        q = rng.uniform(2, 50)
        lam = np.concatenate([[1.0, q], rng.uniform(1.0, q, config.rate_check_dim - 2)])
        basis, _ = np.linalg.qr(rng.standard_normal((config.rate_check_dim, config.rate_check_dim)))
        hessian = basis @ np.diag(lam) @ basis.T
        lr = rng.uniform(0.05, 1.0) / q / (1 - mu_s)
        out.append({"mu_implicit": mu_s, "mu_explicit": mu_l, "lr": lr, "condition_number": q,
                    "closed_form": rates.rate(mu_s, mu_l, lr, lam),
                    # control: heavy ball with momentum mu_S + mu_L and the same effective step (no mu_S mu_L term)
                    "closed_form_additive": rates.rate(0.0, mu_s + mu_l, lr * (1 - mu_s), lam),
                    "iterated": iterate_store_update(mu_s, mu_l, lr, hessian, config.rate_check_steps)})
    return out


def tables(config) -> tuple[dict, list[dict]]:
    """(summary, log): Figs. 6 and 7 with their controls, the heavy-ball rates, the rate checks; the log lists Fig. 6's
    optima."""
    best = lambda mu_s, q, **kw: rates.best_explicit_momentum(mu_s, q, n_eigenvalues=config.n_eigenvalues, **kw)  # noqa: E731
    fig6 = {float(q): [best(mu, q) for mu in config.fig6_mu_implicit] for q in config.fig6_condition_numbers}
    mu7 = np.linspace(0.0, 0.9, config.fig7_points)
    q7 = config.fig7_condition_number
    fig7 = {"tuned": [best(mu, q7) for mu in mu7]}
    for fixed in config.fig7_fixed_mu_explicit:
        fig7[f"mu_L={fixed:g}"] = [best(mu, q7, mu_explicit=fixed) for mu in mu7]
    fig7_non_negative = [best(mu, q7, mu_range=(0.0, 0.95)) for mu in mu7]
    # control: if the momenta added exactly (heavy ball with mu_S + mu_L), with the same effective step
    fig7_additive = {"tuned": [rates.best_additive_momentum(mu, q7, config.n_eigenvalues) for mu in mu7]}
    for fixed in config.fig7_fixed_mu_explicit:
        fig7_additive[f"mu_L={fixed:g}"] = [best(0.0, q7, mu_explicit=min(fixed + mu, 0.999)) for mu in mu7]
    heavy = {float(q): [best(mu, q, mu_explicit=0.0)[2] for mu in config.fig6_mu_implicit] for q in (q7, 2 * q7)}
    summary = {
        "fig6": fig6, "fig6_mu_implicit": list(config.fig6_mu_implicit), "fig7_mu_implicit": mu7.tolist(),
        "fig7": fig7, "fig7_non_negative": fig7_non_negative, "fig7_additive": fig7_additive,
        "fig7_steps": config.fig7_steps, "fig6_additive": {float(q): [rates.best_additive_momentum(mu, q, config.n_eigenvalues)
                                                                   for mu in config.fig6_mu_implicit]
                                                          for q in config.fig6_condition_numbers},
        "polyak": {float(q): rates.polyak_momentum(q) for q in config.fig6_condition_numbers},
        "polyak_unsquared": {float(q): (math.sqrt(q) - 1) / (math.sqrt(q) + 1) for q in config.fig6_condition_numbers},
        "heavy_ball_condition_number": q7,
        "heavy_ball_best_rates": heavy[float(q7)], "heavy_ball_best_rates_twice_q": heavy[float(2 * q7)],
        "rate_checks": rate_checks(config),
    }
    log = [{"figure": "fig6", "Q": q, "mu_implicit": mu, "mu_explicit": b[0], "lr": b[1], "rate": b[2]}
           for q, rows in fig6.items() for mu, b in zip(config.fig6_mu_implicit, rows)]
    return summary, log
