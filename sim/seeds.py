"""One seed tree per run: numpy SeedSequence children, one per role (queue, batches, init, noise, ...).

Roles never share a stream, and adding a role at the end does not change the streams of the others.
"""
from __future__ import annotations

import numpy as np


def seed_tree(seed, *roles: str) -> dict[str, np.random.SeedSequence]:
    """{role: SeedSequence} spawned from `seed` (an int >= 0, a SeedSequence, or a list of ints) in role order."""
    if len(set(roles)) != len(roles) or not roles:
        raise ValueError(f"roles must be distinct and non-empty, got {roles!r}")
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return dict(zip(roles, root.spawn(len(roles))))


def int_seed(seed, role: str) -> int:
    """A 32-bit integer seed for `role` from the seed tree of `seed` (for APIs that take an int, such as a torch
    generator or a RunSpec): a child stream, never arithmetic on the parent seed."""
    return int(seed_tree(seed, role)[role].generate_state(1)[0])


def int_seeds(seed, role: str, n: int) -> list[int]:
    """n 32-bit integer seeds for the members of `role` (replicas, runs): one child stream of `role` each."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    parent = seed_tree(seed, role)[role]
    return [int(child.generate_state(1)[0]) for child in parent.spawn(n)]
