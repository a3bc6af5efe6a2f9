"""Measured total momentum of CNN training: average R runs from one initial point, then fit the two-term model.

The implicit momentum lives in the expected iterates (see the Monte Carlo finding), so R runs that share the
initial weights but not the queue or the mini-batches are averaged. Parameters and the gradient at the current
iterate are projected on P random directions; the two-term least-squares fit of sim.estimators is applied to the
averaged projections.

Calibration: the runs train on the same n_examples the gradient regressor is computed on (the probe's objective
is exactly the one whose gradient it regresses on). With a gradient on other examples than those trained on, the
part of the true gradient the regressor misses is smooth in t and the previous step stands in for it: at M = 1,
where the truth is 0, the old probe reported about 0.3. Its SE comes from the two halves of the replicas.
"""
from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import torch

from cnn_experiments import model
from cnn_experiments.train import Data, RunSpec, Settings, _Batch
from sim.seeds import first_child_seed, first_child_seeds
from sim.estimators import fit_two_term, fit_two_term_corrected, jackknife_se


def _directions(params: dict, n_directions: int, seed: int) -> dict:
    gen = torch.Generator().manual_seed(seed)
    total = sum(v[0].numel() for v in params.values())
    return {k: (torch.randn((n_directions,) + v.shape[1:], generator=gen) / total ** 0.5).to(v.device)
            for k, v in params.items()}


def _project(params: dict, directions: dict) -> torch.Tensor:
    return sum(torch.einsum("k...,p...->kp", params[k], directions[k]) for k in params)


def measure(data: Data, settings: Settings, n_workers: int, lr: float, n_replicas: int, n_steps: int,
            n_directions: int = 32, init_seed: int = 0, seed: int = 0, mu_explicit: float = 0.0,
            n_examples: int | None = None) -> dict:
    specs = [RunSpec(n_workers, mu_explicit, lr, seed=s, init_seed=init_seed)
             for s in first_child_seeds(seed, n_replicas)]    # queues and mini-batches: one stream each
    own = _own_examples(data, n_examples)
    batch = _Batch(specs, own, replace(settings, budget=n_steps), track_staleness=False)
    directions = _directions(batch.w, n_directions, seed=first_child_seed(seed))
    xs, gs = [], []

    def record():  # gradient at the current iterate on the whole evaluation subset (close to the full gradient)
        w = {k: v.detach().clone().requires_grad_(True) for k, v in batch.w.items()}
        K = len(specs)
        grads = {k: torch.zeros_like(v) for k, v in w.items()}
        n = own.n
        for start in range(0, n, 256):
            xp, yp = own.x[start:start + 256], own.y[start:start + 256]
            loss = model.losses(w, xp.unsqueeze(0).expand(K, *xp.shape),
                                yp.unsqueeze(0).expand(K, yp.shape[0])).sum() * (xp.shape[0] / n)
            for k, g in zip(w, torch.autograd.grad(loss, list(w.values()))):
                grads[k] += g
        with torch.no_grad():
            xs.append(_project(batch.w, directions).cpu().numpy())   # (R, P): one row per replica
            gs.append(_project(grads, directions).cpu().numpy())

    record()
    for t in range(n_steps):
        batch.step(t)
        record()
    x, g = np.array(xs, dtype=float), np.array(gs, dtype=float)  # (T+1, R, P)
    mu_plain, _ = fit_two_term(x.mean(axis=1), g.mean(axis=1))
    mu, eta = fit_two_term_corrected(x, g)
    return {"n_workers": n_workers, "mu_explicit": mu_explicit, "mu": mu, "eta": eta, "lr": lr,
            "mu_se": jackknife_se(fit_two_term_corrected, x, g), "mu_plain": mu_plain,
            "mu_plain_se": jackknife_se(lambda a, b: fit_two_term(a.mean(axis=1), b.mean(axis=1)), x, g),
            "n_replicas": n_replicas, "n_steps": n_steps, "n_examples": own.n}


def _own_examples(data: Data, n_examples: int | None) -> Data:
    """The probe's training set: the first n_examples of the evaluation subset, on which its gradient is taken."""
    own = copy.copy(data)
    n = min(n_examples or data.eval_x.shape[0], data.eval_x.shape[0])
    own.x, own.y, own.n = data.eval_x[:n], data.eval_y[:n], n
    own.eval_x, own.eval_y = own.x, own.y
    return own
