"""The one JSON codec of stored results: int and float keys, tuples and non-finite floats survive the round trip.

`encode(obj)` gives plain JSON types: a dict whose keys are all ints is written {"__int_keys__": [[k, v], ...]}, one
whose keys are all (finite) floats {"__float_keys__": [[k, v], ...]},
an infinite or NaN float {"__float__": "inf" | "-inf" | "nan"}, a tuple or array a list, a numpy scalar a Python
one. `decode(doc)` undoes it. A document without these tags (every committed chunk, every plain JSON file) decodes
to itself, so readers of older files are unchanged. A dict mixing kinds of keys (int, float, str) is refused: a
typed result uses one kind of key per level.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

INT_KEYS = "__int_keys__"
FLOAT_KEYS = "__float_keys__"
FLOAT = "__float__"
_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


class CodecError(ValueError):
    pass


def _float_tag(value: float) -> dict:
    return {FLOAT: "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}


def _walk(obj: Any, mapping, non_finite) -> Any:
    """obj with containers as lists, numpy values as Python ones, each dict through `mapping(dict, walk)` and each
    infinite or NaN float through `non_finite(value)`."""
    def walk(x):
        if isinstance(x, dict):
            return mapping(x, walk)
        if isinstance(x, (list, tuple)):
            return [walk(v) for v in x]
        if isinstance(x, np.ndarray):
            return walk(x.tolist())
        if isinstance(x, np.generic):
            x = x.item()
        if isinstance(x, float) and not math.isfinite(x):
            return non_finite(x)
        return x
    return walk(obj)


def _typed_keys(obj: dict, walk) -> dict:
    keys = list(obj)
    ints = [isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in keys]
    floats = [isinstance(k, (float, np.floating)) for k in keys]
    if keys and all(ints):
        return {INT_KEYS: [[int(k), walk(v)] for k, v in obj.items()]}
    if keys and all(floats) and all(math.isfinite(k) for k in keys):
        return {FLOAT_KEYS: [[float(k), walk(v)] for k, v in obj.items()]}
    if any(ints) or any(floats):
        raise CodecError(f"a dict mixes kinds of keys, or has a non-finite float key: {keys[:6]}")
    if INT_KEYS in obj or FLOAT_KEYS in obj or FLOAT in obj:
        raise CodecError(f"a dict uses one of the codec's own keys {INT_KEYS!r}, {FLOAT_KEYS!r}, {FLOAT!r}")
    return {str(k): walk(v) for k, v in obj.items()}


def encode(obj: Any) -> Any:
    """obj as plain JSON types (see the module's text)."""
    return _walk(obj, _typed_keys, _float_tag)


def decode(doc: Any) -> Any:
    """The object encode() wrote (plain JSON decodes to itself)."""
    if isinstance(doc, dict):
        if set(doc) == {INT_KEYS} and isinstance(doc[INT_KEYS], list):
            return {int(k): decode(v) for k, v in doc[INT_KEYS]}
        if set(doc) == {FLOAT_KEYS} and isinstance(doc[FLOAT_KEYS], list):
            return {float(k): decode(v) for k, v in doc[FLOAT_KEYS]}
        if set(doc) == {FLOAT} and doc[FLOAT] in _NON_FINITE:
            return _NON_FINITE[doc[FLOAT]]
        return {k: decode(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [decode(v) for v in doc]
    return doc


def chunk_plain(payload: Any) -> Any:
    """The committed chunks' format, kept so that every committed chunk reads and recomputes unchanged: JSON's
    view of a payload, with str keys, lists, Python scalars and non-finite floats as None (a chunk's reader says
    what None means: censored, diverged)."""
    return _walk(payload, lambda obj, walk: {str(k): walk(v) for k, v in obj.items()}, lambda value: None)
