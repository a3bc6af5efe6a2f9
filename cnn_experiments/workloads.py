"""What a real worker computes: a mini-batch gradient of logistic regression (fast) or of cifar10_quick.

Parameters travel as flat float64 numpy vectors. Each worker process builds its workload once (cached by
(name, seed)) from the same seed as the server, so no data is shipped with the tasks.
"""
from __future__ import annotations

import numpy as np

from sim.objectives import LogReg  # noqa: F401  (the numpy workload; re-exported for the server)

_CACHE: dict = {}


class CNN:
    """cifar10_quick (width 0.25) on Fashion-MNIST; parameters flattened."""

    def __init__(self, seed: int = 0, n_train: int = 10_000, width: float = 0.25):
        import torch

        from cnn_experiments import model
        from cnn_experiments.data import load
        from cnn_experiments.train import Data
        torch.set_num_threads(1)
        self.torch, self.model = torch, model
        self.data = Data(load("fashion_mnist"), n_train, 512, "cpu")
        params = model.init_params([seed], self.data.channels, self.data.size, width)
        self.shapes = {k: v.shape[1:] for k, v in params.items()}
        self.flat0 = np.concatenate([v[0].reshape(-1).numpy() for v in params.values()]).astype(np.float64)
        self.dim = self.flat0.size

    def init(self) -> np.ndarray:
        return self.flat0.copy()

    def _params(self, w: np.ndarray) -> dict:
        out, i = {}, 0
        for k, shape in self.shapes.items():
            n = int(np.prod(shape))
            out[k] = self.torch.tensor(w[i:i + n], dtype=self.torch.float32).reshape(1, *shape).requires_grad_(True)
            i += n
        return out

    def _grad_on(self, w: np.ndarray, x, y) -> np.ndarray:
        params = self._params(w)
        loss = self.model.losses(params, x.unsqueeze(0), y.unsqueeze(0)).sum()
        grads = self.torch.autograd.grad(loss, list(params.values()))
        return np.concatenate([g.reshape(-1).numpy() for g in grads]).astype(np.float64)

    def gradient(self, w: np.ndarray, batch_seed: int, batch_size: int) -> np.ndarray:
        idx = self.torch.as_tensor(np.random.default_rng(batch_seed).integers(0, self.data.n, batch_size))
        return self._grad_on(w, self.data.x[idx], self.data.y[idx])

    def full_gradient(self, w: np.ndarray) -> np.ndarray:
        return self._grad_on(w, self.data.eval_x, self.data.eval_y)

    def loss(self, w: np.ndarray) -> float:
        with self.torch.no_grad():
            x, y = self.data.eval_x, self.data.eval_y
            return float(self.model.losses(self._params(w), x.unsqueeze(0), y.unsqueeze(0))[0])


def get(name: str, seed: int, examples: int = 4096):
    """The workload (cached per process); `examples`: logistic regression's data size (the CNN's is fixed)."""
    if name not in ("logreg", "cnn"):
        raise ValueError(f"unknown model {name!r}; choose logreg or cnn")
    key = (name, seed, examples if name == "logreg" else None)
    if key not in _CACHE:
        _CACHE[key] = LogReg(seed, n=examples) if name == "logreg" else CNN(seed)
    return _CACHE[key]
