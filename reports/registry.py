"""Claims are data: every statement of the paper the suite checks, with its evidence and its check.

An experiment module (reports/experiments/*.py) declares KIND, NAME, VERSION, a frozen Config, PROFILES, a pure
`run(config) -> Result`, `figures(result) -> {name: matplotlib Figure}` and CLAIMS. A claim's check is a pure
function of the stored Result; a claim whose experiment has no stored result for the profile is not run.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

EXPERIMENT_MODULES = (
    "reports.experiments.symbolic",
    "reports.experiments.quadratic_rates",
    "reports.experiments.mc_staleness",
    "reports.experiments.mc_trajectories",
    "reports.experiments.mc_momentum",
    "reports.experiments.mc_tuning",
    "reports.experiments.cnn_momentum",
    "reports.experiments.real_async",
)
KINDS = ("symbolic", "quadratic", "monte_carlo", "cnn", "real_async", "finding")
PROFILES = ("quick", "full")


@dataclass(frozen=True)
class Verdict:
    passed: bool | None  # None: the evidence exists but does not cover the claim (shown as not run)
    expected: str
    measured: str


@dataclass(frozen=True)
class Claim:
    id: str
    paper_ref: str
    statement: str
    kind: str
    check: Callable[[Any], Verdict]
    tolerance: str
    why: str
    figure: str | None = None
    experiment: str = ""  # filled in by the registry from the declaring module


def experiments() -> dict[str, Any]:
    """Experiment name -> module, in report order."""
    out = {}
    for name in EXPERIMENT_MODULES:
        module = importlib.import_module(name)
        out[module.NAME] = module
    return out


def claims() -> list[Claim]:
    out = []
    for name, module in experiments().items():
        for claim in module.CLAIMS:
            out.append(Claim(**{**claim.__dict__, "experiment": name}))
    ids = [c.id for c in out]
    duplicated = {i for i in ids if ids.count(i) > 1}
    if duplicated:
        raise RuntimeError(f"duplicate claim ids: {sorted(duplicated)}")
    return out


def claim_by_id(claim_id: str) -> Claim:
    for claim in claims():
        if claim.id == claim_id:
            return claim
    known = ", ".join(c.id for c in claims())
    raise KeyError(f"unknown claim id {claim_id!r}; known ids: {known}")


def store_version(module) -> str:
    """The version a stored result is keyed by: the experiment's own VERSION and the model's (sim.MODEL_VERSION)."""
    import sim
    return f"{module.VERSION}.{sim.MODEL_VERSION}"


def max_abs_z(mean, se, reference, exact_tol: float = 1e-9) -> float:
    """Largest |mean - reference| / se over entries with se > 0; entries with se == 0 must match exactly."""
    import numpy as np
    mean, se, reference = (np.asarray(v, dtype=float) for v in (mean, se, reference))
    diff = np.abs(mean - reference)
    zero = se <= 0
    if np.any(diff[zero] > exact_tol):
        return float("inf")
    return float((diff[~zero] / se[~zero]).max()) if np.any(~zero) else 0.0
