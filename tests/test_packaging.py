"""A non-editable install carries every package of the suite (the wheel, not the source tree)."""
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def test_the_wheel_holds_every_module_of_the_source_tree(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-q", "-w",
                           str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-1000:]
    wheel = next(tmp_path.glob("*.whl"))
    inside = set(zipfile.ZipFile(wheel).namelist())
    for package in ("theory", "sim", "cnn_experiments", "reports"):
        for path in (ROOT / package).rglob("*.py"):
            assert str(path.relative_to(ROOT)) in inside, f"{path.relative_to(ROOT)} is missing from the wheel"
