"""Caffe's cifar10_quick, K independent copies evaluated at once.

conv 5x5 32 -> max-pool 3/2 -> ReLU -> conv 5x5 32 -> ReLU -> avg-pool 3/2 -> conv 5x5 64 -> ReLU -> avg-pool 3/2
-> fc 64 -> fc 10 (Caffe pools round up: ceil_mode). Adapted to the input's channels and size; `width` scales the
channel counts (1.0 is the paper's network; the CPU quick profile may use less).

Initialisation: "he" (default) draws weights uniformly with bound sqrt(6 / fan_in) (Kaiming uniform) and biases with
bound 1 / sqrt(fan_in); "torch" is PyTorch's default (weights with bound 1 / sqrt(fan_in) too), which starts this
small network on a plateau at loss log(10) for tens of updates, so that early times to target measure the escape
from the plateau rather than the optimisation the paper studies (measured on the quick profile).

The K models are stacked as convolution groups (groups=K) and batched matrix products, so one forward/backward
computes K models on K different mini-batches. Parameters are a dict of tensors with a leading K axis.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

NAMES = ("conv1.w", "conv1.b", "conv2.w", "conv2.b", "conv3.w", "conv3.b", "fc1.w", "fc1.b", "fc2.w", "fc2.b")


def _pooled(size: int) -> int:
    return math.ceil((size - 3) / 2) + 1


def shapes(channels: int, size: int, width: float = 1.0, n_classes: int = 10) -> dict[str, tuple]:
    c1, c2, c3 = (max(1, round(c * width)) for c in (32, 32, 64))
    s = _pooled(_pooled(_pooled(size)))
    return {"conv1.w": (c1, channels, 5, 5), "conv1.b": (c1,), "conv2.w": (c2, c1, 5, 5), "conv2.b": (c2,),
            "conv3.w": (c3, c2, 5, 5), "conv3.b": (c3,), "fc1.w": (c3 * s * s, 64), "fc1.b": (64,),
            "fc2.w": (64, n_classes), "fc2.b": (n_classes,)}


INITS = ("he", "torch")


def init_params(seeds, channels: int, size: int, width: float = 1.0, device="cpu",
                init: str = "he") -> dict[str, torch.Tensor]:
    """K models, model k initialised from seeds[k] (uniform fan-in init, see the module's docstring), float32."""
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    out = {name: [] for name in NAMES}
    spec = shapes(channels, size, width)
    for seed in seeds:
        gen = torch.Generator().manual_seed(int(seed))
        for name in NAMES:
            shape = spec[name]
            weight_name = name.replace(".b", ".w")
            w_shape = spec[weight_name]
            fan_in = w_shape[0] if name.startswith("fc") else int(math.prod(w_shape[1:]))
            bound = (math.sqrt(6) if init == "he" and name.endswith(".w") else 1) / math.sqrt(fan_in)
            out[name].append((torch.rand(shape, generator=gen) * 2 - 1) * bound)
    return {name: torch.stack(values).to(device) for name, values in out.items()}


def forward(params: dict[str, torch.Tensor], x: torch.Tensor, channels_last: bool = False) -> torch.Tensor:
    """Logits (K, B, classes) of K models on their own batches x (K, B, C, H, W); `channels_last` lays the
    activations out as NHWC (faster convolutions on CUDA tensor cores)."""
    K, B = x.shape[:2]
    h = x.transpose(0, 1).reshape(B, K * x.shape[2], *x.shape[3:])
    if channels_last:
        h = h.contiguous(memory_format=torch.channels_last)

    def conv(h, name):
        w, b = params[f"{name}.w"], params[f"{name}.b"]
        return F.conv2d(h, w.reshape(-1, *w.shape[2:]), b.reshape(-1), padding=2, groups=K)

    h = F.relu(F.max_pool2d(conv(h, "conv1"), 3, 2, ceil_mode=True))
    h = F.avg_pool2d(F.relu(conv(h, "conv2")), 3, 2, ceil_mode=True)
    h = F.avg_pool2d(F.relu(conv(h, "conv3")), 3, 2, ceil_mode=True)
    h = h.reshape(B, K, -1).transpose(0, 1)                       # (K, B, features)
    h = torch.baddbmm(params["fc1.b"][:, None, :], h, params["fc1.w"])
    return torch.baddbmm(params["fc2.b"][:, None, :], h, params["fc2.w"])


def losses(params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor,
           channels_last: bool = False) -> torch.Tensor:
    """Mean cross-entropy of each of the K models on its own batch: shape (K,)."""
    logits = forward(params, x, channels_last)
    K, B = y.shape
    return F.cross_entropy(logits.reshape(K * B, -1), y.reshape(-1), reduction="none").reshape(K, B).mean(dim=1)
