"""Frozen configuration dataclasses with strict overrides, and their canonical hash.

Every experiment's knobs live in one frozen dataclass. Overrides are strict: an unknown key, a value of the
wrong type, or a non-finite number is an error, never silently ignored.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from typing import Any


class ConfigError(ValueError):
    """A configuration value a user gave is not acceptable. The message says what to do."""


def _coerce(name: str, current: Any, value: Any) -> Any:
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"config key {name!r} must be true or false, got {short(value)}")
        return value
    if isinstance(current, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"config key {name!r} must be an integer, got {short(value)}")
        return value
    if isinstance(current, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"config key {name!r} must be a number, got {short(value)}")
        if not math.isfinite(value):
            raise ConfigError(f"config key {name!r} must be finite, got {short(value)}")
        return float(value)
    if isinstance(current, str):
        if not isinstance(value, str):
            raise ConfigError(f"config key {name!r} must be a string, got {short(value)}")
        return value
    if isinstance(current, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"config key {name!r} must be a list, got {short(value)}")
        if current:
            return tuple(_coerce(f"{name}[{i}]", current[0], v) for i, v in enumerate(value))
        return tuple(value)
    return value


def override(config: Any, overrides: dict[str, Any]) -> Any:
    """Return `config` with `overrides` applied; reject unknown keys and wrongly typed values."""
    known = {f.name for f in dataclasses.fields(config)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(
            f"unknown config key {unknown[0]!r} for {type(config).__name__}; known keys: {', '.join(sorted(known))}")
    values = {k: _coerce(k, getattr(config, k), v) for k, v in overrides.items()}
    new = dataclasses.replace(config, **values)
    for key in values:  # every seed field: explicit, non-negative (numpy's SeedSequence needs it)
        if "seed" in key:
            seeds = values[key] if isinstance(values[key], tuple) else (values[key],)
            if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2 ** 63 for v in seeds):
                raise ConfigError(f"{key} must be a non-negative integer (or a list of them), got {short(values[key])}")
    validate = getattr(new, "validate", None)
    if validate is not None:
        validate()
    return new


MAX_OVERRIDE = 10_000   # characters of one --set value
MAX_DEPTH = 4           # nesting of a --set value (a list of lists at most, as the configs hold)


def short(value: Any, limit: int = 60) -> str:
    """repr(value), cut to `limit` characters for a one-line message."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "...'"


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, (list, dict)):
        children = value.values() if isinstance(value, dict) else value
        return max((_depth(v, level + 1) for v in children), default=level + 1)
    return level


def parse_override(text: str) -> tuple[str, Any]:
    """Parse `key=value` from the command line; the value is JSON, or a bare string (bounded in size and
    nesting)."""
    if "=" not in text:
        raise ConfigError(f"override {short(text)} is not of the form key=value (e.g. n_replicas=1000)")
    key, raw = text.split("=", 1)
    if len(raw) > MAX_OVERRIDE:
        raise ConfigError(f"override {short(key)}: the value is longer than {MAX_OVERRIDE} characters")
    if raw.count("[") + raw.count("{") > 10 * MAX_DEPTH + 1000:
        raise ConfigError(f"override {short(key)}: the value nests too deeply (at most {MAX_DEPTH} levels)")
    try:
        value = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        value = raw
    except ValueError as exc:  # e.g. Python's limit on the digits of an integer
        raise ConfigError(f"override {short(key)}: {exc}") from None
    if _depth(value) > MAX_DEPTH:
        raise ConfigError(f"override {short(key)}: the value nests too deeply (at most {MAX_DEPTH} levels)")
    return key.strip(), value


def as_dict(config: Any) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()}


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def config_hash(kind: str, experiment: str, config: Any, schema_version) -> str:
    payload = {"schema": schema_version, "kind": kind, "experiment": experiment, "config": as_dict(config)}
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()[:16]
