"""What a real worker computes: a mini-batch gradient of logistic regression (fast) or of cifar10_quick.

Parameters travel as flat float64 numpy vectors. Each worker process builds its workload once (cached by
(name, seed)) from the same seed as the server, so no data is shipped with the tasks.
"""
from __future__ import annotations

import numpy as np

_CACHE: dict = {}


class LogReg:
    """Logistic regression on a synthetic, seeded, linearly structured data set (d features, n examples)."""

    def __init__(self, seed: int = 0, n: int = 4096, dim: int = 20):
        rng = np.random.default_rng(seed)
        self.x = rng.standard_normal((n, dim)) * np.linspace(0.2, 2.0, dim)
        w_true = rng.standard_normal(dim)
        self.y = (rng.random(n) < 1 / (1 + np.exp(-self.x @ w_true))).astype(float)
        self.dim = dim

    def init(self) -> np.ndarray:
        return np.zeros(self.dim)

    def _grad(self, w: np.ndarray, idx) -> np.ndarray:
        x, y = self.x[idx], self.y[idx]
        p = 1 / (1 + np.exp(-np.clip(x @ w, -50, 50)))
        return x.T @ (p - y) / len(y)

    def gradient(self, w: np.ndarray, batch_seed: int, batch_size: int) -> np.ndarray:
        """Mini-batch gradient (with replacement); a batch_size >= n means the full gradient."""
        if batch_size >= len(self.y):
            return self._grad(w, slice(None))
        idx = np.random.default_rng(batch_seed).integers(0, len(self.y), batch_size)
        return self._grad(w, idx)

    def full_gradient(self, w: np.ndarray) -> np.ndarray:
        return self._grad(w, slice(None))

    def batched_full_gradient(self, w: np.ndarray) -> np.ndarray:
        """Full gradients at many points at once, w of shape (R, d): the workload as a sim.async_sgd objective."""
        p = 1 / (1 + np.exp(-np.clip(w @ self.x.T, -50, 50)))
        return (p - self.y) @ self.x / len(self.y)

    def optimum(self, n_newton: int = 30) -> np.ndarray:
        """The minimiser w* by Newton's method from 0 (d is small; the loss is strictly convex on this data)."""
        w = self.init()
        for _ in range(n_newton):
            p = 1 / (1 + np.exp(-np.clip(self.x @ w, -50, 50)))
            hessian = (self.x * (p * (1 - p))[:, None]).T @ self.x / len(self.y)
            w = w - np.linalg.solve(hessian, self.full_gradient(w))
        return w

    def loss(self, w: np.ndarray) -> float:
        z = np.clip(self.x @ w, -50, 50)
        return float(np.mean(np.log1p(np.exp(z)) - self.y * z))


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


def get(name: str, seed: int):
    if name not in ("logreg", "cnn"):
        raise ValueError(f"unknown model {name!r}; choose logreg or cnn")
    key = (name, seed)
    if key not in _CACHE:
        _CACHE[key] = LogReg(seed) if name == "logreg" else CNN(seed)
    return _CACHE[key]
