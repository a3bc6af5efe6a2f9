"""SymPy derivations of the paper's results, and the closed forms the rest of the suite uses."""
from theory import quadratic  # noqa: F401  (theory.quadratic.rate, theory.quadratic.best_explicit_momentum)


def implicit_momentum(n_workers: int) -> float:
    """mu_S = 1 - 1/M: implicit momentum of M asynchronous workers with exponential work times (Theorem 5)."""
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"n_workers must be an integer >= 1, got {n_workers!r}")
    return 1.0 - 1.0 / n_workers
