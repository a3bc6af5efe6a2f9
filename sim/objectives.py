"""Test objectives: a diagonal quadratic (affine gradient), a non-convex double well, and logistic regression (the
real parameter server's workload; `as_objective` makes it a vectorised sim.async_sgd objective)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Quadratic:
    """f(w) = 1/2 sum_i lam_i (w_i - w*_i)^2; the gradient is affine, so E grad f(w) = grad f(E w)."""
    eigenvalues: tuple[float, ...]

    @property
    def dim(self) -> int:
        return len(self.eigenvalues)

    def gradient(self, w: np.ndarray) -> np.ndarray:
        return w * np.asarray(self.eigenvalues)


@dataclass(frozen=True)
class DoubleWell:
    """f(w) = sum_i (w_i^2 - 1)^2 / 4: non-convex, minima at +-1, gradient w^3 - w (not affine)."""
    dim: int = 1

    def gradient(self, w: np.ndarray) -> np.ndarray:
        return w ** 3 - w


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

    def as_objective(self):
        """Full-batch logistic regression as a sim.async_sgd objective (gradients of many replicas at once)."""
        return _FullBatch(self)

    def loss(self, w: np.ndarray) -> float:
        z = np.clip(self.x @ w, -50, 50)
        return float(np.mean(np.log1p(np.exp(z)) - self.y * z))


class _FullBatch:
    def __init__(self, work: LogReg):
        self.dim, self.gradient = work.dim, work.batched_full_gradient
