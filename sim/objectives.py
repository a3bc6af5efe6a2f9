"""Test objectives for the Monte Carlo: a diagonal quadratic (affine gradient) and a non-convex double well."""
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

    def value(self, w: np.ndarray) -> np.ndarray:
        return 0.5 * (w ** 2 * np.asarray(self.eigenvalues)).sum(axis=-1)


@dataclass(frozen=True)
class DoubleWell:
    """f(w) = sum_i (w_i^2 - 1)^2 / 4: non-convex, minima at +-1, gradient w^3 - w (not affine)."""
    dim: int = 1

    def gradient(self, w: np.ndarray) -> np.ndarray:
        return w ** 3 - w

    def value(self, w: np.ndarray) -> np.ndarray:
        return ((w ** 2 - 1) ** 2 / 4).sum(axis=-1)
