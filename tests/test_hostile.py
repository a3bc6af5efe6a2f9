"""The hostile inputs of the independent reliability review, as rows: each exits with one `error:` line on stderr
and status 2 (130 for Ctrl-C), within its time bound, and writes or deletes nothing of the user's; special files are
refused at once; markup from a stored result reaches the page only as text; make variables are data."""
import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_store_and_config import Cfg

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow
HEADER = "update,worker,time,staleness,warmup\n"


def _log(rows) -> str:
    return HEADER + "".join(f"{u},{w},{t},{s},{int(u < 4)}\n" for u, w, t, s in rows)


def _good(n=400, m=4):
    return [(i, i % m, 0.01 * (i + 1), min(i, m - 1)) for i in range(n)]


def _edit(rows, i, **kw):
    rows = list(rows)
    u, w, t, s = rows[i]
    rows[i] = (u, kw.get("worker", w), kw.get("time", t), kw.get("staleness", s))
    return rows


LOGS = {  # sim.advise --log FILE
    "staleness-2^53": _log(_edit(_good(), -1, staleness=2 ** 53)),
    "staleness-1e8-in-400-rows": _log(_edit(_good(), -1, staleness=10 ** 8)),
    "worker-1e6": _log(_edit(_good(), -1, worker=10 ** 6)),
    "worker-50000": _log(_edit(_good(), -1, worker=50_000)),
    "times-negated": _log([(u, w, -t, s) for u, w, t, s in _good()]),
    "times-all-zero": _log([(u, w, 0.0, s) for u, w, _, s in _good()]),
    "times-all-1e308": _log([(u, w, 1e308, s) for u, w, _, s in _good()]),
    "times-decreasing": _log(_edit(_good(), 200, time=0.0)),
}


def _snapshot(folder: Path) -> dict:
    """Every path under folder (links not followed) with its content's digest."""
    out = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink():
            out[key] = "link:" + os.readlink(path)
        elif path.is_file():
            out[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            out[key] = "other"
    return out


def _one_line(module_args, cwd, timeout=30, env=None):
    start = time.time()
    proc = subprocess.run([sys.executable, "-m", *module_args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-300:], proc.stderr[-600:])
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in proc.stderr, proc.stderr[-600:]
    assert time.time() - start < timeout
    return lines[0]


@pytest.mark.parametrize("case", sorted(LOGS))
def test_an_impossible_staleness_log_is_refused_in_one_line(case, tmp_path):
    (tmp_path / "log.csv").write_text(LOGS[case])
    before = _snapshot(tmp_path)
    _one_line(["sim.advise", "--log", str(tmp_path / "log.csv")], tmp_path, timeout=15)
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "folder", "link-to-fifo"])
def test_special_files_are_refused_at_once_not_waited_on(special, tmp_path):
    target = tmp_path / "special"
    if special in ("fifo", "link-to-fifo"):
        os.mkfifo(tmp_path / "fifo")
        target = tmp_path / "fifo"
        if special == "link-to-fifo":
            (tmp_path / "link").symlink_to(target)
            target = tmp_path / "link"
    elif special == "folder":
        target.mkdir()
    else:
        target = Path(special)
    line = _one_line(["sim.advise", "--log", str(target)], tmp_path, timeout=10)
    assert "not a regular file" in line
    _one_line(["cnn_experiments.real_async", "--n-workers", "2", "--updates", "60", "--log", str(target)], tmp_path,
              timeout=10)


def test_a_stored_result_holding_a_fifo_or_a_link_to_dev_zero_is_recomputed_not_read(tmp_path):
    from reports.harness.store import Result, Store
    store = Store(tmp_path / "r")
    folder = store.save("k", "e", Cfg(), Result(summary={"x": 1.0}, provenance={"seed": 1}))
    (folder / "config.json").unlink()
    os.mkfifo(folder / "config.json")
    start = time.time()
    assert "not a regular" in store.verify(folder) and time.time() - start < 5
    (folder / "config.json").unlink()
    (folder / "arrays.npz").unlink()
    (folder / "arrays.npz").symlink_to("/dev/zero")
    assert store.verify(folder) is not None and time.time() - start < 5
    assert store.load_folder(folder) is None


