"""The GPU job's dry run on the CPU: the exact script at the full configuration for two updates per run, with the
modules the GPU machine lacks made unimportable; it stops at its deadline with chunks stored (the deadline is
checked between chunks, so the first chunk is always stored) and a second invocation finishes from them."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cnn_experiments import data as data_mod

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not data_mod.DEBIAN_DIR.is_dir(), reason="dataset-fashion-mnist not installed")]
BLOCK = '''import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("distributed", "dask", "nbconvert", "jupytext", "pytest", "playwright"):
            raise ImportError(name + " is not on the GPU machine")
sys.meta_path.insert(0, _Block())
'''


def _script(tmp_path: Path, deadline: int, sweep: str | None = None) -> subprocess.CompletedProcess:
    (tmp_path / "block").mkdir(exist_ok=True)
    (tmp_path / "block" / "sitecustomize.py").write_text(BLOCK)
    env = {**os.environ, "OUT": str(tmp_path / "out"), "DRY_RUN": "1", "DEADLINE": str(deadline),
           "PYTHON": sys.executable, "PYTHONPATH": str(tmp_path / "block"), "OMP_NUM_THREADS": "2"}
    if sweep is not None:
        env["SWEEP_DEADLINE"] = sweep
    return subprocess.run(["bash", "scripts/gpu_evidence.sh"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900)


def test_gpu_script_dry_run_stops_at_its_deadline_and_resumes(tmp_path):
    first = _script(tmp_path, 600, sweep="0.001")   # the sweep stops after its first chunk, whatever the speed
    assert first.returncode == 3, first.stdout[-500:] + first.stderr[-1500:]
    assert "chunks stored before the deadline" in first.stdout + first.stderr
    chunks = list((tmp_path / "out" / "evidence").rglob(".chunks-*/M*.json"))
    assert chunks, "no chunk stored before the deadline"
    second = _script(tmp_path, 600)
    assert second.returncode == 0, second.stdout[-500:] + second.stderr[-1500:]
    assert "not on the GPU machine" not in second.stderr
    summaries = list((tmp_path / "out" / "evidence" / "cnn" / "cnn_momentum").glob("*/summary.json"))
    assert len(summaries) == 1 and not list((tmp_path / "out" / "evidence").rglob(".chunks-*"))
    assert (tmp_path / "out" / "cnn_bench.json").read_text().startswith("{")
