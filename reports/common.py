"""What the entry points share: defaults, error reporting, loading an experiment's stored result."""
from __future__ import annotations

import sys
from pathlib import Path

from reports.registry import PROFILES, experiments, store_version
from sim.config import ConfigError, override, parse_override
from sim.store import Store

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RESULTS = ROOT / "results"
DEFAULT_OUT = ROOT / "reports" / "out"
EVIDENCE = ROOT / "reports" / "evidence"


class UsageError(ValueError):
    """Bad input from the command line."""


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise UsageError(f"unknown profile {profile!r}; use one of: {', '.join(PROFILES)}")
    return profile


def configs(profile: str, settings: list[str] | None = None) -> dict:
    """Experiment name -> config for the profile, with `experiment.key=value` overrides applied strictly."""
    mods = experiments()
    out = {name: mod.PROFILES[profile] for name, mod in mods.items()}
    for text in settings or []:
        key, value = parse_override(text)
        if "." not in key or key.split(".", 1)[0] not in mods:
            raise ConfigError(f"override {text!r} must name an experiment: EXPERIMENT.key=value with EXPERIMENT one "
                              f"of {', '.join(mods)}")
        name, field = key.split(".", 1)
        try:
            out[name] = override(out[name], {field: value})
        except ValueError as exc:
            raise ConfigError(f"{name}: {exc}") from None
    return out


def load(profile: str, results: Path, use_evidence: bool = True) -> dict:
    """Experiment name -> (Result or None, source) for the profile's configs; reads only, never computes."""
    out = {}
    for name, module in experiments().items():
        config = module.PROFILES[profile]
        result = Store(results).load(module.KIND, name, config, store_version(module))
        source = "local"
        if result is None and use_evidence:
            result = Store(EVIDENCE).load(module.KIND, name, config, store_version(module))
            source = "evidence"
        out[name] = (result, source if result is not None else None)
    return out


def fail(message: str, code: int = 2) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(code)
