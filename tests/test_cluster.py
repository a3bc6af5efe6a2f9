"""A cluster the way a user runs one: `dask scheduler` and two `dask worker` processes on 127.0.0.1, separate from
the suite. A sweep survives a killed worker (finished results come from the store), a real asynchronous run
reports the task the killed worker was computing, and every process started here is stopped."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DASK = str(Path(sys.executable).parent / "dask")
pytestmark = pytest.mark.slow


def _env():
    # a task on a worker that dies is reported, not silently retried elsewhere (the suite's own LocalClusters
    # set the same); one thread per process with torch on 2 cores
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
            "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}


def _worker(scheduler_file: Path) -> subprocess.Popen:
    return subprocess.Popen([DASK, "worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1",
                             "--nworkers", "1", "--host", "127.0.0.1", "--no-dashboard", "--no-nanny"],
                            env=_env(), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for_workers(address: str, n: int) -> None:
    from distributed import Client
    with Client(address, timeout="20s") as client:
        client.wait_for_workers(n, timeout=60)


def _kill_a_busy_worker(address: str, procs: list) -> None:
    """SIGKILL the worker process that is computing a task right now (found through the scheduler by its pid), so
    that a gradient is lost for sure; killing an idle worker would lose nothing."""
    from distributed import Client
    by_pid = {p.pid: p for p in procs[1:] if p.poll() is None}
    with Client(address, timeout="20s") as client:
        pids = client.run(os.getpid)  # worker address -> its process id (no nanny: the dask worker process itself)
        deadline = time.time() + 60
        while time.time() < deadline:
            busy = [addr for addr, keys in client.processing().items() if keys]
            victims = [by_pid[pids[a]] for a in busy if pids.get(a) in by_pid]
            if victims:
                victims[0].send_signal(signal.SIGKILL)
                return
            time.sleep(0.01)
    pytest.fail("no worker was computing a task within 60 s")


@pytest.fixture
def cluster(tmp_path):
    scheduler_file = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(scheduler_file)], env=_env(), cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.time() + 60
        while not (scheduler_file.is_file() and scheduler_file.read_text().strip()):
            assert time.time() < deadline, "dask scheduler did not start"
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        procs += [_worker(scheduler_file), _worker(scheduler_file)]
        _wait_for_workers(address, 2)
        yield address, scheduler_file, procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        assert all(proc.poll() is not None for proc in procs)


def test_a_sweep_and_a_real_run_survive_a_killed_worker(cluster, tmp_path):
    address, scheduler_file, procs = cluster
    results = tmp_path / "results"
    names = ["mc_staleness", "mc_momentum", "mc_trajectories", "mc_tuning"]
    only = [a for n in names for a in ("--only", n)]
    sweep = subprocess.Popen([sys.executable, "-m", "reports.run", "--scheduler", address, "--results", str(results),
                              *only], env=_env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(6)
    procs[1].send_signal(signal.SIGKILL)  # one worker dies mid-sweep
    sweep.wait(timeout=300)
    procs.append(_worker(scheduler_file))  # the user restarts a worker, and the sweep
    _wait_for_workers(address, 2)
    again = subprocess.run([sys.executable, "-m", "reports.run", "--scheduler", address, "--results", str(results),
                            *only], env=_env(), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout[-800:] + again.stderr[-800:]
    from reports.common import configs
    from reports.harness.store import Store
    from reports.registry import experiments
    cfgs, exps = configs("quick"), experiments()
    assert all(Store(results).load(exps[n].method, n, cfgs[n], exps[n].store_version(cfgs[n])) is not None for n in names)

    real = subprocess.Popen([sys.executable, "-m", "cnn_experiments.real_async", "--scheduler", address,
                             "--n-workers", "2", "--updates", "100", "--work-mean", "0.3"],
                            env=_env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    while not (seen and seen[-1].startswith("running")):  # "running 300 updates ...": the run is under way
        line = real.stderr.readline()                        # (however slow the imports were)
        assert line, "the real run ended before it started: " + "".join(seen)
        seen.append(line)
    time.sleep(2)
    _kill_a_busy_worker(address, procs)
    out, err = real.communicate(timeout=300)
    assert real.returncode == 0, err[-800:]
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["n_updates"] == 100 and summary["lost_updates"] >= 1, summary
    assert any(e["event"].startswith("lost") for e in summary["events"])
