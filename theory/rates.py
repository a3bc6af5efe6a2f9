"""Theorem 7 in numbers: rates of the expected iterates on quadratics (numpy only: importing it loads no SymPy).

For f(w) = 1/2 ||A w - b||^2 each eigen-direction of A^T A (eigenvalue lam_i) follows (19) with
grad = lam_i (w - w*): e_{t+1} = z_i e_t - c e_{t-1} + d e_{t-2}, z_i = 1 + mu_S + mu_L - alpha (1 - mu_S) lam_i,
c = mu_S + mu_L + mu_S mu_L, d = mu_S mu_L. The rate gamma is the largest root modulus of
r^3 - z_i r^2 + c r - d over i (equivalently max_i 1/|t*_i| for the paper's g_i(t)); theory.quadratic derives it.
"""
from __future__ import annotations

import math

import numpy as np

def root_moduli(mu_implicit, mu_explicit, lr, eigenvalues) -> np.ndarray:
    """Largest root modulus of p_i for every eigenvalue, broadcasting over array arguments.

    Output shape: broadcast(mu_implicit, mu_explicit, lr).shape + (n_eigenvalues,).
    """
    mu_i, mu_e, a = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (mu_implicit, mu_explicit, lr)))
    lam_ = np.asarray(eigenvalues, dtype=float)
    z_i = (1 + mu_i + mu_e)[..., None] - (a * (1 - mu_i))[..., None] * lam_
    c = np.broadcast_to((mu_i + mu_e + mu_i * mu_e)[..., None], z_i.shape)
    d = np.broadcast_to((mu_i * mu_e)[..., None], z_i.shape)
    companion = np.zeros(z_i.shape + (3, 3))
    companion[..., 0, 0], companion[..., 0, 1], companion[..., 0, 2] = z_i, -c, d
    companion[..., 1, 0] = companion[..., 2, 1] = 1.0
    return np.abs(np.linalg.eigvals(companion)).max(axis=-1)


def rate(mu_implicit: float, mu_explicit: float, lr: float, eigenvalues) -> float:
    """Worst-case rate gamma = max_i (largest root modulus of p_i): ||E w_t - w*|| = O(gamma^t)."""
    return float(root_moduli(mu_implicit, mu_explicit, lr, eigenvalues).max())


def spread_eigenvalues(condition_number: float, n: int = 17) -> np.ndarray:
    """Eigenvalues spread evenly over [1, Q] (Fig. 6 and 7's quadratics)."""
    return np.linspace(1.0, float(condition_number), n)


def polyak_momentum(condition_number: float) -> float:
    """Optimal heavy-ball momentum ((sqrt(Q) - 1)/(sqrt(Q) + 1))^2 (Polyak)."""
    s = math.sqrt(condition_number)
    return ((s - 1) / (s + 1)) ** 2


def _lr_grid(mu_implicit: float, condition_number: float, n: int) -> np.ndarray:
    # effective step alpha (1 - mu_S) times lam_max ranges over (1e-3, 4): stability needs less than 2(1+c+d)
    return np.geomspace(1e-3, 4.0, n) / condition_number / (1 - mu_implicit)


def best_lr(moduli, mu_explicit: float, lam: np.ndarray, lr_grid: np.ndarray) -> tuple[float, float]:
    """(lr, rate) minimising max(moduli(mu_L, lr, lam)) over lr: log grid, then bounded Brent in log lr. `moduli`
    returns the largest root modulus per eigenvalue, broadcasting over (mu_L, lr) (root_moduli's contract)."""
    from scipy.optimize import minimize_scalar
    rates = moduli(mu_explicit, lr_grid, lam).max(axis=-1)
    j = int(np.argmin(rates))
    lo, hi = np.log(lr_grid[max(j - 1, 0)]), np.log(lr_grid[min(j + 1, lr_grid.size - 1)])
    f = lambda log_lr: float(moduli(mu_explicit, np.exp(log_lr), lam).max())  # noqa: E731
    res = minimize_scalar(f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10})
    if res.fun < rates[j]:
        return float(np.exp(res.x)), float(res.fun)
    return float(lr_grid[j]), float(rates[j])


