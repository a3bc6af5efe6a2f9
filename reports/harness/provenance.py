"""Provenance of a run: git SHA with a dirty flag, versions, device, seeds, wall time."""
from __future__ import annotations

import platform
import subprocess
import sys
from datetime import datetime, timezone

import numpy as np

from reports.harness.paths import ROOT



def git_state(ignoring: tuple[str, ...] = ()) -> tuple[str, bool]:
    """(commit SHA or 'unknown', dirty flag) of the repository this code runs from; changes to the files `ignoring`
    (paths from the repository's root: outputs such as the ledger, not code) do not make it dirty."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             timeout=10).stdout.strip() or "unknown"
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                     *(f":(exclude){path}" for path in ignoring)], cwd=ROOT,
                                    capture_output=True, text=True, timeout=10).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return "unknown", True
    return sha, dirty


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "numpy": np.__version__}
    for name in ("scipy", "sympy", "torch"):
        module = sys.modules.get(name)
        if module is not None:
            out[name] = getattr(module, "__version__", "?")
    return out


def device() -> str:
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        return f"cuda: {torch.cuda.get_device_name(0)} (CUDA {torch.version.cuda})"
    return f"cpu: {platform.processor() or platform.machine()}"


def provenance(seeds: dict, wall_seconds: float) -> dict:
    sha, dirty = git_state()
    return {"git_sha": sha, "dirty": dirty, "versions": versions(), "device": device(),
            "host": platform.node(), "seeds": seeds, "wall_seconds": round(wall_seconds, 3),
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def seeds_of(config) -> dict:
    """The seed fields of a config (its provenance's seeds)."""
    import dataclasses
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config) if "seed" in f.name}


def timed(run, config, **kw):
    """run(config, **kw) -> Result, with the provenance the harness owns: git SHA, dirty flag, versions, device,
    seeds and wall time (an experiment's own provenance entries are kept beside them)."""
    import time
    start = time.time()
    result = run(config, **kw)
    result.provenance = provenance(seeds_of(config), time.time() - start) | dict(result.provenance or {})
    return result
