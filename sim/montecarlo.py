"""Mean trajectories of asynchronous SGD over many replicas, pooled chunk by chunk (R up to 10^6 in bounded memory)."""
from __future__ import annotations

import numpy as np

from sim import async_sgd
from sim.queue import simulate_batch
from sim.stats import Pool


def chunks(n_replicas: int, chunk: int):
    """(index, size) of consecutive chunks covering n_replicas."""
    done, index = 0, 0
    while done < n_replicas:
        size = min(chunk, n_replicas - done)
        yield index, size
        done, index = done + size, index + 1


def queue_trajectory(objective, n_workers: int, n_steps: int, n_replicas: int, chunk: int, lr: float,
                     mu_explicit: float, w0, noise_std: float, seed: np.random.SeedSequence, statistics=None,
                     **law) -> list[tuple[np.ndarray, np.ndarray]]:
    """Mean and SE over replicas of x_t (or of each `statistics[k](x)`, shape (T', R, d)) under the queue.

    Every chunk draws its schedule and its gradient noise from its own children of `seed` (no stream shared).
    """
    statistics = statistics or [lambda x: x]
    pools = [Pool() for _ in statistics]
    n_chunks = -(-n_replicas // chunk)
    for (index, size), child in zip(chunks(n_replicas, chunk), seed.spawn(n_chunks)):
        queue_seed, noise_seed = child.spawn(2)
        schedule = simulate_batch(n_workers, n_steps, size, seed=queue_seed, **law)
        x = async_sgd.run_workers(objective, schedule, lr, mu_explicit, w0, noise_std, seed=noise_seed).x
        for pool, statistic in zip(pools, statistics):
            pool.add(statistic(x))
    return [pool.mean_se() for pool in pools]
