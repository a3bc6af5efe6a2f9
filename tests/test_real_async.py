"""Real asynchrony on a LocalCluster: the parameter server, its faults, and its agreement with the simulator."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnn_experiments import cluster as cluster_mod
from cnn_experiments import param_server as ps
from cnn_experiments.real_async import schedule_of
from sim.objectives import LogReg
from sim import async_sgd
from sim.queue import Schedule, load_log

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.slow, pytest.mark.long]


@pytest.fixture(scope="module")
def client():
    client, cluster = cluster_mod.local_client(3)
    yield client
    client.close()
    cluster.close()


FullBatchLogReg = LogReg(0).as_objective()  # the same workload as the real runs, vectorised over replicas


def test_real_run_is_the_simulator_replaying_its_schedule(client):
    config = ps.RealConfig(n_workers=3, n_updates=30, lr=0.5, mu_explicit=0.3, batch_size=10**6, work_mean=0.01,
                           seed=4, record_trajectory=True)
    run = ps.run(client, config)
    s = schedule_of(run, 3)
    batch = Schedule(s.staleness[None], s.worker[None], s.time[None], s.warmup[None], 3)
    replay = async_sgd.run_workers(FullBatchLogReg, batch, 0.5, 0.3, np.zeros(FullBatchLogReg.dim))
    np.testing.assert_allclose(replay.x[:, 0], np.array(run.trajectory), rtol=0, atol=1e-12)
    assert np.array_equal(replay.read_index[0], np.arange(30) - s.staleness)


def test_every_task_is_applied_at_most_once_and_staleness_is_logged(client, tmp_path):
    run = ps.run(client, ps.RealConfig(n_workers=3, n_updates=60, work_mean=0.005))
    assert len(run.applied_tasks) == len(set(run.applied_tasks)) == 60
    assert min(run.staleness) >= 0 and run.lost_updates == 0


def test_a_nonfinite_gradient_is_recorded_and_skipped(client):
    run = ps.run(client, ps.RealConfig(n_workers=2, n_updates=20, work_mean=0.005), poison_tasks={3})
    assert run.skipped_nonfinite == 1 and 3 not in run.applied_tasks and len(run.staleness) == 20
    assert np.all(np.isfinite(run.final_params))
    assert any("non-finite" in e["event"] for e in run.events)


def test_a_killed_worker_loses_its_gradient_and_the_run_goes_on():
    client, cluster = cluster_mod.local_client(3)
    try:
        killed = {}

        def kill_one(version, run):
            # kill a worker that is busy with a gradient task (an idle one would lose nothing); try again later
            # if that task had finished in between
            if version in (15, 25, 35, 45, 55) and run.lost_updates == 0:
                busy = [address for address, keys in client.processing().items() if keys]
                if busy:
                    pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                    os.kill(pid, signal.SIGKILL)
                    killed[busy[0]] = pid

        # long work times: a kill lands while the task waits for its end, not after it (a finished task's result
        # lost with its worker is recomputed elsewhere by Dask, which is not a lost update)
        run = ps.run(client, ps.RealConfig(n_workers=3, n_updates=80, work_mean=0.2), on_update=kill_one)
    finally:
        client.close()
        cluster.close()
    assert killed and len(run.staleness) == 80
    assert len(run.applied_tasks) == len(set(run.applied_tasks))
    assert run.lost_updates >= 1 and any(e["event"].startswith("lost") for e in run.events)


def test_cli_prints_a_json_summary_and_writes_the_log(tmp_path):
    log, trace = tmp_path / "staleness.csv", tmp_path / "work_times.csv"
    proc = subprocess.run([sys.executable, "-m", "cnn_experiments.real_async", "--n-workers", "2", "--updates", "40",
                           "--work-mean", "0.005", "--log", str(log), "--trace", str(trace)], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    import json
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    for key in ("n_updates", "staleness_mean", "staleness_var", "staleness_tv_to_geometric", "lost_updates",
                "wall_seconds"):
        assert key in summary
    assert summary["n_updates"] == 40
    assert load_log(log).staleness.size == 40
    # the trace: one work time per update but each worker's first (start-up), readable by the queue's trace law
    from sim.laws import load_trace
    from sim.queue import simulate
    times = load_trace(trace)
    assert times.size == 38 and np.all(times > 0)
    assert simulate(3, 50, "trace", seed=1, path=str(trace)).staleness.size == 50


def test_closed_loop_sets_momentum_from_the_logged_staleness(client):
    """--compensate: every 100 updates the server reads mu_S off its staleness log (the lower bound of
    mean / (1 + mean)) and sets mu_L to Theorem 7's optimum for it; the step stays the one tuned at M = 1."""
    from sim import compensation
    config = ps.RealConfig(n_workers=3, n_updates=300, work_mean=0.005, compensate_every=100, condition_number=10.0)
    run = ps.run(client, config, loss_every=10)
    assert [c[0] for c in run.controls] == [100, 200, 300]
    update, estimate, mu, lr = run.controls[-1]
    assert abs(estimate - 2 / 3) < 0.05 and lr == config.lr
    steady = np.array(run.staleness)[~schedule_of(run, 3).warmup[:len(run.staleness)]]
    assert mu == compensation.control(steady[:update], 10.0, config.mu_explicit, config.lr)[0]
    floor = np.floor(compensation.lower_bound(steady[:update]) / compensation.RESOLUTION) * compensation.RESOLUTION
    assert mu == pytest.approx(compensation.controller(floor, 10.0)[0], abs=1e-9)


