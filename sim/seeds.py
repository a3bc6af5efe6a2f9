"""One seed tree per run: numpy SeedSequence children, one per role (queue, batches, init, noise, ...).

Roles never share a stream, and adding a role at the end does not change the streams of the others.
"""
from __future__ import annotations

import hashlib

import numpy as np


def seed_tree(seed, *roles: str) -> dict[str, np.random.SeedSequence]:
    """{role: SeedSequence} spawned from `seed` (an int >= 0, a SeedSequence, or a list of ints) in role order."""
    if len(set(roles)) != len(roles) or not roles:
        raise ValueError(f"roles must be distinct and non-empty, got {roles!r}")
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return dict(zip(roles, root.spawn(len(roles))))


def _root(seed) -> np.random.SeedSequence:
    return seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)


def role_stream(seed, role: str) -> np.random.SeedSequence:
    """The child stream of `seed` named `role`: its spawn key extends the parent's by a hash of the name, so two
    names never share a stream (and none shares one with the children that seed_tree spawns, which are numbered)."""
    if not isinstance(role, str) or not role:
        raise ValueError(f"a role must be a non-empty string, got {role!r}")
    root = _root(seed)
    words = np.frombuffer(hashlib.sha256(role.encode()).digest()[:8], dtype=np.uint32)
    return np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, *(int(w) | 2 ** 31 for w in words)))


def int_seed(seed, role: str) -> int:
    """A 32-bit integer seed for `role` (for APIs that take an int, such as a torch generator or a RunSpec): the
    named child stream of `seed`, never arithmetic on the parent seed; distinct roles, distinct seeds."""
    return int(role_stream(seed, role).generate_state(1)[0])


def int_seeds(seed, role: str, n: int) -> list[int]:
    """n 32-bit integer seeds for the members of `role` (replicas, runs): one child stream of `role` each."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    return [int(child.generate_state(1)[0]) for child in role_stream(seed, role).spawn(n)]


def first_child_seed(seed) -> int:
    """The 32-bit seed of the first child stream of `seed`, whatever the name: what the committed CNN chunks used
    for their warm starts and probes (one stream per seed; the probes at every M share it)."""
    return int(_root(seed).spawn(1)[0].generate_state(1)[0])


def first_child_seeds(seed, n: int) -> list[int]:
    """n 32-bit seeds from the children of the first child stream of `seed` (the committed CNN probes' replicas)."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    return [int(child.generate_state(1)[0]) for child in _root(seed).spawn(1)[0].spawn(n)]
