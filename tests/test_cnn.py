"""CNN under simulated asynchrony: exactness against torch's SGD, batching, schedules, seeds, bad input, data."""
import gzip
import pickle
from dataclasses import replace

import numpy as np
import pytest
import torch

from cnn_experiments import data as data_mod
from cnn_experiments import model
from tests.conftest import tiny_dataset
from cnn_experiments.train import Data, RunSpec, Settings, _Batch, run_seeds, sgd_reference, train
from sim.queue import simulate

torch.set_num_threads(1)
SETTINGS = Settings(batch_size=8, budget=8, eval_every=4, width=0.25, max_batch=8)


@pytest.fixture(scope="module")
def tiny():
    return Data(tiny_dataset(), None, 64, "cpu")


@pytest.mark.parametrize("mu", [0.0, 0.5, 0.9])  # torch.optim.SGD refuses negative momentum
def test_one_worker_equals_torch_sgd_with_momentum(tiny, mu):
    spec = RunSpec(1, mu, 0.05, seed=3)
    reference = sgd_reference(spec, tiny, SETTINGS, 6)
    batch = _Batch([spec], tiny, SETTINGS, track_staleness=False)
    for t in range(6):
        batch.step(t)
    for name, value in reference.items():
        torch.testing.assert_close(batch.w[name][0], value, rtol=1e-5, atol=1e-6)


def test_batched_runs_equal_runs_one_at_a_time(tiny):
    specs = [RunSpec(1, 0.5, 0.05, 0), RunSpec(4, 0.0, 0.1, 1), RunSpec(2, -0.3, 0.02, 2)]
    together = train(specs, tiny, SETTINGS)
    for spec, rec in zip(specs, together):
        alone = train([spec], tiny, SETTINGS)[0]
        np.testing.assert_allclose(rec.losses, alone.losses, rtol=1e-4, atol=1e-5)


def test_staleness_used_in_training_matches_the_schedule(tiny):
    spec = RunSpec(4, 0.0, 0.05, seed=5)
    rec = train([spec], tiny, SETTINGS, track_staleness=True)[0]
    assert np.array_equal(rec.staleness, simulate(4, SETTINGS.budget, seed=run_seeds(5)["queue"]).staleness)


def test_seeds_reproduce_on_the_cpu(tiny):
    a = train([RunSpec(4, 0.5, 0.05, 7)], tiny, SETTINGS)[0]
    b = train([RunSpec(4, 0.5, 0.05, 7)], tiny, SETTINGS)[0]
    assert a.losses == b.losses


def test_divergence_is_recorded_not_raised(tiny):
    rec = train([RunSpec(1, 0.95, 50.0, 0)], tiny, SETTINGS)[0]
    assert rec.diverged and rec.updates <= SETTINGS.budget


def test_a_run_that_reaches_the_target_is_dropped_from_the_batch(tiny):
    settings = replace(SETTINGS, targets=(10.0,))  # reached at the first evaluation
    recs = train([RunSpec(1, 0.0, 0.01, 0), RunSpec(2, 0.0, 0.01, 1)], tiny, settings)
    assert all(r.reached[10.0] == settings.eval_every and r.updates == settings.eval_every for r in recs)


@pytest.mark.parametrize("spec, message", [(RunSpec(0, 0.0, 0.1, 0), "n_workers"),
                                           (RunSpec(2, 1.0, 0.1, 0), "mu_explicit"),
                                           (RunSpec(2, 0.0, float("nan"), 0), "lr"),
                                           (RunSpec(2, 0.0, 0.1, 0, controller="theorem7"), "controller")])
def test_bad_options_fail_clearly(tiny, spec, message):
    with pytest.raises(ValueError, match=message):
        train([spec], tiny, SETTINGS)


@pytest.mark.parametrize("controller", ["keep", "delay"])
def test_the_closed_loop_at_one_worker_is_the_synchronous_run(tiny, controller):
    """No staleness, no implicit momentum: the loop keeps the synchronous tuning (and the delay rule's factor is 1)."""
    plain = train([RunSpec(1, 0.5, 0.05, 3)], tiny, SETTINGS)[0]
    loop = train([RunSpec(1, 0.5, 0.05, 3, controller=controller)], tiny, SETTINGS)[0]
    assert loop.losses == plain.losses and loop.controls == pytest.approx((0.5, 0.05))