def test_the_server_loop_can_use_the_first_order_rule_and_the_delay_step(client):
    """--momentum-rule first_order --step-rule delay: mu_L = mu_sync - mu_S (mu_sync = --mu-explicit) and the step
    scaled by sin(pi / (2 (2 E tau + 1))) at the logged mean staleness."""
    from sim import compensation
    config = ps.RealConfig(n_workers=3, n_updates=200, work_mean=0.005, compensate_every=100, mu_explicit=0.5,
                           step_rule="delay", momentum_rule="first_order")
    run = ps.run(client, config)
    update, _, mu, lr = run.controls[-1]
    steady = np.array(run.staleness)[~schedule_of(run, 3).warmup[:len(run.staleness)]][:update]
    floor = np.floor(compensation.lower_bound(steady) / compensation.RESOLUTION) * compensation.RESOLUTION
    assert mu == pytest.approx(0.5 - floor) and mu < 0
    assert lr == pytest.approx(config.lr * np.sin(np.pi / (2 * (2 * steady.mean() + 1))))


def test_cli_compensate_prints_the_closed_loop_fields():
    proc = subprocess.run([sys.executable, "-m", "cnn_experiments.real_async", "--n-workers", "2", "--updates", "200",
                           "--work-mean", "0.005", "--compensate", "--condition-number", "10"], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    import json
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert abs(summary["mu_implicit_estimate"] - 0.5) < 0.05 and -0.9 <= summary["mu_explicit_final"] <= 0.9
    assert summary["target_loss"] == 0.5 and (summary["updates_to_target"] is None or summary["updates_to_target"] > 0)


def test_injected_work_times_make_the_cycle_itself_exponential(client):
    """Assumption 4 realised physically: one worker's results arrive at exponential intervals on the server's
    clock (the round trip is inside the drawn time, not added to it), so their CV is about 1, not below."""
    run = ps.run(client, ps.RealConfig(n_workers=1, n_updates=80, work_mean=0.2, seed=3))
    gaps = np.diff([0.0, *run.time])
    assert abs(gaps.mean() - 0.2) < 3 * 0.2 / np.sqrt(80)  # not 0.2 s plus the round trip
    assert 0.75 < gaps.std() / gaps.mean() < 1.3  # SE about 0.11; a draw shorter than the round trip is clipped


def test_counts_and_durations_are_bounded():
    with pytest.raises(ValueError, match="1..256"):
        ps.RealConfig(n_workers=10 ** 9).validate()
    with pytest.raises(ValueError, match="at most 60"):
        ps.RealConfig(work_mean=1e9).validate()


@pytest.mark.parametrize("args, message", [(["--scheduler", "tcp://127.0.0.1:9"], "no Dask scheduler answered"),
                                           (["--n-workers", "0"], "n_workers"),
                                           (["--work-mean", "1e9"], "work_mean"),
                                           (["--lr", "nan"], "lr"),
                                           (["--work-time", "weibull"], "unknown work time"),
                                           (["--compensate", "--momentum-rule", "first_order", "--step-rule",
                                             "theorem7"], "curvature range")])
def test_bad_options_fail_within_seconds(args, message):
    proc = subprocess.run([sys.executable, "-m", "cnn_experiments.real_async", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 2 and message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_the_real_async_experiment_resumes_from_its_stored_phases(tmp_path):
    """A run stopped after two phases keeps them; the next run measures only the rest and reuses them as stored."""
    from reports.experiments import real_async as exp
    from reports.harness.checkpoint import Folder, Incomplete, progress

    class StopAfterTwo(Folder):
        def check_deadline(self, done, total):
            super().check_deadline(done, total)
            if done >= 2:
                raise Incomplete(done, total)

    config = exp.EXPERIMENT.smoke
    with pytest.raises(Incomplete):
        exp.EXPERIMENT.run(config, checkpoint=StopAfterTwo(tmp_path / "chunks"))
    first = Folder(tmp_path / "chunks").get("geometric-M2")
    assert first is not None and progress(tmp_path / "chunks") == (2, 6)   # 5 phases and the model's chunk
    result = exp.EXPERIMENT.run(config, checkpoint=Folder(tmp_path / "chunks"))
    assert result.summary["geometric"][2] == first  # reused, not measured again
    assert set(result.summary["efficiency"]) == {1, 2} and result.summary["natural"]["n_workers"] == 2


def test_a_recomputed_momentum_phase_is_judged_by_the_estimators_spread_not_its_halves():
    from cnn_experiments.real_async_phases import agree
    from reports.experiments.real_async.config import Config
    committed = {"mu": 0.690, "mu_se": 0.002, "model_sd": 0.038, "replicas": 16}
    ok, how = agree(Config(), "momentum-M4", committed, {**committed, "mu": 0.705, "mu_se": 0.003})
    assert ok and "z = 0.3" in how               # 4 SE of the halves' one-degree-of-freedom spread
    assert not agree(Config(), "momentum-M4", committed, {**committed, "mu": 0.50})[0]   # M = 2's momentum
