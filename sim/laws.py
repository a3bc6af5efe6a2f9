"""Work-time laws: how long one worker takes for one update (a read, a gradient, a write).

Each law is a named function (rng, shape, params) -> positive times. Parameters are validated up front so that
a bad value (negative, NaN, missing trace file) fails with one clear message.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Callable

import numpy as np


class LawError(ValueError):
    """A work-time law or one of its parameters is not acceptable."""


SCALE_RANGE = (1e-9, 1e9)   # work times (or rates) outside it overflow or underflow the queue's sums of times
MAX_TRACE_BYTES = 64 * 2 ** 20
MAX_TRACE_ROWS = 10 ** 6


def _positive(name: str, value, law: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError, OverflowError):
        raise LawError(f"{law} work times: {name} must be a positive number, got {str(value)[:40]!r}") from None
    low, high = SCALE_RANGE
    if not math.isfinite(value) or not low <= value <= high:
        raise LawError(f"{law} work times: {name} must be a number in [{low:g}, {high:g}], got {value!r}")
    return value


def load_trace(path) -> np.ndarray:
    """Work times from a CSV file (UTF-8 text, at most MAX_TRACE_ROWS rows and MAX_TRACE_BYTES): one positive
    number per row (first column); a header row is allowed."""
    from sim.files import read_regular
    path = Path(path)
    try:
        if not path.exists():
            raise LawError(f"trace file {str(path)[:200]} not found; pass path= a CSV with one work time per row")
        text = read_regular(path, MAX_TRACE_BYTES).decode("utf-8")   # a FIFO or device is refused at once
    except UnicodeDecodeError:
        raise LawError(f"trace file {path} is not UTF-8 text; it must be a CSV with one work time per row") from None
    except OSError as exc:
        raise LawError(f"trace file {str(path)[:200]} cannot be read ({exc.strerror or exc})") from None
    if "\x00" in text:
        raise LawError(f"trace file {path} is binary; it must be a CSV with one work time per row")
    values = []
    try:
        for i, row in enumerate(csv.reader(text.splitlines())):
            if i >= MAX_TRACE_ROWS:
                raise LawError(f"trace file {path} has more than {MAX_TRACE_ROWS} rows")
            if not row or not row[0].strip():
                continue
            try:
                values.append(float(row[0]))
            except ValueError:
                if i == 0 and not values:
                    continue  # a header
                raise LawError(f"trace file {path}, row {i + 1}: {row[0][:40]!r} is not a number") from None
    except csv.Error as exc:
        raise LawError(f"trace file {path} is not a CSV file ({exc})") from None
    times = np.asarray(values, dtype=float)
    if times.size == 0:
        raise LawError(f"trace file {path} holds no work times; it needs one positive number per row")
    low, high = SCALE_RANGE
    if not np.all(np.isfinite(times)) or np.any(times < low) or np.any(times > high):
        raise LawError(f"trace file {path} has a work time outside [{low:g}, {high:g}]; all must be positive and "
                       "finite")
    return times


Sampler = Callable[[np.random.Generator, tuple], np.ndarray]


def make_sampler(law: str, n_workers: int, **params) -> Sampler:
    """A function (rng, shape) -> work times; `shape` is (replicas, M, updates per worker): axis 1 is the worker."""
    known = {"exponential": {"rate", "rates"}, "gamma": {"shape", "scale"}, "constant": {"value"},
             "lognormal": {"sigma", "mean"}, "trace": {"path"}}
    if law not in known:
        raise LawError(f"unknown work-time law {law!r}; choose one of {', '.join(known)}")
    extra = sorted(set(params) - known[law])
    if extra:
        raise LawError(f"{law} work times take {', '.join(sorted(known[law]))}; unknown parameter {extra[0]!r}")
    if law == "exponential":
        if params.get("rates") is not None:
            rates = np.array([_positive("rates[i]", r, law) for r in params["rates"]])
            if rates.size != n_workers:
                raise LawError(f"exponential work times: rates has {rates.size} entries, need one per worker "
                               f"({n_workers})")
            return lambda rng, shape: rng.standard_exponential(shape) / rates[:, None]
        rate = _positive("rate", params.get("rate", 1.0), law)
        return lambda rng, shape: rng.standard_exponential(shape) / rate
    if law == "gamma":
        k = _positive("shape", params.get("shape", 10.0), law)
        scale = _positive("scale", params.get("scale", 1.0 / k), law)
        return lambda rng, shape: rng.standard_gamma(k, shape) * scale
    if law == "constant":
        value = _positive("value", params.get("value", 1.0), law)
        return lambda rng, shape: np.full(shape, value)
    if law == "lognormal":
        sigma = _positive("sigma", params.get("sigma", 1.0), law)
        mean = float(params.get("mean", 0.0))
        if not (math.isfinite(mean) and abs(mean) <= 20 and sigma <= 10):
            raise LawError(f"lognormal work times: mean must be in [-20, 20] and sigma at most 10, got {mean!r}, "
                           f"{sigma!r}")
        return lambda rng, shape: np.exp(mean + sigma * rng.standard_normal(shape))
    if "path" not in params:
        raise LawError("trace work times need path= a CSV file of work times")
    times = load_trace(params["path"])
    return lambda rng, shape: rng.choice(times, size=shape)


# Named laws of the experiments beyond the paper: (work-time law, its parameters) at M workers.
MEASURED_TRACE = Path(__file__).resolve().parents[1] / "data" / "traces" / "dask-cnn-natural-m2.csv"
NAMED_LAWS = ("exponential", "constant", "gamma-2", "gamma-10", "lognormal-0.5", "lognormal-1", "heterogeneous",
              "trace")


def named_law(name: str, n_workers: int) -> tuple[str, dict]:
    """(law, parameters) of a named law: "gamma-K" (shape K, mean 1), "lognormal-S" (sigma S), "heterogeneous"
    (exponential rates spread over [0.5, 1.5]), "trace" (work times measured on a real Dask parameter server,
    resampled: data/traces/README.md), "exponential", "constant"."""
    if name in ("exponential", "constant"):
        return name, {}
    if name == "trace":
        return "trace", {"path": str(MEASURED_TRACE)}
    if name.startswith("gamma-"):
        return "gamma", {"shape": float(name.split("-")[1])}
    if name.startswith("lognormal-"):
        return "lognormal", {"sigma": float(name.split("-")[1])}
    if name == "heterogeneous":
        return "exponential", {"rates": list(np.linspace(0.5, 1.5, n_workers))}
    raise LawError(f"unknown law {name!r}; choose from {', '.join(NAMED_LAWS)}")

