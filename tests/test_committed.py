"""Committed evidence: chunks with provenance and checksums, assembled by the report without training, recomputed
bit for bit by verify-evidence, and an edited or damaged chunk refused, never trusted."""
import dataclasses
import gzip
import json
import random

import numpy as np
import pytest

from reports import committed
from reports.common import load_committed
from reports.harness.codec import encode
from reports.harness.evidence import Chunks, EvidenceError
from reports.registry import experiments
from tests.conftest import tiny_dataset

EXP = experiments()["cnn_momentum"]
SMOKE = EXP.smoke
pytestmark = pytest.mark.slow


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setattr("cnn_experiments.data.load", lambda name, data_dir=None: tiny_dataset(n=256))


@pytest.fixture
def computed(tmp_path, tiny):
    """The smoke design computed into a committed-evidence folder (one process)."""
    left = committed.compute(EXP, SMOKE, jobs=1, root=tmp_path, say=lambda text: None, pool=False)
    assert left == 0
    return tmp_path


def test_a_chunk_round_trips_with_its_provenance(tmp_path):
    store = Chunks(tmp_path)
    store.put("M1-seed0", {"runs": [], "stopped_at": 3, "x": float("inf")}, {"wall_seconds": 1.5})
    record = store.record("M1-seed0")
    assert record["payload"] == {"runs": [], "stopped_at": 3, "x": None}
    assert record["provenance"]["wall_seconds"] == 1.5 and record["provenance"]["machine"]["cpu"]
    assert "git_sha" in record["provenance"] and store.names() == ["M1-seed0"]
    assert Chunks(tmp_path).get("absent") is None


def test_an_edited_chunk_is_refused(tmp_path):
    store = Chunks(tmp_path)
    store.put("M1-seed0", {"runs": [{"losses": [1.0, 0.5]}], "stopped_at": 2})
    path = store.file("M1-seed0")
    record = json.loads(gzip.decompress(path.read_bytes()))
    record["payload"]["runs"][0]["losses"][1] = 0.4          # a "better" loss, checksum not resealed
    path.write_bytes(gzip.compress(json.dumps(record).encode()))
    with pytest.raises(EvidenceError, match="does not match its checksum"):
        store.get("M1-seed0")
    path.write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(EvidenceError, match="unreadable"):
        store.get("M1-seed0")


def test_a_decompression_bomb_and_a_link_are_refused(tmp_path, monkeypatch):
    store = Chunks(tmp_path)
    monkeypatch.setattr("reports.harness.evidence.MAX_CHUNK_BYTES", 1000)
    store.file("big").write_bytes(gzip.compress(b"[" + b" " * 5000 + b"]"))
    with pytest.raises(EvidenceError, match="more than"):
        store.get("big")
    (tmp_path / "elsewhere.json.gz").write_bytes(b"x")
    store.file("link").symlink_to(tmp_path / "elsewhere.json.gz")
    with pytest.raises(EvidenceError, match="is a link, not a chunk file"):
        store.get("link")


def test_the_report_reads_only_complete_evidence_and_says_how_far(tmp_path, tiny):
    committed.compute(EXP, SMOKE, jobs=1, root=tmp_path, say=lambda text: None, limit=3, pool=False)
    result, why = load_committed(EXP, SMOKE, tmp_path)
    assert result is None and why == f"3 of {len(EXP.chunked.plan(SMOKE))} chunks committed"


def test_the_assembled_result_equals_the_plain_run_and_verify_recomputes_bit_for_bit(computed, tiny):
    result, why = load_committed(EXP, SMOKE, computed)
    plain = EXP.run(SMOKE, progress=False)
    assert why == "committed" and json.dumps(encode(result.summary), sort_keys=True) == json.dumps(
        encode(plain.summary), sort_keys=True)
    for key, value in plain.arrays.items():
        assert np.array_equal(result.arrays[key], value), key
    assert result.provenance["source"] == "committed evidence" and result.provenance["chunks"] == len(
        EXP.chunked.plan(SMOKE))
    lines = []
    names = random.Random(1).sample(EXP.chunked.plan(SMOKE), 3)
    assert committed.verify(EXP, SMOKE, names, root=computed, say=lines.append) == 0
    assert sum("OK: bit-identical" in line for line in lines) == 3


def test_verify_reports_an_edited_chunk_and_the_report_refuses_it(computed, tiny):
    store = Chunks(committed.chunks_of(EXP, SMOKE, computed).path)
    name = EXP.chunked.plan(SMOKE)[-3]
    path = store.file(name)
    record = json.loads(gzip.decompress(path.read_bytes()))
    record["provenance"]["wall_seconds"] = 0.0
    path.write_bytes(gzip.compress(json.dumps(record).encode()))
    lines = []
    assert committed.verify(EXP, SMOKE, [], root=computed, say=lines.append) >= 1
    assert any("DAMAGED" in line and name in line for line in lines)
    result, why = load_committed(EXP, SMOKE, computed)
    assert result is None and "does not match its checksum" in why


