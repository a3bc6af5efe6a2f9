"""The CPU kernels' instruction set, pinned for everything that computes results and evidence.

torch (ATen), oneDNN, OpenBLAS (numpy's linear algebra), MKL and numpy's own SIMD loops choose their kernels by the
CPU's instruction set, so the same code gives other bits on an AVX-512 machine than on an AVX2 one. Pinning all five
to AVX2 before the libraries load makes a result's bits the same on every x86 machine with AVX2 (the committed CNN
chunks were computed on AVX2 machines; recomputed on an AVX-512 one with the pin, they are bit-identical, and without
the OpenBLAS pin the momentum probe's least-squares fit is not). The libraries read these variables when they load:
the entry points set them in the environment first (the Makefile exports them; run directly, an entry point starts
itself again with them). A user may set other values; a chunk's provenance records what was in force, and `verify`
compares bits only between chunks of the same kind.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

PINNED = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "OPENBLAS_CORETYPE": "Haswell",
          "MKL_ENABLE_INSTRUCTIONS": "AVX2", "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR"}


def has_avx2() -> bool:
    try:
        flags = next((line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")), "")
    except OSError:
        return False
    return " avx2" in flags


def pin() -> str:
    """Put the pin in the environment (for this process's libraries not yet loaded and every child: pool workers, a
    local Dask cluster); returns what is in force."""
    if not has_avx2():
        return "not pinned: this CPU has no AVX2"
    for key, value in PINNED.items():
        os.environ.setdefault(key, value)
    loaded = [m for m in ("numpy", "torch") if m in sys.modules]
    return in_force() + (f" (numpy/torch were loaded before: {', '.join(loaded)} here may not follow it)"
                         if loaded and not _started_pinned() else "")


def in_force() -> str:
    return ", ".join(f"{k}={os.environ.get(k, '')}" for k in PINNED)


def _started_pinned() -> bool:
    return os.environ.get("SUITE_KERNELS_PINNED") == "1"


def main_pinned(run):
    """For `if __name__ == "__main__"`: start this command again with the kernels pinned when they were not when it
    started (the libraries are loaded by then), else run it."""
    missing = {k: v for k, v in PINNED.items() if k not in os.environ}
    if has_avx2() and missing and not _started_pinned() and getattr(sys, "orig_argv", None):
        os.execve(sys.executable, list(sys.orig_argv), {**os.environ, **missing, "SUITE_KERNELS_PINNED": "1"})
    os.environ["SUITE_KERNELS_PINNED"] = "1"
    return run()
