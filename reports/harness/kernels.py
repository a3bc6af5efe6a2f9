"""The CPU kernels' instruction set, pinned for committed evidence.

torch (ATen) and oneDNN choose their kernels by the CPU's instruction set, so the same code gives other bits on an
AVX-512 machine than on an AVX2 one. Pinning both to AVX2 before torch is imported makes a chunk's bits the same on
every x86 machine with AVX2 (the committed CNN chunks were computed on AVX2 machines; recomputed here with the pin,
they are bit-identical). A user may pin something else by setting the variables; the chunk's provenance records what
was in force, and `verify` compares bits only between chunks of the same kind.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

PINNED = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}


def has_avx2() -> bool:
    try:
        flags = next((line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")), "")
    except OSError:
        return False
    return " avx2" in flags


def pin() -> str:
    """Pin the kernels (before torch is imported; spawned workers inherit the environment); returns what is in
    force, or why nothing could be pinned."""
    if "torch" in sys.modules:
        return "not pinned: torch was imported first"
    if not has_avx2():
        return "not pinned: this CPU has no AVX2"
    for key, value in PINNED.items():
        os.environ.setdefault(key, value)
    return in_force()


def in_force() -> str:
    return ", ".join(f"{k}={os.environ.get(k, '')}" for k in PINNED)
