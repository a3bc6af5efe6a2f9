"""A timed chunk (real processes: its wall-clock time per update is part of what it records) is computed and
recomputed only on an idle machine: the same run beside other work is slower by the load, not by the code."""
import pytest

from reports.harness import idle


def test_busy_cores_reads_the_systems_counters(tmp_path):
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 0 50 1000 10 0 0 0 0 0\ncpu0 ...\n")
    assert idle.busy_cores(seconds=0.0, stat=stat) == 0.0     # no time passed in the counters: nothing busy
    assert idle.busy_cores(seconds=0.0, stat=tmp_path / "absent") is None
    measured = idle.busy_cores(seconds=0.2)
    assert measured is None or 0.0 <= measured


def test_a_busy_machine_refuses_a_timed_chunk_after_waiting(monkeypatch):
    monkeypatch.setattr(idle, "busy_cores", lambda: 1.5)
    said = []
    with pytest.raises(idle.BusyMachine, match="idle machine"):
        idle.wait_until_idle(say=said.append, wait=0.05, poll=0.01)
    assert said and "1.50 cores busy" in said[0]


def test_a_machine_that_becomes_idle_is_waited_for(monkeypatch):
    readings = iter([1.2, 0.9, 0.1])
    monkeypatch.setattr(idle, "busy_cores", lambda: next(readings))
    assert idle.wait_until_idle(say=lambda _: None, wait=5, poll=0.01) == 0.1
    assert idle.idle_info(0.1) == {"busy_cores": 0.1} and idle.idle_info(None) == {}


def test_compute_writes_no_timed_chunk_on_a_busy_machine(monkeypatch, tmp_path):
    from reports import committed
    from reports.experiments.real_step_rules import EXPERIMENT
    monkeypatch.setattr(idle, "busy_cores", lambda: 1.9)
    monkeypatch.setattr(idle, "WAIT_SECONDS", 0.0)
    assert committed.timed(EXPERIMENT)
    with pytest.raises(idle.BusyMachine):
        committed.compute(EXPERIMENT, EXPERIMENT.smoke, jobs=2, root=tmp_path, say=lambda _: None)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_verify_leaves_a_timed_chunk_undecided_on_a_busy_machine(monkeypatch):
    from reports import committed
    from reports.experiments.real_async import EXPERIMENT
    monkeypatch.setattr(idle, "busy_cores", lambda: 1.9)
    monkeypatch.setattr(idle, "WAIT_SECONDS", 0.0)
    said = []
    bad = committed.verify(EXPERIMENT, EXPERIMENT.profiles["quick"], ["geometric-M2"], say=said.append)
    assert bad == 0 and any("NOT DECIDED" in line and "idle machine" in line for line in said)

