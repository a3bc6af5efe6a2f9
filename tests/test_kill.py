"""kill -9 at random moments of `reports.run` (and of `--force`): no corrupt result is ever trusted, no finished
result is lost, no leftover temporary folder remains, and the completed store is bit-identical to a clean run."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from reports.common import configs
from reports.harness.store import LEFTOVER_PREFIXES, Store
from reports.registry import experiments
from reports.repro import compare
from reports.run import compute

ROOT = Path(__file__).resolve().parent.parent
FAST = ["theory", "mc_staleness", "mc_trajectories", "mc_momentum", "mc_tuning"]  # about 30 s in all
SLOWER = ["theory", "mc_trajectories", "mc_momentum", "mc_tuning"]  # 5-11 s each: a kill usually lands mid-run
pytestmark = [pytest.mark.slow, pytest.mark.long]


def _start(results: Path, names: list[str], *extra: str) -> subprocess.Popen:
    only = [arg for name in names for arg in ("--only", name)]
    return subprocess.Popen([sys.executable, "-m", "reports.run", "--results", str(results), *only, *extra],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def _loadable(results: Path) -> set[str]:
    cfgs, exps, store = configs("quick"), experiments(), Store(results)
    return {n for n in FAST if store.load(exps[n].method, n, cfgs[n], exps[n].store_version(cfgs[n])) is not None}


def _result_folders(results: Path):
    for kind in results.iterdir() if results.is_dir() else ():
        if kind.is_dir() and not kind.name.startswith("."):
            for experiment in kind.iterdir():
                yield from (f for f in experiment.iterdir() if f.is_dir())


def _check(results: Path, store: Store, before: set[str]) -> set[str]:
    for folder in _result_folders(results):  # a visible result folder is always intact
        if not folder.name.startswith(LEFTOVER_PREFIXES):
            assert store.verify(folder) is None, (folder, store.verify(folder))
    now = _loadable(results)
    assert before <= now, f"lost finished results: {before - now}"  # --force never loses the old one either
    return now


def _kill_at_random(proc: subprocess.Popen, rng, low: float, high: float) -> bool:
    time.sleep(float(rng.uniform(low, high)))
    killed = proc.poll() is None
    if killed:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    return killed


def test_kill_9_at_random_moments_never_loses_or_corrupts_a_result(tmp_path):
    rng = np.random.default_rng(2026)
    results = tmp_path / "results"
    store = Store(results)
    loadable, kills, forced_kills = set(), 0, 0
    attempts = 0
    while loadable != set(FAST):  # kills during a plain run; each rerun continues from what was stored
        # the window widens with each attempt, so that a loaded machine (theory alone ~20 s) still finishes
        kills += _kill_at_random(_start(results, FAST), rng, 1.0, 20.0 * 1.3 ** attempts)
        attempts += 1
        loadable = _check(results, store, loadable)
    while kills < 24 or forced_kills < 8:  # then while --force recomputes a stored result
        victim = SLOWER[int(rng.integers(len(SLOWER)))]
        killed = _kill_at_random(_start(results, [victim], "--force"), rng, 1.0, 8.0)
        kills, forced_kills = kills + killed, forced_kills + killed
        loadable = _check(results, store, loadable)
    assert _start(results, FAST).wait(timeout=600) == 0
    leftovers = [p for p in results.rglob(".*") if p.name.startswith(LEFTOVER_PREFIXES)]
    assert leftovers == [], leftovers
    clean = compute("quick", tmp_path / "clean", only=FAST, quiet=True)
    killed = compute("quick", results, only=FAST, quiet=True)  # all cached: loads what survived the kills
    for name in FAST:
        assert compare(killed[name], clean[name]) == [], name


def test_kill_9_on_the_save_path_without_atomic_exchange_loses_nothing(tmp_path):
    """As on NFS (no RENAME_EXCHANGE): kills at random moments of --force runs; the newest complete result always
    survives, promoted from the copy a kill left (the store's own temporary names say where each belongs)."""
    rng = np.random.default_rng(7)
    results = tmp_path / "results"
    assert _start(results, ["theory"]).wait(timeout=300) == 0
    store, loadable, kills = Store(results), {"theory"}, 0
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SUITE_NO_EXCHANGE": "1"}
    while kills < 8:
        proc = subprocess.Popen([sys.executable, "-m", "reports.run", "--results", str(results), "--only", "theory",
                                 "--force"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        kills += _kill_at_random(proc, rng, 2.0, 9.0)
        store.clean()  # what the next run does first
        loadable = _check(results, store, loadable) & {"theory"}
        assert "theory" in loadable


def test_a_kill_between_the_two_renames_leaves_a_result_the_next_run_promotes(tmp_path):
    """The exact window: the old result moved aside, the new complete one not yet renamed into place."""
    from reports.harness.store import OLD, TMP
    results = tmp_path / "results"
    exp = experiments()["theory"]
    config = exp.profiles["quick"]
    assert _start(results, ["theory"]).wait(timeout=300) == 0
    store = Store(results)
    final = store.folder(exp.method, exp.name, config, exp.store_version(config))
    dead = 2 ** 22 + 12345                             # a pid no process has
    new = final.parent / f"{TMP}{dead}-{final.name}-abc"
    old = final.parent / f"{OLD}{dead}-{final.name}-def"
    import shutil
    shutil.copytree(final, new)
    os.replace(final, old)
    assert store.load(exp.method, exp.name, config, exp.store_version(config)) is None
    store.clean()
    assert store.load(exp.method, exp.name, config, exp.store_version(config)) is not None
    assert not new.exists() and not old.exists()

