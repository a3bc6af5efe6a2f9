"""Results store (atomic, keyed by config hash, verified on read) and strict configuration."""
import json
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

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


def test_the_stored_result_round_trips_with_its_types(tmp_path):
    """Non-finite numbers and int keys come back as they were written (reports.harness.codec)."""
    store = Store(tmp_path)
    result = make_result()
    result.summary |= {"per_m": {2: {"updates": math.inf}, 16: {"updates": 40.0}}}
    store.save("k", "e", Cfg(), result)
    back = store.load("k", "e", Cfg())
    assert back.summary["value"] == 1.5 and math.isnan(back.summary["nan"])
    assert back.summary["per_m"] == {2: {"updates": math.inf}, 16: {"updates": 40.0}}
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
    tiny = Result(summary={"checked": True}, arrays={"values": np.arange(3.0)})
    counted = dataclasses.replace(theory, run=lambda c: calls.append(1) or tiny, figures=lambda r: {})  # fast
    monkeypatch.setattr(registry, "TABLE", {"theory": counted})
    runner.compute("quick", tmp_path, only=["theory"], quiet=True)
    runner.compute("quick", tmp_path, only=["theory"], quiet=True)
    assert len(calls) == 1  # the second call reused the cache
    folder = Store(tmp_path).folder(theory.method, theory.name, theory.profiles["quick"], theory.store_version(theory.profiles["quick"]))
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


@pytest.mark.slow
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
        monkeypatch.setattr(registry, "TABLE", {"theory": counted("theory"),
                                                "mc_staleness": counted("mc_staleness", fail=True)})
        errors = []
        first = runner.compute("quick", tmp_path, only=["theory", "mc_staleness"], quiet=True, errors=errors,
                               client=client)
        assert errors == ["mc_staleness"] and first["theory"] is not None and first["mc_staleness"] is None
        monkeypatch.setattr(registry, "TABLE", {"theory": counted("theory"), "mc_staleness": counted("mc_staleness")})
        second = runner.compute("quick", tmp_path, only=["theory", "mc_staleness"], quiet=True, client=client)
        assert second["mc_staleness"] is not None
        assert calls == {"theory": 1, "mc_staleness": 2}  # theory was not recomputed
    finally:
        client.close()
        cluster.close()


def test_the_cleaner_deletes_only_its_own_leftovers_and_never_through_a_link(tmp_path):
    """A user's .old-drafts or .tmp-notes beside the results, a dead process's leftover behind a symlinked folder,
    and a folder the suite did not make are never touched; the store's own leftovers of dead processes are."""
    store = Store(tmp_path / "results")
    store.save("k", "e", Cfg(), make_result())
    root, parent = tmp_path / "results", tmp_path / "results" / "k" / "e"
    mine = [root / ".old-drafts", root / ".tmp-notes", parent / ".tmp-999999-keep", root / ".suite-tmp-1-x"]
    for path in mine:
        path.mkdir()
        (path / "f").write_text("mine")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / ".suite-tmp-4194999-x").mkdir(parents=True)
    (parent.parent / "linked").symlink_to(elsewhere)
    dead_leftover = parent / ".suite-tmp-4194999-abc"
    dead_leftover.mkdir()
    removed = store.clean()
    assert removed == [dead_leftover] and all(p.exists() for p in mine)  # pid 1 is alive: kept
    assert (elsewhere / ".suite-tmp-4194999-x").exists()
    foreign = tmp_path / "foreign"
    (foreign / "k" / "e" / ".suite-tmp-4194999-y").mkdir(parents=True)
    assert Store(foreign).clean() == []  # no marker: not a store this suite made


def test_nested_or_non_zip_stored_files_are_recomputed_not_a_traceback(tmp_path):
    store = Store(tmp_path)
    folder = store.save("k", "e", Cfg(), make_result())
    (folder / "summary.json").write_text("[" * 200_000 + "]" * 200_000)
    assert store.load("k", "e", Cfg()) is None and "unreadable" in store.verify(folder)


def test_a_failed_save_in_a_new_folder_removes_what_it_made(tmp_path):
    store = Store(tmp_path / "new" / "results")
    with pytest.raises(ValueError):
        store.save("k", "e", Cfg(), Result(summary={}, arrays={"x": np.array([object()], dtype=object)}))
    assert not (tmp_path / "new").exists() or not any((tmp_path / "new").rglob("*"))


def test_deep_or_huge_overrides_are_one_line_errors():
    for text in ["a.b=" + "[" * 50_000 + "]" * 50_000, "a.b=" + "9" * 5000, "a.b=" + "x" * 20_000]:
        with pytest.raises(ConfigError) as exc:
            parse_override(text)
        assert "\n" not in str(exc.value) and len(str(exc.value)) < 300


@pytest.mark.slow
def test_pool_workers_end_with_their_parent_killed_with_minus_9():
    """A local pool's workers do not outlive a parent killed with -9 (they would wait for work forever)."""
    code = ("from reports.harness.pool import local_pool\nimport time\nwith local_pool(2) as p:\n"
            "    futures = [p.submit(time.sleep, 60) for _ in range(2)]\n    print('up', flush=True)\n    time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent)
    assert proc.stdout.readline().strip() == "up"
    time.sleep(2)
    children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
    workers = [c for c in children if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()]
    assert workers
    proc.kill()
    proc.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(Path(f"/proc/{w}").exists() for w in workers):
        time.sleep(0.2)
    assert not any(Path(f"/proc/{w}").exists() for w in workers)


def test_a_run_is_a_plan_made_by_reading_then_the_outcome_of_executing_it(tmp_path):
    """plan() reads only and says what will be computed; execute() computes it and says what failed or stopped;
    the next plan finds it stored."""
    from reports.harness.store import Store
    from reports.registry import experiment
    from reports.run import Outcome, Plan, execute, plan
    cfgs = {"mc_staleness": experiment("mc_staleness").smoke}
    store = Store(tmp_path / "results")
    first = plan("quick", store, cfgs, ["mc_staleness"], force=False, allow_cpu=False, say=lambda text: None)
    assert first == Plan(ready={"mc_staleness": None}, todo=["mc_staleness"], refused=[])
    assert not (tmp_path / "results").exists()       # planning wrote nothing
    outcome = execute(first.todo, cfgs, tmp_path / "results", None, None, lambda text: None)
    assert outcome == Outcome(failed=[], stopped=[])
    again = plan("quick", store, cfgs, ["mc_staleness"], force=False, allow_cpu=False, say=lambda text: None)
    assert again.todo == [] and again.ready["mc_staleness"].summary["exponential"]