def test_the_closed_loop_starts_from_what_m_says_and_changes_the_run(tiny):
    """At M = 4 the first-order rule sets mu_L = 0.5 - (1 - 1/4) before any staleness is logged; the delay rule scales
    the step by sin(pi / (2 (2 (M - 1) + 1)))."""
    keep, delay, plain = train([RunSpec(4, 0.5, 0.05, 3, controller="keep"), RunSpec(4, 0.5, 0.05, 3, controller="delay"),
                                RunSpec(4, 0.5, 0.05, 3)], tiny, SETTINGS)
    assert keep.controls == pytest.approx((-0.25, 0.05))
    assert delay.controls == pytest.approx((-0.25, 0.05 * np.sin(np.pi / 14)))
    assert keep.losses[0] == plain.losses[0] and keep.losses[1:] != plain.losses[1:]


def test_model_shapes_follow_cifar10_quick():
    spec = model.shapes(3, 32)
    assert spec["conv1.w"] == (32, 3, 5, 5) and spec["conv3.w"] == (64, 32, 5, 5) and spec["fc1.w"] == (64 * 4 * 4, 64)
    params = model.init_params([0, 1], 1, 28, 0.5)
    assert model.forward(params, torch.zeros(2, 5, 1, 28, 28)).shape == (2, 5, 10)


def test_unknown_dataset_and_missing_files(tmp_path):
    with pytest.raises(data_mod.DatasetError, match="unknown dataset"):
        data_mod.load("imagenet")
    with pytest.raises(data_mod.DatasetError, match="dataset-fashion-mnist"):
        data_mod.load("fashion_mnist", tmp_path)
    with pytest.raises(data_mod.DatasetError, match="data_batch_1"):
        data_mod.load("cifar10", tmp_path)


def _write_idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def test_idx_reader_and_fashion_checks(tmp_path):
    _write_idx(tmp_path / "x.gz", np.arange(24).reshape(2, 3, 4))
    assert data_mod.read_idx(tmp_path / "x.gz").shape == (2, 3, 4)
    (tmp_path / "bad.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x09abc"))
    with pytest.raises(data_mod.DatasetError, match="truncated"):
        data_mod.read_idx(tmp_path / "bad.gz")


def test_cifar10_loader_reads_the_python_pickle_format(tmp_path):
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, size=(4, 3072), dtype=np.uint8), b"labels": [0, 1, 2, 9]}
        (tmp_path / name).write_bytes(pickle.dumps(batch))
    dataset = data_mod.load("cifar10", tmp_path)
    assert dataset.train_x.shape == (20, 3, 32, 32) and dataset.test_x.shape == (4, 3, 32, 32)
    assert list(dataset.train_y[:4]) == [0, 1, 2, 9]
    (tmp_path / "test_batch").write_bytes(b"not a pickle")
    with pytest.raises(data_mod.DatasetError, match="not a CIFAR-10 python batch"):
        data_mod.load("cifar10", tmp_path)


class _Exploit:
    def __reduce__(self):
        import os
        return (os.system, ("touch EXPLOITED",))


@pytest.mark.parametrize("payload", [_Exploit(), {b"data": _Exploit(), b"labels": [0]}])
def test_a_cifar_batch_that_calls_code_is_refused_without_running_it(tmp_path, monkeypatch, payload):
    monkeypatch.chdir(tmp_path)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (tmp_path / name).write_bytes(pickle.dumps(payload))
    with pytest.raises(data_mod.DatasetError, match="refusing to load posix.system") as exc:
        data_mod.load("cifar10", tmp_path)
    assert "\n" not in str(exc.value) and not (tmp_path / "EXPLOITED").exists()


@pytest.mark.skipif(not data_mod.DEBIAN_DIR.is_dir(), reason="dataset-fashion-mnist not installed")
def test_fashion_mnist_decoded_arrays_are_canonical():
    dataset = data_mod.load("fashion_mnist")
    assert dataset.train_x.shape == (60000, 1, 28, 28) and dataset.test_x.shape == (10000, 1, 28, 28)
    assert tuple(dataset.train_y[:10]) == data_mod.FASHION_FIRST_TRAIN_LABELS


def test_bf16_fast_path_follows_fp32_within_its_tolerance(tiny):
    """bf16 autocast (fp32 weights and momentum): after 8 stable updates the losses stay within 0.05 of fp32 eager (bf16
    keeps 8 bits of mantissa, about 0.4 % per operation; measured gap on the quick setting: about 0.015)."""
    specs = [RunSpec(4, 0.5, 0.005, 1), RunSpec(1, 0.0, 0.01, 2)]
    fp32 = train(specs, tiny, SETTINGS)
    bf16 = train(specs, tiny, replace(SETTINGS, precision="bf16"))
    for a, b in zip(fp32, bf16):
        assert a.losses[0] == b.losses[0]  # the same start; the evaluation itself is fp32
        np.testing.assert_allclose(b.losses, a.losses, atol=0.05)
        assert a.losses[-1] != b.losses[-1]  # the fast path did run in lower precision


