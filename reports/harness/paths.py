"""Where things live: the repository, the results store, the report, the committed evidence (one place)."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RESULTS = ROOT / "results"
DEFAULT_OUT = ROOT / "reports" / "out"
EVIDENCE = ROOT / "reports" / "evidence"
MATHJAX = Path("/usr/share/javascript/mathjax")   # Debian's libjs-mathjax