def test_the_store_never_writes_its_marker_through_a_link(tmp_path):
    from reports.harness.store import Result, Store, StoreError
    victim = tmp_path / "victim.txt"
    victim.write_text("mine\n")
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / ".suite-store").symlink_to(victim)
    with pytest.raises(StoreError, match="not this suite's marker"):
        Store(tmp_path / "r").save("k", "e", Cfg(), Result(summary={"x": 1}))
    assert victim.read_text() == "mine\n"


def test_a_committed_chunk_that_is_a_fifo_or_resealed_with_the_wrong_shape_is_named_damaged(tmp_path):
    from reports.harness.evidence import Chunks, EvidenceError, _digest
    store = Chunks(tmp_path)
    store.put("good", {"runs": []}, {"wall_seconds": 1.0})
    os.mkfifo(tmp_path / "fifo.json.gz")
    start = time.time()
    with pytest.raises(EvidenceError, match="not a regular file"):
        store.record("fifo")
    assert time.time() - start < 5
    for name, change in (("list-payload", lambda r: r.update(payload=[1])),
                         ("list-provenance", lambda r: r.update(provenance=["x"])),
                         ("string-machine", lambda r: r["provenance"].update(machine="s")),
                         ("string-wall", lambda r: r["provenance"].update(wall_seconds="s"))):
        record = json.loads(gzip.decompress((tmp_path / "good.json.gz").read_bytes()))
        record["name"] = name
        change(record)
        record["sha256"] = _digest(record)   # resealed: the checksum matches, the shape does not
        (tmp_path / f"{name}.json.gz").write_bytes(gzip.compress(json.dumps(record).encode()))
        with pytest.raises(EvidenceError, match="wrong shape"):
            store.record(name)


@pytest.mark.parametrize("case", ["user-folder", "file", "link", "results", "parent-of-results", "missing-results",
                                  "results-a-file"])
def test_the_report_replaces_only_its_own_folder(case, tmp_path):
    results = tmp_path / "work" / "results"
    results.mkdir(parents=True)
    (results / "plan-quick.json").write_text("{}")
    mine = tmp_path / "work" / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("thesis")
    (tmp_path / "work" / "notes.txt").write_text("notes")
    (tmp_path / "work" / "link").symlink_to(mine)
    out = {"user-folder": mine, "file": mine / "thesis.tex", "link": tmp_path / "work" / "link",
           "results": results, "parent-of-results": tmp_path / "work", "missing-results": tmp_path / "out",
           "results-a-file": tmp_path / "out"}[case]
    res = {"missing-results": tmp_path / "nope", "results-a-file": mine / "thesis.tex"}.get(case, results)
    before = _snapshot(tmp_path)
    _one_line(["reports.build", "--no-notebooks", "--no-pdf", "--results", str(res), "--out", str(out)], tmp_path,
              timeout=60)
    assert _snapshot(tmp_path) == before


def test_markup_in_a_stored_result_reaches_the_page_as_text(tmp_path):
    from reports import build
    from reports.run import compute
    settings = ["mc_tuning.n_replicas=10", "mc_tuning.n_steps=20", "mc_tuning.burn_in=5", "mc_tuning.workers=[1,4]"]
    results = compute("quick", tmp_path / "r", only=["mc_tuning"], settings=settings, quiet=True)
    folder = results["mc_tuning"].path
    planted = "<script>document.title='PWNED'</script><img src=x onerror=alert(1)>"
    prov = json.loads((folder / "provenance.json").read_text())
    prov.update(wall_seconds=planted, device=planted, git_sha=planted, finished=planted)
    (folder / "provenance.json").write_text(json.dumps(prov))
    record = json.loads((folder / "summary.json").read_text())
    record["sha256"]["provenance.json"] = hashlib.sha256((folder / "provenance.json").read_bytes()).hexdigest()
    from reports.harness.config import canonical_json
    record["self_sha256"] = hashlib.sha256(canonical_json({k: v for k, v in record.items()
                                                           if k != "self_sha256"}).encode()).hexdigest()
    (folder / "summary.json").write_text(json.dumps(record))
    build.build("quick", tmp_path / "r", tmp_path / "out", notebooks=False, pdf=False)
    page = (tmp_path / "out" / "report.html").read_text()
    assert planted not in page and "&lt;script&gt;document.title" in page


