"""Committed evidence computed on a Dask cluster: the chunks the workers return equal, bit for bit, the chunks
computed locally (on a local cluster with TLS, and through a separately started scheduler and two workers), and an
answer that is not a chunk is refused."""
import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cnn_experiments import data as data_mod
from reports.cluster_chunks import accepted
from reports.harness.config import canonical_json

ROOT = Path(__file__).resolve().parent.parent
ONLY = ["--only", "cnn_batch_ladder"]


def _compute(evidence: Path, *extra: str, only=ONLY, threads: int = 1) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    return subprocess.run([sys.executable, "-m", "reports.committed", "compute", "--profile", "smoke", "--evidence",
                           str(evidence), *only, *extra], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env=env)


def _payloads(evidence: Path) -> dict:
    out = {}
    for path in sorted(evidence.rglob("*.json.gz")):
        record = json.loads(gzip.decompress(path.read_bytes()))
        out[path.relative_to(evidence).as_posix()] = canonical_json(record["payload"])
    return out


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    folder = tmp_path_factory.mktemp("local")
    proc = _compute(folder, "--jobs", "1")
    assert proc.returncode == 0, proc.stdout[-800:] + proc.stderr[-800:]
    return _payloads(folder)


def test_an_answer_that_is_not_a_chunk_is_refused():
    good = {"payload": {"runs": []}, "info": {"chunk": "x", "wall_seconds": 1.0, "machine": {}}}
    assert accepted(good, "x") is None
    assert "not a chunk" in accepted({"payload": [1, 2]}, "x")
    assert "not a chunk" in accepted("garbage", "x")
    assert "wall_seconds" in accepted({"payload": {}, "info": {"wall_seconds": "soon"}}, "x")
    assert "machine" in accepted({"payload": {}, "info": {"machine": "a string"}}, "x")


@pytest.mark.slow
@pytest.mark.skipif(not data_mod.DEBIAN_DIR.is_dir(), reason="dataset-fashion-mnist not installed")
@pytest.mark.parametrize("experiment", ["cnn_batch_ladder", "cnn_momentum"])
def test_a_cnn_chunk_has_the_same_bits_whatever_threads_the_process_was_given(experiment, tmp_path):
    """Each CNN experiment sets its own torch threads (a cluster worker runs one, a local process may run more)."""
    only = ["--only", experiment, "--limit", "1"]
    one, two = tmp_path / "one", tmp_path / "two"
    for folder, threads in ((one, 1), (two, 2)):
        proc = _compute(folder, "--jobs", "1", only=only, threads=threads)
        assert proc.returncode == 0, proc.stdout[-800:] + proc.stderr[-800:]
    assert _payloads(one) == _payloads(two) and len(_payloads(one)) == 1


@pytest.mark.slow
@pytest.mark.skipif(not data_mod.DEBIAN_DIR.is_dir(), reason="dataset-fashion-mnist not installed")
def test_a_cluster_computes_at_most_limit_chunks(local, tmp_path):
    proc = _compute(tmp_path, "--dask-workers", "1", "--limit", "1")
    assert proc.returncode == 0, proc.stdout[-800:] + proc.stderr[-800:]
    got = _payloads(tmp_path)
    assert len(got) == 1 and got.items() <= local.items()


@pytest.mark.slow
@pytest.mark.skipif(not data_mod.DEBIAN_DIR.is_dir(), reason="dataset-fashion-mnist not installed")
def test_chunks_from_a_local_tls_cluster_equal_the_local_ones(local, tmp_path):
    proc = _compute(tmp_path, "--dask-workers", "2")
    assert proc.returncode == 0, proc.stdout[-800:] + proc.stderr[-800:]
    assert "tasks on tls://127.0.0.1" in proc.stdout
    assert _payloads(tmp_path) == local and local
    record = json.loads(gzip.decompress(next(tmp_path.rglob("B8-M16-seed0.json.gz")).read_bytes()))
    assert record["provenance"]["computed_on"].startswith("dask worker on ")


@pytest.mark.slow
@pytest.mark.skipif(not data_mod.DEBIAN_DIR.is_dir(), reason="dataset-fashion-mnist not installed")
def test_chunks_through_a_separately_started_scheduler_and_two_workers_equal_the_local_ones(local, tmp_path):
    bindir = Path(sys.executable).parent
    env = {**os.environ, "OMP_NUM_THREADS": "1", "ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2",
           "PYTHONPATH": str(ROOT)}
    file = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([str(bindir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(file)], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.time() + 30
        while not file.is_file() and time.time() < deadline:
            time.sleep(0.2)
        address = json.loads(file.read_text())["address"]
        procs += [subprocess.Popen([str(bindir / "dask"), "worker", address, "--nthreads", "1", "--no-dashboard",
                                    "--host", "127.0.0.1"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL) for _ in range(2)]
        time.sleep(3)
        proc = _compute(tmp_path / "evidence", "--scheduler", address)
        assert proc.returncode == 0, proc.stdout[-800:] + proc.stderr[-800:]
        assert _payloads(tmp_path / "evidence") == local
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
