"""Results store (atomic, keyed by config hash, verified on read) and strict configuration."""
import json
import math
import os
from dataclasses import dataclass

import numpy as np
import pytest

from reports.harness.config import ConfigError, config_hash, override, parse_override
from reports.harness.store import Result, Store, StoreError


@dataclass(frozen=True)
class Cfg:
    n: int = 3
    lr: float = 0.1
    name: str = "a"
    grid: tuple = (1.0, 2.0)

    def validate(self):
        if self.n < 1:
            raise ConfigError("n must be >= 1")


def make_result():
    return Result(summary={"value": 1.5, "nan": math.nan}, arrays={"x": np.arange(5.0)}, log=[{"step": 0}],
                  provenance={"seed": 1})


def test_round_trip_and_nan_becomes_null(tmp_path):
    store = Store(tmp_path)
    store.save("k", "e", Cfg(), make_result())
    back = store.load("k", "e", Cfg())
    assert back.summary == {"value": 1.5, "nan": None}
    assert np.array_equal(back.arrays["x"], np.arange(5.0)) and back.log == [{"step": 0}]


def test_hash_is_stable_and_depends_on_every_value():
    assert config_hash("k", "e", Cfg(), 1) == config_hash("k", "e", Cfg(), 1)
    assert config_hash("k", "e", Cfg(), 1) != config_hash("k", "e", Cfg(lr=0.2), 1)
    assert config_hash("k", "e", Cfg(), 1) != config_hash("k", "e", Cfg(), 2)
    assert len(config_hash("k", "e", Cfg(), 1)) == 16


@pytest.mark.parametrize("damage", ["arrays", "summary_value", "delete_summary", "config"])
def test_a_damaged_result_is_detected_not_trusted(tmp_path, damage):
    store = Store(tmp_path)
    folder = store.save("k", "e", Cfg(), make_result())
    if damage == "arrays":
        (folder / "arrays.npz").write_bytes(b"garbage")
    elif damage == "summary_value":
        record = json.loads((folder / "summary.json").read_text())
        record["summary"]["value"] = 99.0
        (folder / "summary.json").write_text(json.dumps(record))
    elif damage == "delete_summary":
        (folder / "summary.json").unlink()
    else:
        (folder / "config.json").write_text("{}")
    assert store.load("k", "e", Cfg()) is None
    assert store.verify(folder) is not None


def test_a_failed_save_leaves_nothing_behind(tmp_path):
    store = Store(tmp_path)
    bad = Result(summary={}, arrays={"x": np.array([object()], dtype=object)})
    with pytest.raises(ValueError, match="without pickle"):
        store.save("k", "e", Cfg(), bad)
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert leftovers == []


def test_unwritable_results_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="not writable"):
        Store(blocker / "results").check_writable()


def test_runner_recomputes_a_corrupted_result(tmp_path, monkeypatch):
    import dataclasses

    from reports import registry
    from reports import run as runner
    theory = registry.experiments()["theory"]
    calls = []
    counted = dataclasses.replace(theory, run=lambda c: calls.append(1) or theory.run(c))
    monkeypatch.setattr(runner, "experiments", lambda: {"theory": counted})
    runner.compute("quick", tmp_path, only=["theory"], quiet=True)
    runner.compute("quick", tmp_path, only=["theory"], quiet=True)
    assert len(calls) == 1  # the second call reused the cache
    folder = Store(tmp_path).folder(theory.kind, theory.name, theory.profiles["quick"], theory.store_version())
    (folder / "log.jsonl").write_text("tampered\n")
    runner.compute("quick", tmp_path, only=["theory"], quiet=True)
    assert len(calls) == 2


@pytest.mark.parametrize("overrides, message", [({"bogus": 1}, "unknown config key 'bogus'"),
                                                ({"n": "3"}, "must be an integer"), ({"lr": math.nan}, "finite"),
                                                ({"n": 1.5}, "must be an integer"), ({"grid": 3}, "must be a list"),
                                                ({"n": 0}, "n must be >= 1")])
def test_strict_overrides(overrides, message):
    with pytest.raises(ConfigError, match=message):
        override(Cfg(), overrides)


def test_override_coerces_ints_to_floats_and_lists_to_tuples():
    cfg = override(Cfg(), {"lr": 1, "grid": [3, 4]})
    assert cfg.lr == 1.0 and cfg.grid == (3.0, 4.0)


def test_parse_override():
    assert parse_override("a.n=5") == ("a.n", 5)
    assert parse_override("x=[1, 2]") == ("x", [1, 2])
    with pytest.raises(ConfigError):
        parse_override("novalue")


def test_store_writes_nothing_outside_its_root(tmp_path):
    store = Store(tmp_path / "r")
    store.save("k", "e", Cfg(), make_result())
    assert sorted(os.listdir(tmp_path)) == ["r"]


def test_an_interrupted_dask_sweep_resumes_computing_only_what_is_missing(tmp_path, monkeypatch):
    import dataclasses

    from distributed import Client, LocalCluster

    from reports import registry
    from reports import run as runner
    real = registry.experiments()
    calls = {"theory": 0, "mc_staleness": 0}

    def counted(name, fail=False):
        def run(config):
            calls[name] += 1
            if fail:
                raise RuntimeError("interrupted")
            return real[name].run(config)
        return dataclasses.replace(real[name], run=run)

    cluster = LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None)
    client = Client(cluster)
    try:
        monkeypatch.setattr(runner, "experiments", lambda: {"theory": counted("theory"),
                                                            "mc_staleness": counted("mc_staleness", fail=True)})
        errors = []
        first = runner.compute("quick", tmp_path, only=["theory", "mc_staleness"], quiet=True, errors=errors,
                               client=client)
        assert errors == ["mc_staleness"] and first["theory"] is not None and first["mc_staleness"] is None
        monkeypatch.setattr(runner, "experiments", lambda: {"theory": counted("theory"),
                                                            "mc_staleness": counted("mc_staleness")})
        second = runner.compute("quick", tmp_path, only=["theory", "mc_staleness"], quiet=True, client=client)
        assert second["mc_staleness"] is not None
        assert calls == {"theory": 1, "mc_staleness": 2}  # theory was not recomputed
    finally:
        client.close()
        cluster.close()
