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
