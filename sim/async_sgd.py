"""Asynchronous SGD, vectorised over replicas (the predictions it is compared with live in theory.predictions).

`run_workers` simulates the workers faithfully: each of the M workers holds the parameters it read; when the
schedule says it writes, its gradient (taken at its own snapshot, plus noise) is applied to the current
parameters together with explicit momentum mu_L at the store, and it then reads the new parameters. Exact for
any work-time law: M snapshots per replica, no ring buffer, no truncation.

`run_iid` draws the staleness i.i.d. from a law instead (the setting of Theorem 2's assumption, not a queue).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.queue import Schedule


@dataclass
class Trajectories:
    """Iterates x[t] (t = 0..T) and the read index of each update, for R replicas: shapes (T+1, R, d), (R, T)."""
    x: np.ndarray
    read_index: np.ndarray


def _check_step(lr, mu_explicit):
    """Validate and shape lr and mu_L: scalars, or one value per replica (shape (R,)) for batched sweeps, or (R, T),
    one value per replica and update (a controller that changes them during the run)."""
    lr_, mu_ = np.asarray(lr, dtype=float), np.asarray(mu_explicit, dtype=float)
    if not np.all(np.isfinite(lr_)) or np.any(lr_ <= 0):
        raise ValueError(f"lr (alpha) must be a positive finite number, got {lr!r}")
    if not np.all(np.isfinite(mu_)) or np.any(np.abs(mu_) >= 1):
        raise ValueError(f"mu_explicit (mu_L) must be in (-1, 1), got {mu_explicit!r}")
    return (lr_[:, None] if lr_.ndim == 1 else lr_), (mu_[:, None] if mu_.ndim == 1 else mu_)


def run_workers(objective, schedule: Schedule, lr: float, mu_explicit: float, w0, noise_std: float = 0.0,
                seed: int = 0) -> Trajectories:
    """Asynchronous SGD driven by a batch schedule (arrays (R, T)), one replica per schedule row."""
    lr, mu_explicit = _check_step(lr, mu_explicit)
    worker = np.atleast_2d(schedule.worker)
    n_replicas, n_steps = worker.shape
    per_update = mu_explicit.ndim == 2 and mu_explicit.shape[1] > 1
    lr_per_update = lr.ndim == 2 and lr.shape[1] > 1
    for name, value, flag in (("mu_explicit", mu_explicit, per_update), ("lr", lr, lr_per_update)):
        if flag and value.shape != (n_replicas, n_steps):
            raise ValueError(f"{name} per update must have shape (replicas, updates) = {(n_replicas, n_steps)}")
    rng = np.random.default_rng(seed)
    w = np.broadcast_to(np.asarray(w0, dtype=float), (n_replicas, objective.dim)).copy()
    x = np.empty((n_steps + 1, n_replicas, objective.dim))
    x[0] = w
    # snapshots of all replicas' workers in one flat (R*M, d) array, addressed by replica * M + worker
    snapshots = np.repeat(w, schedule.n_workers, axis=0)
    version = np.zeros(n_replicas * schedule.n_workers, dtype=np.int64)
    read_index = np.empty((n_steps, n_replicas), dtype=np.int64)
    # step-major and contiguous: row t holds every replica's slot for update t
    flat = np.ascontiguousarray((np.arange(n_replicas)[:, None] * schedule.n_workers + worker).T)
    for t in range(n_steps):
        slot = flat[t]
        grad = objective.gradient(snapshots.take(slot, axis=0))
        if noise_std:
            grad += noise_std * rng.standard_normal(grad.shape)
        new = x[t + 1]  # same operation order as heavy_ball: (w - lr g) + mu (w - w_prev)
        np.subtract(x[t], x[t - 1] if t else x[t], out=new)
        new *= mu_explicit[:, t:t + 1] if per_update else mu_explicit
        grad *= lr[:, t:t + 1] if lr_per_update else lr
        np.add(x[t] - grad, new, out=new)
        read_index[t] = version[slot]
        snapshots[slot] = new
        version[slot] = t + 1
    return Trajectories(x=x, read_index=read_index.T)


def run_iid(objective, staleness: np.ndarray, lr: float, mu_explicit: float, w0, noise_std: float = 0.0,
            seed: int = 0) -> Trajectories:
    """Asynchronous SGD whose update t uses the gradient at w_{max(t - tau_t, 0)}; staleness has shape (R, T)."""
    lr, mu_explicit = _check_step(lr, mu_explicit)
    if (mu_explicit.ndim == 2 and mu_explicit.shape[1] > 1) or (lr.ndim == 2 and lr.shape[1] > 1):
        raise ValueError("run_iid takes one lr and mu_explicit per replica, not per update")
    staleness = np.atleast_2d(staleness)
    n_replicas, n_steps = staleness.shape
    rng = np.random.default_rng(seed)
    x = np.empty((n_steps + 1, n_replicas, objective.dim))
    x[0] = np.broadcast_to(np.asarray(w0, dtype=float), (n_replicas, objective.dim))
    rows = np.arange(n_replicas)
    read_index = np.maximum(np.arange(n_steps)[None, :] - staleness, 0)
    for t in range(n_steps):
        grad = objective.gradient(x[read_index[:, t], rows])
        if noise_std:
            grad = grad + noise_std * rng.standard_normal(grad.shape)
        momentum = mu_explicit * (x[t] - x[t - 1]) if t > 0 else 0.0
        x[t + 1] = x[t] - lr * grad + momentum
    return Trajectories(x=x, read_index=read_index)


def heavy_ball(objective, n_steps: int, lr: float, mu_explicit: float, w0) -> np.ndarray:
    """Deterministic heavy ball (3) from w_{-1} = w_0: iterates, shape (T+1, d)."""
    w = np.asarray(w0, dtype=float).copy()
    previous = w.copy()
    out = [w.copy()]
    for _ in range(n_steps):
        w, previous = w - lr * objective.gradient(w) + mu_explicit * (w - previous), w
        out.append(w.copy())
    return np.array(out)
