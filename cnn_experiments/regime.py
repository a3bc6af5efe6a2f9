"""The regime a CNN run trains in, measured at a checkpoint of one model (torch; pure apart from the compute).

- Sharpness lam_max: the largest eigenvalue of the Hessian of the training loss on the fixed evaluation images, by
  power iteration on Hessian-vector products (double backward), from a seeded random start.
- Gradient noise scale B_simple = tr(Sigma) / |G|^2 (McCandlish et al. 2018): Sigma the covariance of per-example
  gradients and G their mean, on the same images (per-example gradients with torch.func).
Both read one model's parameters, shape (1, ...) per tensor as the trainer keeps them.
"""
from __future__ import annotations

import torch

from cnn_experiments import model


def _loss(params: dict, x: torch.Tensor, y: torch.Tensor, nhwc: bool) -> torch.Tensor:
    return model.losses(params, x.unsqueeze(0), y.unsqueeze(0), nhwc)[0]


def _hvp(params: dict, vec: dict, x, y, nhwc: bool, chunk: int) -> dict:
    """H v on all n images (the mean loss), summed over chunks of images."""
    names, n = list(params), x.shape[0]
    out = {k: torch.zeros_like(v) for k, v in params.items()}
    theta = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    for start in range(0, n, chunk):
        xb, yb = x[start:start + chunk], y[start:start + chunk]
        loss = _loss(theta, xb, yb, nhwc) * (xb.shape[0] / n)
        grads = torch.autograd.grad(loss, [theta[k] for k in names], create_graph=True)
        dot = sum((g * vec[k]).sum() for g, k in zip(grads, names))
        hv = torch.autograd.grad(dot, [theta[k] for k in names])
        for k, h in zip(names, hv):
            out[k] += h.detach()
    return out


def sharpness(params: dict, x: torch.Tensor, y: torch.Tensor, iterations: int = 20, seed: int = 0,
              nhwc: bool = False, chunk: int = 256) -> float:
    """lam_max of the mean training loss on (x, y): power iteration with the Rayleigh quotient of the last vector."""
    gen = torch.Generator().manual_seed(seed)
    vec = {k: torch.randn(v.shape, generator=gen).to(v.device) for k, v in params.items()}
    value = 0.0
    for _ in range(iterations):
        norm = torch.sqrt(sum((v ** 2).sum() for v in vec.values()))
        vec = {k: v / norm for k, v in vec.items()}
        hv = _hvp(params, vec, x, y, nhwc, chunk)
        value = float(sum((hv[k] * vec[k]).sum() for k in vec))
        vec = hv
    return value


def noise_scale(params: dict, x: torch.Tensor, y: torch.Tensor, nhwc: bool = False, chunk: int = 256) -> dict:
    """{'b_simple': tr(Sigma) / |G|^2, 'trace_sigma', 'grad_norm_sq'} from per-example gradients on (x, y)."""
    from torch.func import functional_call, grad, vmap  # noqa: F401  (functional_call kept for clarity of intent)
    detached = {k: v.detach() for k, v in params.items()}

    def one(p, xi, yi):
        return _loss(p, xi.unsqueeze(0), yi.unsqueeze(0), nhwc)

    per_example = vmap(grad(one), in_dims=(None, 0, 0))
    total = {k: torch.zeros_like(v) for k, v in detached.items()}
    squares = 0.0
    n = x.shape[0]
    for start in range(0, n, chunk):
        g = per_example(detached, x[start:start + chunk], y[start:start + chunk])
        for k in total:
            total[k] += g[k].sum(dim=0)
        squares += float(sum((v ** 2).sum() for v in g.values()))
    mean_sq = float(sum(((v / n) ** 2).sum() for v in total.values()))
    trace = squares / n - mean_sq          # E|g_i|^2 - |G|^2 (population covariance over the n images)
    return {"b_simple": trace / mean_sq if mean_sq > 0 else float("inf"), "trace_sigma": trace,
            "grad_norm_sq": mean_sq}


def at_checkpoints(spec, data, settings, updates, iterations: int = 20, eval_images: int = 0) -> dict:
    """One synchronous configuration (a train.RunSpec) trained to each of `updates` on its own seed's mini-batches:
    its sharpness, noise scale and loss there (a regime chunk's payload)."""
    from cnn_experiments.train import channels_last, eval_losses, warm_start
    nhwc = channels_last(settings, data.x.device)
    out = {"mu": spec.mu_explicit, "lr": spec.lr, "at": [int(u) for u in updates], "sharpness": [], "b_simple": [],
           "loss": []}
    for at in updates:
        w = warm_start(spec, data, settings, int(at))
        out["sharpness"].append(sharpness(w, data.eval_x, data.eval_y, iterations, seed=spec.seed, nhwc=nhwc))
        out["b_simple"].append(noise_scale(w, data.eval_x, data.eval_y, nhwc)["b_simple"])
        out["loss"].append(float(eval_losses(w, data, nhwc, eval_images)[0]))
    return out