@pytest.mark.parametrize("variable", ["ID", "N", "RESULTS", "PROFILE", "PYTHON", "SCHEDULER", "DASK_WORKERS",
                                      "PY", "CHECK", "VENV", "STAMP"])
def test_a_make_variable_is_data_even_with_a_make_function_in_it(variable, tmp_path):
    witness = tmp_path / "witness"
    value = f"$(shell touch {witness})" if variable not in ("PY", "CHECK") else f"touch {witness}; false"
    target = {"N": "verify-evidence", "RESULTS": "repro", "SCHEDULER": "evidence", "DASK_WORKERS": "evidence"}.get(
        variable, "claim")
    proc = subprocess.run(["make", "-s", "-C", str(ROOT), target, "ID=theorem-2", f"{variable}={value}"],
                          capture_output=True, text=True, timeout=120)
    assert not witness.exists(), (variable, proc.stderr[-300:])


def test_ctrl_c_is_one_line_and_status_130(tmp_path):
    # a run of about 15 s on an idle 2-core machine, interrupted 2 s after it says it computes. The child starts
    # with Ctrl-C at its default, as from a shell: a test process may have been left ignoring SIGINT by an earlier
    # test on the same worker (a Dask cluster in the process), and a child inherits an ignored signal
    proc = subprocess.Popen([sys.executable, "-m", "reports.run", "--only", "mc_tuning", "--results",
                             str(tmp_path / "r"), "--set", "mc_tuning.n_replicas=200", "--set", "mc_tuning.n_steps=1000"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    start = time.time()
    while "computing" not in proc.stdout.readline() and time.time() - start < 60:
        pass
    time.sleep(2)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err, err[-600:]
    assert [line for line in err.splitlines() if line.strip()] == [err.strip().splitlines()[-1]]


def test_verify_refuses_no_chunks_and_a_cluster_needs_one_address(tmp_path):
    _one_line(["reports.committed", "verify", "--n", "0"], tmp_path)
    _one_line(["reports.committed", "compute", "--scheduler", "tcp://127.0.0.1:9", "--dask-workers", "2"], tmp_path)
    _one_line(["reports.committed", "status", "--dask-workers", "2"], tmp_path)
    _one_line(["reports.run", "--only", "theory", "--tls-key", "/etc/hostname", "--results", str(tmp_path / "r")],
              tmp_path)


def test_a_second_build_into_the_same_folder_is_refused_while_one_writes(tmp_path):
    from reports.harness import outdir
    out = tmp_path / "out"
    with outdir.lock(out):
        with pytest.raises(outdir.OutError, match="another build is writing"):
            with outdir.lock(out):
                pass


def test_a_dead_builds_leftovers_are_restored_or_removed(tmp_path):
    """A kill between the swaps leaves the new report beside a missing --out: the next build puts it back; any
    other leftover of a dead build is removed (pid 4194304 exceeds Linux's pid range: never alive)."""
    from reports.harness import outdir
    out = tmp_path / "out"
    new = tmp_path / ".out-tmp-4194304-abc"
    new.mkdir()
    (new / outdir.MARKER).write_text("ours")
    (new / "report.html").write_text("<html>new</html>")
    old = tmp_path / ".out-old-4194304-def" / "x"
    old.mkdir(parents=True)
    (old / outdir.MARKER).write_text("ours")
    (old / "report.html").write_text("<html>old</html>")
    outdir.clean(out)
    assert (out / "report.html").read_text() == "<html>new</html>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
