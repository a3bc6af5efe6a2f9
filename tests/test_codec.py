"""Stored results keep their types: int keys, tuples as lists and non-finite floats survive the round trip, and a
plain JSON document (every committed chunk) reads unchanged."""
import json
import math

import numpy as np
import pytest

from reports.harness.codec import CodecError, chunk_plain, decode, encode


def round_trip(obj):
    return decode(json.loads(json.dumps(encode(obj), allow_nan=False)))


def test_int_keys_and_infinities_survive_the_round_trip():
    summary = {"per_m": {2: {"updates": math.inf, "rate": 0.5}, 16: {"updates": -math.inf, "rate": np.float64(1.5)}},
               "grid": (0.1, 0.2), "counts": np.arange(3)}
    back = round_trip(summary)
    assert back["per_m"][2]["updates"] == math.inf and back["per_m"][16]["updates"] == -math.inf
    assert list(back["per_m"]) == [2, 16] and back["per_m"][16]["rate"] == 1.5
    assert back["grid"] == [0.1, 0.2] and back["counts"] == [0, 1, 2]
    assert math.isnan(round_trip({"x": math.nan})["x"])


def test_float_keys_survive_the_round_trip_exactly():
    table = {5.0: [0.1, 0.2], 20.0: [0.3], 1 / 3: {"rate": math.inf}}
    back = round_trip({"fig6": table})["fig6"]
    assert back == table and all(type(k) is float for k in back) and list(back) == list(table)


def test_plain_json_decodes_to_itself():
    plain = {"2": {"updates": None}, "runs": [{"losses": [0.5, None]}], "name": "M2-seed0"}
    assert decode(json.loads(json.dumps(plain))) == plain


def test_mixed_keys_and_the_codecs_own_tags_are_refused():
    with pytest.raises(CodecError):
        encode({1: "a", "b": 2})
    with pytest.raises(CodecError):
        encode({"__float__": "inf"})
    with pytest.raises(CodecError):
        encode({1: "a", 2.5: "b"})
    with pytest.raises(CodecError):
        encode({math.inf: "a"})


def test_the_committed_chunks_format_is_kept():
    assert chunk_plain({2: (math.inf, np.float32(0.5)), "x": np.array([1, 2])}) == {"2": [None, 0.5], "x": [1, 2]}
