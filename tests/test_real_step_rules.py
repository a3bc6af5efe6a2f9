"""The step rules replayed on the real server: the same tuning as the queue study, the same strategies, runs that
stop at the target, and a timed chunk confirmed by the law of its runs, never by its bits."""
import dataclasses
import math

import numpy as np
import pytest

from cnn_experiments import param_server as ps
from reports.experiments import step_rules as queue_study
from reports.experiments.real_step_rules import claims, run
from reports.experiments.real_step_rules.config import SMOKE, Config
from reports.harness.store import Result
from sim import compensation


def _queue_config(config: Config) -> queue_study.Config:
    shared = {f.name for f in dataclasses.fields(queue_study.Config)} & {f.name for f in dataclasses.fields(Config)}
    return queue_study.Config(**{k: getattr(config, k) for k in shared}, straggler_workers=2)


@pytest.mark.slow
def test_the_server_replays_the_queue_studys_own_tuning_and_oracle():
    config = dataclasses.replace(SMOKE, workers=(2, 3))
    replayed, study = run.queue_tuning(config), queue_study.run(_queue_config(config)).summary
    assert replayed["synchronous"] == study["synchronous"]
    for m in config.workers:
        assert run.queue_oracle(replayed, m) == study["cases"][f"M={m}"]["oracle"]


def test_every_strategy_is_the_queue_replays_strategy_on_the_server():
    queue = {"synchronous": {"mu_explicit": 0.6, "lr": 4.0, "lr_mu0": 2.0},
             "oracle": {"8": {"mu_explicit": -0.3, "lr": 1.0, "median": 300.0}}}
    config = Config()
    oracle = run.real_config(config, queue, 8, "oracle", 0)
    assert (oracle.mu_explicit, oracle.lr, oracle.n_updates, oracle.compensate_every) == (-0.3, 1.0, 900, 0)
    assert oracle.work_mean == pytest.approx(8 * config.seconds_per_update) and oracle.batch_size == ps.MAX_BATCH
    assert (oracle.examples, oracle.noise_std) == (config.examples, config.noise_std)
    alone = run.real_config(config, queue, 8, "delay_adaptive_alone", 0)
    assert (alone.mu_explicit, alone.lr, alone.per_update, alone.n_updates) == (0.0, 2.0, "delay_adaptive", 600)
    loop = run.real_config(config, queue, 8, "first_order+staleness_aware", 3)
    assert (loop.mu_explicit, loop.lr, loop.compensate_every, loop.momentum_rule, loop.per_update) == \
        (0.6, 4.0, 100, "first_order", "staleness_aware")
    assert run.real_config(config, queue, 8, "no_compensation", 0).seed == oracle.seed  # common work times
    assert loop.seed != oracle.seed
    loop.validate()


def test_the_servers_loop_starts_where_the_replay_starts():
    real = ps.RealConfig(n_workers=8, compensate_every=100, mu_explicit=0.6, lr=4.0, momentum_rule="first_order")
    steady = np.zeros(0, dtype=int)
    replay = compensation.schedule_controls(steady, steady.astype(bool), None, 0.6, 4.0, "keep", n_workers=8,
                                            mu_sync=0.6)
    start = ps._loop_start(real)
    assert start == compensation.start_controls(8, 100.0, 0.6, 4.0, "keep", True)
    assert start[0] == pytest.approx(0.6 - 7 / 8)
    q = np.full(1, 3)
    assert compensation.schedule_controls(q, q.astype(bool), None, 0.6, 4.0, n_workers=8, mu_sync=0.6)[0][0] == \
        pytest.approx(start[0]) and replay[0].size == 0


def test_a_worker_adds_seeded_noise_to_the_full_gradient():
    w = np.zeros(20)
    clean = ps.gradient_task(w, 0, 1, "logreg", 0, 7, ps.MAX_BATCH, 0.0, examples=512)["grad"]
    noisy = ps.gradient_task(w, 0, 1, "logreg", 0, 7, ps.MAX_BATCH, 0.0, examples=512, noise_std=0.002)["grad"]
    again = ps.gradient_task(w, 0, 1, "logreg", 0, 7, ps.MAX_BATCH, 0.0, examples=512, noise_std=0.002)["grad"]
    other = ps.gradient_task(w, 0, 1, "logreg", 0, 8, ps.MAX_BATCH, 0.0, examples=512, noise_std=0.002)["grad"]
    assert np.array_equal(noisy, again) and not np.array_equal(noisy, other)
    assert 0.001 < np.std(noisy - clean) < 0.004
    with pytest.raises(ValueError, match="noise_std"):
        ps.RealConfig(noise_std=-1.0).validate()
    with pytest.raises(ValueError, match="examples"):
        ps.RealConfig(examples=3).validate()


