"""Bad input, as a hostile but fair user gives it: each case exits non-zero with one line on stderr, no traceback,
within 30 s, and writes nothing (no results folder, no log, nothing new in the working folder)."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim import queue
from sim.laws import LawError

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow

RUN = [  # reports.run (and make claim's command line): bad options, bad --set, a missing dataset
    ["--profile", "huge"], ["--only", "nope"], ["--claim", "nope"], ["--set", "mc_staleness.workers=[]"],
    ["--set", "mc_staleness.nope=1"], ["--set", "nope.x=1"], ["--set", "mc_staleness.n_updates=abc"],
    ["--set", "mc_staleness.n_updates=-5"], ["--profile", "full", "--set", "cnn_momentum.work_time=bogus"],
    ["--profile", "full", "--set", "cnn_momentum.device=tpu"], ["--profile", "full", "--set", "cnn_momentum.dataset=imagenet"],
    ["--set", "mc_tuning.burn_in=0"], ["--set", "quadratic_limit.limit_max_workers=1"],
    ["--set", "mc_trajectories.lr=0"], ["--dask-workers", "-2"], ["--dask-workers", "0"],
    ["--dask-workers", "1000"], ["--scheduler", "tcp://127.0.0.1:9", "--dask-workers", "2"],
    ["--set", "mc_staleness.n_updates"], ["--set", "real_async.work_mean=1e9"],
    ["--profile", "full", "--set", "cnn_momentum.workers=[]"], ["--set", "mc_staleness.seed=-1"], ["--set", "mc_tuning.seed=1.5"],
    ["--set", "cnn_momentum.loop_workers=[1]"], ["--set", 'cnn_momentum.loop_rules=["bogus"]'],
    ["--set", "mc_trajectories.n_replicas=1000000000"], ["--only", "cnn_momentum", "--set", "cnn_momentum.data_dir=/nope"],
    ["--set", "cnn_momentum.n_eval=512"], ["--profile", "full", "--set", "cnn_momentum.decision_seeds=[1,1]"],
    ["--profile", ""], ["--unknown-flag"], ["--scheduler", "tcp://127.0.0.1:9", "--only", "theory"],
    ["--set", 'staleness_laws.laws=["bogus"]'], ["--set", "compensation.max_workers=3"],
    ["--set", "cnn_momentum.sync_budget=5"], ["--profile", "full", "--set", "cnn_momentum.precision=fp8"],
    ["--profile", "full", "--set", "cnn_momentum.probe_replicas=2"], ["--set", "cnn_momentum.loop_workers=[3]"],
    ["--profile", "full", "--set", "cnn_momentum.lr_grid=[0.1,-0.1]"], ["--profile", "full", "--set", "cnn_momentum.replication_seeds=[0]"],
]
REAL = [  # cnn_experiments.real_async
    ["--n-workers", "0"], ["--n-workers", "-1"], ["--n-workers", "100000"], ["--updates", "0"], ["--updates", "-5"],
    ["--updates", "abc"], ["--lr", "nan"], ["--lr", "-1"], ["--mu-explicit", "1.5"], ["--work-time", "weibull"],
    ["--work-mean", "0"], ["--work-mean", "-1"], ["--work-mean", "1e9"], ["--work-mean", "nan"], ["--seed", "-1"],
    ["--batch-size", "0"], ["--batch-size", "-3"], ["--model", "resnet"], ["--log", "/missing/dir/s.csv"],
    ["--log", "/tmp"], ["--scheduler", "tcp://127.0.0.1:9"], ["--updates", "10000000"],
    ["--compensate", "--condition-number", "0"], ["--target-loss", "-1"], ["--target-loss", "nan"],
    ["--scheduler", ""], ["--scheduler", "ucx://127.0.0.1:9"], ["--scheduler", "tls://127.0.0.1:9"],
    ["--log", ""], ["--work-time", "natural", "--work-mean", "-5"], ["--work-time", "natural", "--work-mean", "0.1"],
    ["--work-mean", "1e-320"],
]
BENCH = [  # cnn_experiments.bench
    ["--models", "0"], ["--models", "-3"], ["--steps", "0"], ["--batch-size", "0"], ["--width", "0"],
    ["--width", "-1"], ["--data-dir", "/nope"], ["--models", "x"], ["--precision", "fp8"], ["--width", "1e-9"],
    ["--data-dir", ""],
]
SIM_BENCH = [["--workers", "0"], ["--replicas", "-5"], ["--steps", "0"], ["--queue-updates", "100000000000"]]
COMMITTED = [["verify", "--n", "-1"], ["compute", "--jobs", "0"], ["verify", "--chunk", "nope"], ["nope"],
             ["status", "--only", "theory"], ["compute", "--record"]]
CASES = ([("reports.run", a) for a in RUN] + [("cnn_experiments.real_async", a) for a in REAL]
         + [("cnn_experiments.bench", a) for a in BENCH] + [("sim.bench", a) for a in SIM_BENCH]
         + [("reports.committed", a) for a in COMMITTED])


@pytest.mark.parametrize("module, args", CASES, ids=[f"{m.split('.')[-1]}:{' '.join(a)}" for m, a in CASES])
def test_bad_command_line_input_is_one_line_and_writes_nothing(module, args, tmp_path):
    before = set(os.listdir(tmp_path))
    extra = ["--results", str(tmp_path / "results")] if module == "reports.run" else []
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FASHION_MNIST_DIR": os.environ.get("FASHION_MNIST_DIR", "")}
    start = time.time()
    proc = subprocess.run([sys.executable, "-m", module, *args, *extra], capture_output=True, text=True,
                          cwd=tmp_path, timeout=30, env=env)
    assert proc.returncode != 0, proc.stdout[-300:]
    lines = [line for line in proc.stderr.splitlines() if line.strip() and "Warning" not in line
             and not line.startswith("  warnings.warn")]
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr[-600:]
    assert "Traceback" not in proc.stderr
    assert set(os.listdir(tmp_path)) == before, "bad input wrote something"
    assert time.time() - start < 30


QUEUE = [  # the sim.queue API: its own exception, raised at once
    (dict(n_workers=0, n_updates=10), ValueError), (dict(n_workers=4, n_updates=0), ValueError),
    (dict(n_workers=4, n_updates=10, work_time="weibull"), LawError),
    (dict(n_workers=4, n_updates=10, work_time="gamma", shape=-1), LawError),
    (dict(n_workers=4, n_updates=10, work_time="exponential", rate=float("nan")), LawError),
    (dict(n_workers=4, n_updates=10, work_time="exponential", rates=[1.0, 2.0]), LawError),
    (dict(n_workers=4, n_updates=10, work_time="trace", path="/nope.csv"), LawError),
    (dict(n_workers=4, n_updates=10, work_time="constant", bogus=1), LawError),
    (dict(n_workers=4, n_updates=50, work_time="constant", value=1e308), LawError),
    (dict(n_workers=4, n_updates=50, work_time="exponential", rate=1e-320), LawError),
    (dict(n_workers=4, n_updates=50, work_time="gamma", scale=1e308), LawError),
    (dict(n_workers=4, n_updates=50, work_time="lognormal", mean=800.0), LawError),
]

BAD_FILES = {  # what a user's trace or staleness log may hold
    "trace-binary": ("trace", bytes(range(256)) * 16), "trace-utf16": ("trace", "1.0\n2.0\n".encode("utf-16")),
    "trace-huge-value": ("trace", b"work_time_s\n1e308\n1e308\n"), "trace-long-field": ("trace", b"1" * 200_000),
    "trace-nan": ("trace", b"nan\n1.0\n"), "log-nan": ("log", b"update,worker,time,staleness,warmup\n0,0,0.1,nan,1\n"),
    "log-negative-worker": ("log", b"update,worker,time,staleness,warmup\n0,-5,0.1,0,1\n"),
    "log-fraction": ("log", b"update,worker,time,staleness,warmup\n0,1.5,0.1,0,1\n"),
    "log-binary": ("log", bytes(range(256)) * 4),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_trace_and_log_files_raise_one_clear_error(case, tmp_path):
    kind, content = BAD_FILES[case]
    path = tmp_path / "file.csv"
    path.write_bytes(content)
    start = time.time()
    with pytest.raises(LawError) as exc:
        if kind == "trace":
            queue.simulate(4, 200, "trace", path=str(path))
        else:
            queue.load_log(path)
    assert "\n" not in str(exc.value) and time.time() - start < 5


@pytest.mark.parametrize("kwargs, error", QUEUE, ids=[str(sorted(k.items())) for k, _ in QUEUE])
def test_bad_queue_parameters_raise_at_once(kwargs, error):
    start = time.time()
    with pytest.raises(error):
        queue.simulate(**kwargs)
    assert time.time() - start < 5


def test_the_table_covers_every_entry_point():
    assert {m for m, _ in CASES} == {"reports.run", "cnn_experiments.real_async", "cnn_experiments.bench",
                                    "sim.bench", "reports.committed"}


@pytest.mark.parametrize("module", ["reports.run", "cnn_experiments.real_async"])
def test_a_scheduler_that_accepts_but_never_answers_is_one_line_not_a_hang(module, tmp_path):
    import socket
    import threading
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held = []
    threading.Thread(target=lambda: held.append(server.accept()), daemon=True).start()
    address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    extra = ["--only", "theory", "--results", str(tmp_path / "r")] if module == "reports.run" else []
    start = time.time()
    proc = subprocess.run([sys.executable, "-m", module, "--scheduler", address, *extra], capture_output=True,
                          text=True, cwd=tmp_path, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    server.close()
    assert proc.returncode == 2 and "no Dask scheduler answered" in proc.stderr, proc.stderr[-500:]
    assert len(proc.stderr.strip().splitlines()) == 1 and time.time() - start < 40
    assert not (tmp_path / "r").exists()