def test_a_missing_chunk_fails_verify_and_the_draw_spans_the_experiments(computed, tiny):
    store = Chunks(committed.chunks_of(EXP, SMOKE, computed).path)
    store.file(EXP.chunked.plan(SMOKE)[-1]).unlink()
    lines = []
    assert committed.verify(EXP, SMOKE, [], root=computed, say=lines.append) == 1
    assert any("MISSING 1 of" in line for line in lines)
    smoke = dataclasses.replace(EXP, profiles={"quick": SMOKE})
    both = {"first": smoke, "second": smoke}     # two experiments (here with the same chunks)
    picks = committed.draw(both, 2, seed=3, cap=1e9, root=computed, say=lines.append)
    assert len(picks) == 2 and {n for n, _ in picks} == {"first", "second"}
    assert committed.draw(both, 2, seed=3, cap=0.0, root=computed, say=lines.append) == []


def test_a_bit_identical_recomputation_from_a_clean_tree_is_recorded_and_counted(computed, tiny, monkeypatch):
    """The ledger records a chunk recomputed bit for bit from committed code; from uncommitted changes it refuses; the
    report counts a dirty chunk as confirmed only while its digest is the one recomputed."""
    from reports import build
    name = EXP.chunked.plan(SMOKE)[0]
    ledger = computed / "verified.jsonl"
    monkeypatch.setattr("reports.ledger.git_state", lambda ignoring=(): ("c0ffee", False))
    assert committed.verify(EXP, SMOKE, [name], root=computed, say=lambda text: None, ledger=ledger) == 0
    (entry,) = committed.read_ledger(ledger)
    assert entry["chunk"] == name and entry["recomputed_from"] == "c0ffee" and entry["result"] == "bit-identical"
    monkeypatch.setattr("reports.ledger.read_ledger", lambda path=None: [entry])
    digest = entry["chunk_sha256"]
    assert build.dirty_record(EXP.name, {name: digest, "other": "0" * 64}) == {"dirty_chunks": 2, "dirty_confirmed": 1}
    assert build.dirty_record(EXP.name, {name: "f" * 64}) == {"dirty_chunks": 1, "dirty_confirmed": 0}
    monkeypatch.setattr("reports.ledger.git_state", lambda ignoring=(): ("c0ffee", True))
    with pytest.raises(committed.UsageError, match="uncommitted changes"):
        committed.verify(EXP, SMOKE, [name], root=computed, say=lambda text: None, ledger=ledger)


def test_a_recomputed_chunk_that_differs_is_a_mismatch(computed, tiny):
    from reports.experiments.cnn_momentum import run
    real = run.compute

    def off(config, name, chunks):
        payload = real(config, name, chunks)
        if "runs" in payload and payload["runs"]:
            payload["runs"][0]["losses"][-1] += 1e-9
        return payload
    exp = dataclasses.replace(EXP, chunked=dataclasses.replace(EXP.chunked, compute=off))
    lines = []
    assert committed.verify(exp, SMOKE, [EXP.chunked.plan(SMOKE)[0]], root=computed, say=lines.append) == 1
    assert any("MISMATCH" in line for line in lines)


def test_a_chunk_the_repository_holds_is_lost_when_deleted_and_one_never_committed_is_only_missing(tmp_path):
    """verify fails on a deleted chunk, not on an experiment whose evidence is still being computed; where git cannot
    say (no repository), every missing chunk counts as lost."""
    import subprocess
    folder = tmp_path / "evidence" / "cnn" / "x" / "key"
    folder.mkdir(parents=True)
    (folder / "M1-seed0.json.gz").write_bytes(b"committed")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "chunk"]):
        subprocess.run(git + args, cwd=tmp_path, check=True, capture_output=True)
    (folder / "M1-seed0.json.gz").unlink()
    assert committed.lost_chunks(folder, ["M1-seed0", "M2-seed0"]) == ["M1-seed0"]
    assert committed.lost_chunks(tmp_path / "evidence" / "cnn" / "y" / "key", ["M1-seed0"]) == []
    outside = tmp_path.parent / f"{tmp_path.name}-plain"
    outside.mkdir()
    assert committed.lost_chunks(outside, ["M1-seed0"]) == ["M1-seed0"]


def test_the_ledger_is_read_and_written_as_a_regular_file_only(tmp_path):
    """A FIFO in the ledger's place is not read (no hang) nor written; a link is not followed."""
    import os
    from reports import ledger
    fifo = tmp_path / "verified.jsonl"
    os.mkfifo(fifo)
    assert ledger.read_ledger(fifo) == []
    with pytest.raises(OSError):            # no reader: refused at once (ENXIO), never waited on
        ledger.append_ledger(fifo, {"chunk": "x"})
    target, link = tmp_path / "elsewhere", tmp_path / "link.jsonl"
    target.write_text("")
    link.symlink_to(target)
    with pytest.raises(OSError):
        ledger.append_ledger(link, {"chunk": "x"})
    assert target.read_text() == ""


def test_the_ledger_s_own_lines_do_not_make_the_tree_dirty_for_the_next_record(monkeypatch):
    """A run that records many chunks appends to the committed ledger between them: only changes elsewhere refuse."""
    from reports import ledger
    monkeypatch.setattr("reports.ledger.git_state",
                        lambda ignoring=(): ("c0ffee", "reports/evidence/verified.jsonl" not in ignoring))
    assert ledger.clean_commit() == "c0ffee"