def _payload(updates):
    return {"runs": [{"updates": u} for u in updates]}


def test_a_timed_chunk_is_confirmed_by_the_law_of_its_runs_not_its_bits():
    rng = np.random.default_rng(0)
    a = [float(v) for v in np.round(rng.normal(300, 20, 10) / 10) * 10]
    b = [float(v) for v in np.round(rng.normal(300, 20, 10) / 10) * 10]
    assert run.agree(Config(), "M8-oracle", _payload(a), _payload(b))[0]
    assert not run.agree(Config(), "M8-oracle", _payload(a), _payload([3 * v for v in b]))[0]
    assert run.agree(Config(), "M8-oracle", _payload([None] * 10), _payload([None] * 10))[0]
    tuned = {"synchronous": {"mu_explicit": 0.6, "lr": 4.0, "lr_mu0": 8.0},
             "oracle": {"4": {"mu_explicit": -0.3, "lr": 4.0, "median": 155.0, "each": [150.0, 160.0]}}}
    assert run.agree(Config(), "queue", tuned, tuned) is None  # deterministic: the default rules decide


def _result(oracle, **strategies):
    def entry(median):
        return {"median": median, "low": median, "high": median, "seconds_median": 1.0, "diverged": 0,
                "staleness_mean": 7.0, "staleness_var": 56.0, "cap": 600}
    case = {"n_workers": 8, "queue_oracle": {"mu_explicit": 0.0, "lr": 1.0, "median": 300.0},
            "strategies": {"oracle": entry(oracle)} | {k.replace("__", "+"): entry(v) for k, v in strategies.items()}}
    return Result(summary={"cases": {"M=8": case}, "strategies": list(case["strategies"])})


def test_the_check_reads_like_the_claim_and_its_control_fails():
    claim = claims.CLAIMS[0]
    close = _result(300.0, no_compensation=None, first_order__staleness_aware=330.0)
    assert claim.verdict(close).passed and not claim.verdict(_result(300.0, first_order__staleness_aware=400.0)).passed
    assert not claim.verdict(claim.controls[0].wrong_result(close)).passed
    # a controller that never reaches the target fails even where the oracle does not reach it either
    assert math.isinf(claims.ratio(_result(None, first_order__staleness_aware=None).summary["cases"]["M=8"],
                                   "first_order+staleness_aware"))
    assert claims.ratio(_result(None, first_order__staleness_aware=500.0).summary["cases"]["M=8"],
                        "first_order+staleness_aware") == 0.0


def test_verify_confirms_a_timed_chunk_by_its_law_even_on_the_same_machine():
    from reports import committed
    from reports.experiments.real_step_rules import EXPERIMENT
    from reports.harness.evidence import machine
    record = {"name": "M8-oracle", "payload": _payload([300.0, 310.0, 290.0, 320.0, 300.0] * 2),
              "provenance": {"machine": machine()}}
    ok, how = committed.compare(EXPERIMENT, Config(), {}, record, _payload([310.0, 300.0, 280.0, 330.0, 290.0] * 2))
    assert ok and "Mann-Whitney" in how
    assert not committed.compare(EXPERIMENT, Config(), {}, record, _payload([900.0] * 10))[0]
    # the deterministic queue chunk must be bit-identical on a machine of the same kind
    queue = {"synchronous": {"mu_explicit": 0.6, "lr": 4.0, "lr_mu0": 8.0},
             "oracle": {"4": {"mu_explicit": -0.3, "lr": 4.0, "median": 155.0, "each": [150.0, 160.0]}}}
    rounded = {**queue, "oracle": {"4": {**queue["oracle"]["4"], "each": [150.0, 170.0]}}}
    ok, how = committed.compare(EXPERIMENT, Config(workers=(4,)), {}, {"name": "queue", "payload": queue,
                                                                     "provenance": {"machine": machine()}}, rounded)
    assert not ok and "same kind" in how
