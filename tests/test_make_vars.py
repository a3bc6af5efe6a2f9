"""make variables arrive as data: a value that would run a shell command is refused with one line naming the
variable, exits non-zero and runs nothing."""
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASES = [("claim", "ID=x; touch {f} #"), ("claim", "ID=`touch {f}`"), ("claim", "ID=$$(touch {f})"),
         ("report", "RESULTS=r; touch {f}"), ("report", "RESULTS=`touch {f}`"), ("repro", "PROFILE=quick; touch {f}"),
         ("verify-evidence", "N=1; touch {f}"), ("report", "PYTHON=python3; touch {f}")]
pytestmark = pytest.mark.skipif(shutil.which("make") is None or not (ROOT / ".venv" / ".installed").exists(),
                                reason="needs make and the installed .venv")


@pytest.mark.parametrize("target, assignment", CASES, ids=[f"{t}:{a.split('=')[0]}" for t, a in CASES])
def test_a_shell_command_in_a_make_variable_runs_nothing(target, assignment, tmp_path):
    witness = tmp_path / "ran"
    proc = subprocess.run(["make", "-s", "-C", str(ROOT), target, assignment.format(f=witness)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and not witness.exists()
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "make variable" in errors[0], proc.stderr[-500:]