def best_explicit_momentum(mu_implicit: float, condition_number: float, mu_explicit: float | None = None,
                           n_eigenvalues: int = 17, mu_range: tuple[float, float] = (-0.95, 0.95)
                           ) -> tuple[float, float, float]:
    """(mu_L, lr, rate) minimising the worst-case rate over eigenvalues spread over [1, Q].

    `mu_explicit` fixes mu_L (only lr is tuned); `mu_range` restricts the search (e.g. (0, 0.95): non-negative).
    A grid over mu_L (step 0.02) and log lr (200 points) finds the basin; bounded Brent searches then refine lr
    for each mu_L and mu_L around the three best grid points. The optimum sits on a sharp corner of the rate
    surface, which a pure grid only approaches slowly.
    """
    lrs = _lr_grid(mu_implicit, condition_number, 200)
    moduli = lambda mu, lr, lam_: root_moduli(mu_implicit, mu, lr, lam_)  # noqa: E731
    return search_momentum(moduli, lrs, condition_number, mu_explicit, n_eigenvalues, mu_range)


def search_momentum(moduli, lrs: np.ndarray, condition_number: float, mu_explicit: float | None = None,
                    n_eigenvalues: int = 17, mu_range: tuple[float, float] = (-0.95, 0.95), step: float = 0.02
                    ) -> tuple[float, float, float]:
    """best_explicit_momentum's search for any model whose root moduli `moduli(mu_L, lr, lam)` broadcast like
    root_moduli's (theory.laws uses it for staleness laws other than the geometric); `step`: the mu_L grid."""
    from scipy.optimize import minimize_scalar
    lam_ = spread_eigenvalues(condition_number, n_eigenvalues)
    if mu_explicit is not None:
        return (float(mu_explicit), *best_lr(moduli, mu_explicit, lam_, lrs))
    lo, hi = mu_range
    mus = np.arange(lo, hi + 1e-9, step)
    coarse_lam = spread_eigenvalues(condition_number, 5)  # the grid only locates the basin; refinement uses lam_
    table = moduli(mus[:, None], lrs[None, :], coarse_lam).max(axis=-1)
    grid = table.min(axis=1)
    best = (math.nan, math.nan, math.inf)
    for i in np.argsort(grid)[:3]:
        a, b = max(lo, mus[i] - step), min(hi, mus[i] + step)
        local = lrs[int(np.argmin(table[i]))] * np.geomspace(1 / 1.5, 1.5, 25)  # the basin found by the grid
        res = minimize_scalar(lambda m: best_lr(moduli, m, lam_, local)[1], bounds=(a, b), method="bounded",
                              options={"xatol": 1e-6})
        for mu in (float(res.x), float(mus[i])):
            lr, rate = best_lr(moduli, mu, lam_, local)
            if rate < best[2]:
                best = (mu, lr, rate)
    return best


def best_additive_momentum(mu_implicit: float, condition_number: float, n_eigenvalues: int = 17
                           ) -> tuple[float, float, float]:
    """The optimum if the momenta added exactly (a control): heavy ball with total momentum mu_S + mu_L and the
    effective step tuned, searched over mu_L; returns (mu_L, effective lr, rate). Its mu_L is mu*(Q) - mu_S."""
    lo, hi = max(-0.95, mu_implicit - 0.95), min(0.999, mu_implicit + 0.95)
    mu_total, lr, rate = best_explicit_momentum(0.0, condition_number, n_eigenvalues=n_eigenvalues, mu_range=(lo, hi))
    return mu_total - mu_implicit, lr, rate


def rate_by_iteration(mu_implicit: float, mu_explicit: float, lr: float, eigenvalues, n_steps: int = 3000) -> float:
    """Iterate recurrence (19) on a diagonal quadratic from e = 1 and fit the decay of the state norm.

    The state (e_t, e_{t-1}, e_{t-2}) over all eigen-directions is renormalised every step (no underflow); the
    rate is the geometric mean growth over the second half, which converges to the largest root modulus.
    """
    lam_ = np.asarray(eigenvalues, dtype=float)
    z_i = 1 + mu_implicit + mu_explicit - lr * (1 - mu_implicit) * lam_
    c, d = mu_implicit + mu_explicit + mu_implicit * mu_explicit, mu_implicit * mu_explicit
    state = np.ones((3, lam_.size))
    log_growth = []
    for _ in range(n_steps):
        new = z_i * state[0] - c * state[1] + d * state[2]
        state = np.stack([new, state[0], state[1]])
        norm = np.linalg.norm(state)
        log_growth.append(math.log(norm))
        state /= norm
    return float(math.exp(np.mean(log_growth[n_steps // 2:])))
