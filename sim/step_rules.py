"""Step rules of the later literature: the step of one update as a function of the staleness tau of the gradient it
applies. Pure functions, vectorised over updates; shared by the queue replay, the Dask
server and the CNN trainer.

- constant: alpha.
- delay_adaptive (Mishchenko, Bach, Even, Woodworth, NeurIPS 2022; their code's `lr * M / max(M, tau)`):
  alpha M / max(M, tau) — the full step while tau <= M, then as 1/tau.
- staleness_aware (Zhang, Gupta, Lian, Liu 2016): alpha / max(1, tau) — the full step at tau = 0 and tau = 1.
- threshold (Koloskova, Stich, Jaggi, NeurIPS 2022, as paraphrased): the full step while
  tau <= tau_C (tau_C = M by default), alpha tau_C / tau above it.
"""
from __future__ import annotations

import numpy as np

RULES = ("constant", "delay_adaptive", "staleness_aware", "threshold")


def step(rule: str, lr, staleness, n_workers: int, threshold: float | None = None) -> np.ndarray:
    """The step of each update (an array shaped like `staleness`) under `rule`."""
    tau = np.asarray(staleness, dtype=float)
    if np.any(tau < 0) or not np.all(np.isfinite(tau)):
        raise ValueError("staleness must be finite and non-negative")
    if isinstance(n_workers, bool) or not isinstance(n_workers, (int, np.integer)) or n_workers < 1:
        raise ValueError(f"n_workers (M) must be an integer >= 1, got {n_workers!r}")
    lr = np.asarray(lr, dtype=float)
    if rule == "constant":
        return np.broadcast_to(lr, tau.shape) * np.ones_like(tau)
    if rule == "delay_adaptive":
        return lr * n_workers / np.maximum(n_workers, tau)
    if rule == "staleness_aware":
        return lr / np.maximum(1.0, tau)
    if rule == "threshold":
        cut = float(n_workers if threshold is None else threshold)
        if not cut > 0:
            raise ValueError(f"the threshold tau_C must be positive, got {cut!r}")
        return lr * np.minimum(1.0, cut / np.maximum(tau, 1e-300))
    raise ValueError(f"unknown step rule {rule!r}; choose one of {', '.join(RULES)}")