def test_compile_falls_back_to_eager_when_torch_compile_fails(tiny, monkeypatch, capsys):
    def broken(fn, **kwargs):
        def call(*args):
            raise RuntimeError("no compiler here")
        return call
    monkeypatch.setattr(torch, "compile", broken)
    monkeypatch.setattr("cnn_experiments.train._COMPILED", {})
    spec = RunSpec(2, 0.5, 0.05, 1)
    eager = train([spec], tiny, SETTINGS)[0]
    compiled = train([spec], tiny, replace(SETTINGS, compile=True))[0]
    assert compiled.losses == eager.losses and "eager mode" in capsys.readouterr().err
    from cnn_experiments.train import compile_fell_back
    assert compile_fell_back()   # so the benchmark does not report an eager run as the compiled variant


def test_warm_start_continues_from_the_warmed_weights(tiny):
    from cnn_experiments.train import warm_start
    spec = RunSpec(1, 0.5, 0.05, 3)
    warmed = warm_start(spec, tiny, SETTINGS, 4)
    plain = _Batch([spec], tiny, SETTINGS, track_staleness=False)
    for t in range(4):
        plain.step(t)
    for name in warmed:
        assert torch.equal(warmed[name], plain.w[name])
    rec = train([RunSpec(2, 0.0, 0.05, 4)], tiny, SETTINGS, initial=warmed)[0]
    from cnn_experiments.train import eval_losses
    assert rec.losses[0] == pytest.approx(float(eval_losses(warmed, tiny)[0]))


def test_he_initialisation_is_wider_than_torch_default():
    he, default = model.init_params([0], 1, 28, 0.5), model.init_params([0], 1, 28, 0.5, init="torch")
    assert torch.allclose(he["conv1.w"], default["conv1.w"] * 6 ** 0.5) and torch.equal(he["conv1.b"], default["conv1.b"])
    with pytest.raises(ValueError, match="init must be"):
        model.init_params([0], 1, 28, init="xavier")


def test_runs_stop_at_a_multiple_of_the_first_time_a_run_reached_the_target(tiny):
    """stop_factor 2: the first run reaches the (easy) target at the first evaluation (update 4), so every run that
    has not reached it stops at update 8; their stop is recorded as their censoring."""
    settings = replace(SETTINGS, budget=40, targets=(10.0,), stop_factor=2.0)
    hard = replace(settings, targets=(1e-9,))
    recs = train([RunSpec(1, 0.0, 0.01, 0), RunSpec(2, 0.0, 0.01, 1)], tiny, settings)
    assert all(r.stop == 8 and r.updates == 4 for r in recs)
    never = train([RunSpec(1, 0.0, 0.01, 0)], tiny, hard)[0]
    assert never.stop == 40 and never.updates == 40  # nobody reached it: the budget
    with pytest.raises(ValueError, match="one batch"):
        train([RunSpec(1, 0.0, 0.01, s) for s in range(9)], tiny, settings)
    with pytest.raises(ValueError, match="needs loss targets"):
        train([RunSpec(1, 0.0, 0.01, 0)], tiny, replace(SETTINGS, stop_factor=2.0))


def test_channels_last_computes_the_same_losses(tiny):
    """The layout changes the kernels' rounding only: after 8 updates the losses agree to 1e-4 relative."""
    specs = [RunSpec(4, 0.5, 0.02, 1), RunSpec(1, 0.0, 0.05, 2)]
    nchw = train(specs, tiny, replace(SETTINGS, layout="nchw"))
    nhwc = train(specs, tiny, replace(SETTINGS, layout="nhwc"))
    for a, b in zip(nchw, nhwc):
        assert a.losses[0] == pytest.approx(b.losses[0], rel=1e-6)
        np.testing.assert_allclose(a.losses, b.losses, rtol=1e-4)
    with pytest.raises(ValueError, match="layout"):
        train(specs, tiny, replace(SETTINGS, layout="nhcw"))


def test_a_cifar_batch_of_shared_lists_is_refused_before_it_expands(tmp_path):
    """6 KB of pickle that would expand to gigabytes (one list shared a million times): refused at once."""
    import time
    x = [0] * 3072
    for _ in range(6):
        x = [x] * 10
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (tmp_path / name).write_bytes(pickle.dumps({b"data": x, b"labels": [0]}))
    start = time.time()
    with pytest.raises(data_mod.DatasetError, match="not a uint8 array"):
        data_mod.load("cifar10", tmp_path)
    assert time.time() - start < 5
