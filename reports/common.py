"""What the entry points share: defaults, error reporting, the plan a run executed, loading stored results."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from reports.harness import evidence
from reports.harness.config import ConfigError, as_dict, override, parse_override
from reports.harness.store import Store, write_json
from reports.registry import PROFILES, experiment_names, experiments

from reports.harness.paths import DEFAULT_OUT, DEFAULT_RESULTS, EVIDENCE, ROOT  # noqa: F401  (re-exported)


class UsageError(ValueError):
    """Bad input from the command line."""


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise UsageError(f"unknown profile {profile!r}; use one of: {', '.join(PROFILES)}")
    return profile


def configs(profile: str, settings: list[str] | None = None, only=None) -> dict:
    """Experiment name -> config for the profile (every experiment, or those named in `only`), with
    `experiment.key=value` overrides applied strictly."""
    changes: dict = {}
    for text in settings or []:
        key, value = parse_override(text)
        if "." not in key or key.split(".", 1)[0] not in experiment_names():
            raise ConfigError(f"override {text!r} must name an experiment: EXPERIMENT.key=value with EXPERIMENT one "
                              f"of {', '.join(experiment_names())}")
        name, field = key.split(".", 1)
        changes.setdefault(name, {})[field] = value
    exps = experiments(None if only is None else [*only, *changes])
    out = {name: exp.profiles[profile] for name, exp in exps.items()}
    for name, fields in changes.items():  # all of an experiment's overrides at once: their order does not matter
        if profile in exps[name].committed:
            raise ConfigError(f"{name} at the {profile} profile is committed evidence (reports/evidence/), computed "
                              f"once with fixed settings: change them in its config.py and recompute with `make "
                              f"evidence`, or use --profile full")
        try:
            out[name] = override(out[name], fields)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{name}: {exc}") from None
    return out


def plan_path(results: Path, profile: str) -> Path:
    return Path(results) / f"plan-{profile}.json"


def write_plan(results: Path, profile: str, settings: list[str], cfgs: dict) -> None:
    """Record the configs a run executed (atomically), so that the report is built from what actually ran."""
    doc = {"profile": profile, "settings": list(settings), "configs": {n: as_dict(c) for n, c in cfgs.items()}}
    write_json(plan_path(results, profile), doc)


def read_plan(results: Path, profile: str) -> tuple[dict, list[str]]:
    """(configs, settings) of the last run of this profile in `results`; the profile's defaults if none ran."""
    path = plan_path(results, profile)
    defaults = {name: exp.profiles[profile] for name, exp in experiments().items()}
    try:
        doc = json.loads(path.read_text())
        cfgs = {name: override(defaults[name], doc["configs"].get(name, {})) for name in defaults}
        return cfgs, [str(s) for s in doc.get("settings", [])]
    except FileNotFoundError:
        return defaults, []
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError, OSError) as exc:
        print(f"warning: ignoring unreadable run plan {path} ({type(exc).__name__}); using the profile's defaults",
              file=sys.stderr)
        return defaults, []


def committed_folder(exp, config, root: Path = EVIDENCE) -> Path:
    """Where an experiment's committed chunks for this config live."""
    return evidence.folder(root, exp.method, exp.name, config, exp.chunked.key_version(), exp.chunked.seed_fields)


def load_committed(exp, config, root: Path = EVIDENCE):
    """(Result or None, 'committed' or why not: 'k of n chunks committed', a damaged chunk)."""
    return evidence.assemble(exp.chunked, config, committed_folder(exp, config, root))


def load(profile: str, results: Path, use_evidence: bool = True, cfgs: dict | None = None) -> dict:
    """Experiment name -> (Result or None, source) for the given configs; reads only, never computes. An experiment
    whose profile is committed is assembled from its committed chunks (source 'committed')."""
    cfgs = cfgs or {name: exp.profiles[profile] for name, exp in experiments().items()}
    return {name: load_one(exp, profile, cfgs[name], results, use_evidence) for name, exp in experiments().items()}


def load_one(exp, profile: str, config, results: Path, use_evidence: bool = True):
    """(Result or None, source) of one experiment: its committed chunks where the profile is committed, else the
    results folder, then (use_evidence) reports/evidence/."""
    if profile in exp.committed:
        result, _ = load_committed(exp, config) if use_evidence else (None, "")
        return result, "committed" if result is not None else None
    result = Store(results).load(exp.method, exp.name, config, exp.store_version(config))
    source = "local"
    if result is None and use_evidence:
        result = Store(EVIDENCE).load(exp.method, exp.name, config, exp.store_version(config))
        source = "evidence"
    return result, source if result is not None else None


def fail(message: str, code: int = 2) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(code)
