"""Build the report from stored results only: claims.json, report.html, figures, executed notebooks.

    python -m reports.build [--profile quick|full] [--results DIR] [--out DIR] [--no-notebooks] [--no-pdf]

Writes report.html (one self-contained folder: figures and the MathJax it needs copied in) and report.pdf, printed
from the same page by headless Chromium (Debian's `chromium`; without it, a warning and no PDF).

Never computes: a claim whose experiment has no stored result is `not_run`. Full-profile results missing
locally are taken from reports/evidence/ (committed GPU runs), marked as such. The output folder is replaced
atomically: a failed build leaves the previous report in place.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from reports.common import (DEFAULT_OUT, DEFAULT_RESULTS, EVIDENCE, ROOT, UsageError, check_profile, fail, load,
                            load_committed, read_plan)
from reports.harness import outdir
from reports.harness.checkpoint import progress
from reports.harness.paths import MATHJAX
from reports.harness.store import Store
from reports.harness.provenance import git_state
from reports.power import read as read_power
from reports.render import power_text, render  # noqa: F401  (power_text: read here by the tests)
from reports.registry import STATUSES, claims, experiments, judge
from sim.cli import Parser, path_arg
from sim import cli

# the parts of MathJax 2 the report's configuration (TeX-AMS_CHTML-full, Safe) loads: copied, so the report folder
# is self-contained (about 1.5 MB of the package's 54 MB)
MATHJAX_PARTS = ("MathJax.js", "config/TeX-AMS_CHTML-full.js", "config/Safe.js", "extensions", "jax/output/CommonHTML",
                 "jax/input/TeX", "jax/element", "fonts/HTML-CSS/TeX/woff", "localization/en")
NOTEBOOKS = ("theory", "monte_carlo", "cnn", "real_async", "beyond")


def evaluate(profile: str, results: Path) -> tuple[list[dict], dict, list[str]]:
    """Claim records for claims.json, the loaded results (for figures) and the run's overrides. Pure reading.

    The configs are those of the plan the last `reports.run` of this profile executed in `results` (so a `--set`
    run yields a report of that run), or the profile's defaults when none ran there.
    """
    cfgs, settings = read_plan(results, profile)
    loaded = load(profile, results, cfgs=cfgs)
    power = read_power(results, profile, cfgs)
    exps = experiments()
    records = []
    for claim in claims():
        result, source = loaded[claim.experiment]
        random = exps[claim.experiment].seeded
        record = {"id": claim.id, "aliases": list(claim.aliases), "paper_ref": claim.paper_ref,
                  "statement": claim.statement, "role": claim.role, "method": claim.method,
                  "expect": claim.expect,
                  **judge(claim, result),
                  "tolerance": claim.tolerance.text(), "why": claim.tolerance.reasons(), "evidence": None,
                  "power": (power.get(claim.id, {"seeds": 0, "note": "no power study in this results folder: run "
                                                 "`python -m reports.power`"}) if random else None),
                  "figure": claim.figure, "part": exps[claim.experiment].part,
                  "paper_value": claim.paper, "meaning": claim.meaning}
        exp = exps[claim.experiment]
        if result is None and profile in exp.committed:
            _, why = load_committed(exp, cfgs[claim.experiment])
            record["measured"] = (f"not run: committed evidence incomplete ({why}); `make evidence` computes the "
                                  "missing chunks")
        elif result is None and exp.resumable:
            exp, folders = exps[claim.experiment], (results, EVIDENCE)
            partial = [progress(Store(f).chunks_folder(exp.method, claim.experiment, cfgs[claim.experiment],
                                                       exp.store_version(cfgs[claim.experiment]))) for f in folders]
            partial = next((p for p in partial if p is not None), None)
            if partial is not None:
                record["measured"] = (f"not run: {partial[0]} of {partial[1]} chunks stored; rerun "
                                      "`python -m reports.run` (with --deadline SECONDS where time is limited)")
        if profile in exp.committed and claim.method == "cnn":
            record["preregistration"] = preregistration(claim, None if result is None else result.provenance)
        if result is not None:
            prov = result.provenance
            record["evidence"] = {"experiment": claim.experiment, "source": _source_label(source, prov),
                                  "path": os.path.relpath(result.path, ROOT), "git_sha": prov.get("git_sha"),
                                  "dirty": prov.get("dirty"), "device": prov.get("device"),
                                  "wall_seconds": prov.get("wall_seconds"), "finished": prov.get("finished")}
            if prov.get("dirty_chunks"):
                record["evidence"] |= dirty_record(claim.experiment, prov["dirty_chunks"])
        records.append(record)
    return records, loaded, settings


def dirty_record(experiment: str, dirty: dict) -> dict:
    """How many of an experiment's chunks were computed from a tree with uncommitted changes, and how many of those
    the ledger (reports/evidence/verified.jsonl) shows recomputed bit for bit from a clean commit (the same chunk:
    its digest)."""
    from reports.ledger import read_ledger
    confirmed = {(e.get("chunk"), e.get("chunk_sha256")) for e in read_ledger()
                 if e.get("experiment") == experiment and e.get("result") == "bit-identical"}
    shown = sum((name, sha) in confirmed for name, sha in dirty.items())
    return {"dirty_chunks": len(dirty), "dirty_confirmed": shown}


def preregistration(claim, provenance: dict | None) -> dict:
    """When the claim's tolerance was set (the commit that introduced its reason's text, from git) against the date of
    the first committed evidence chunk it is decided on; `later` flags a tolerance set after evidence existed."""
    out = []
    for size in (80, 50, 30, 20):   # the reason's text may be split over source lines: its longest prefix found
        try:
            out = subprocess.run(["git", "log", "-1", "--format=%H %cI", "-S", claim.tolerance.why[:size]], cwd=ROOT,
                                 capture_output=True, text=True, timeout=20).stdout.split()
        except (OSError, subprocess.SubprocessError):
            out = []
        if out:
            break
    sha, date = (out + [None, None])[:2] if out else (None, None)
    first = (provenance or {}).get("first")
    if claim.own_chunks:   # decided on chunks computed for it (beside evidence that existed): judged by their first
        first = (provenance or {}).get("first_of_kind", {}).get(claim.own_chunks)
    later = bool(sha and first and date and _utc(date) > _utc(first))
    return {"tolerance_commit": sha, "tolerance_date": date, "first_chunk": first, "later": later,
            "own_chunks": claim.own_chunks}


def _utc(stamp: str) -> datetime:
    when = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _source_label(source: str, prov: dict) -> str:
    if source != "committed":
        return source
    kind = "GPU" if str(prov.get("device", "")).startswith("cuda") else "CPU"
    return (f"committed evidence, {kind}, {str(prov.get('first') or '')[:10]}..{str(prov.get('finished') or '')[:10]}"
            f", {str(prov.get('git_sha'))[:12]} ({prov.get('chunks')} chunks)")


def write_figures(loaded: dict, folder: Path) -> list[str]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for name, exp in experiments().items():
        result, _ = loaded[name]
        if result is None:
            continue
        try:
            made = exp.figures(result)
        except Exception as exc:  # a figure that cannot be drawn is reported, the claims still are
            print(f"warning: figures of {name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        for fig_name, fig in made.items():
            fig.savefig(folder / f"{fig_name}.png", dpi=110, bbox_inches="tight")
            plt.close(fig)
            names.append(fig_name)
    return names


def run_notebooks(profile: str, results: Path, out: Path) -> dict[str, str]:
    """Execute the jupytext notebooks with nbconvert into out/notebooks; returns name -> status."""
    status = {}
    folder = out / "notebooks"
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SUITE_PROFILE": profile, "SUITE_RESULTS": str(results.resolve()),
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("MPLBACKEND", None)  # an Agg backend set here makes executed notebooks lose their figures
    bindir = Path(sys.executable).parent
    for name in NOTEBOOKS:
        ipynb = folder / f"{name}.ipynb"
        steps = [[str(bindir / "jupytext"), "--quiet", "--set-kernel", "python3", "--to", "ipynb", "-o", str(ipynb),
                  str(ROOT / "notebooks" / f"{name}.py")],
                 [str(bindir / "jupyter"), "nbconvert", "--to", "html", "--execute", str(ipynb),
                  "--output-dir", str(folder), "--log-level", "ERROR",
                  "--HTMLExporter.mathjax_url=../mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"]]
        for cmd in steps:
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
            if proc.returncode != 0:
                last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                status[name] = f"failed: {last}"
                break
        else:
            status[name] = "ok"
        ipynb.unlink(missing_ok=True)
    return status


def copy_mathjax(folder: Path) -> None:
    """The MathJax files the report loads, copied from Debian's libjs-mathjax (absent: equations stay as TeX)."""
    if not MATHJAX.is_dir():
        print("warning: libjs-mathjax is not installed; equations will show as TeX", file=sys.stderr)
        return
    for part in MATHJAX_PARTS:
        source, target = (MATHJAX / part).resolve(), folder / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        elif source.is_file():
            shutil.copyfile(source, target)


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def print_pdf(page: Path, pdf: Path) -> bool:
    """Print `page` to `pdf` with headless Chromium (equations typeset first: 10 s of virtual time). Without
    Chromium, or when it fails, a warning and no PDF."""
    exe = chromium()
    if exe is None:
        print("warning: chromium is not installed (Debian package `chromium`): no report.pdf", file=sys.stderr)
        return False
    with tempfile.TemporaryDirectory() as profile_dir:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile_dir}", "--no-pdf-header-footer",
               "--virtual-time-budget=10000", f"--print-to-pdf={pdf}", page.resolve().as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
        except subprocess.TimeoutExpired:
            print("warning: chromium did not print the PDF within 180 s: no report.pdf", file=sys.stderr)
            return False
    if proc.returncode != 0 or not pdf.is_file():
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"warning: chromium could not print the PDF ({last}): no report.pdf", file=sys.stderr)
        pdf.unlink(missing_ok=True)
        return False
    return True


def write_manifest(folder: Path, command: str) -> None:
    """manifest.json: every file of the report folder with its sha256, size and the command that made it."""
    files = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name not in ("manifest.json", outdir.MARKER)):
        rel = path.relative_to(folder).as_posix()
        made_by = ("copied from Debian's libjs-mathjax by " + command if rel.startswith("mathjax/") else
                   f"jupytext + jupyter nbconvert --execute notebooks/{path.stem}.py, run by " + command
                   if rel.startswith("notebooks/") else "headless Chromium printing report.html, run by " + command
                   if rel == "report.pdf" else command)
        files.append({"path": rel, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                      "bytes": path.stat().st_size, "command": made_by})
    (folder / "manifest.json").write_text(json.dumps({"files": files}, indent=1))


def code_digest() -> str:
    """sha256 over the suite's Python sources (the packages and the notebooks): part of the build's cache key."""
    digest = hashlib.sha256()
    for folder in ("theory", "sim", "cnn_experiments", "reports", "notebooks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def cache_key(profile: str, records: list[dict], settings, notebooks: bool, pdf: bool) -> str:
    """What the report is made from: the judged claims (numbers, provenance), the code, the options."""
    doc = {"profile": profile, "records": records, "settings": settings, "notebooks": notebooks, "pdf": pdf,
           "code": code_digest()}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def _cached(out: Path, key: str) -> dict | None:
    """The report already at `out` when it was made from the same inputs (nothing to execute again)."""
    try:
        if outdir.is_ours(out) and (out / outdir.MARKER).read_text().split("key: ")[-1].strip() == key:
            return json.loads((out / "claims.json").read_text())
    except (OSError, ValueError):
        return None
    return None


def build(profile: str, results: Path, out: Path, notebooks: bool = True, pdf: bool = True) -> dict:
    """Write the report into `out` (only a new, empty or earlier report folder; swapped in atomically, one build at a
    time); when its inputs are those of the report already there, nothing is executed again. Returns claims.json."""
    if not Path(results).is_dir():
        raise UsageError(f"--results {results} is not a folder of results: run `make report` (or `python -m "
                         "reports.run`) first, or pass the folder it wrote")
    try:
        out = outdir.check(out, Path(results))
        out.parent.mkdir(parents=True, exist_ok=True)
        with outdir.lock(out):
            outdir.clean(out)
            return _build_locked(profile, Path(results), out, notebooks, pdf)
    except outdir.OutError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot write the report to {out}: {exc.strerror or exc}; pass --out DIR") from None


def _build_locked(profile: str, results: Path, out: Path, notebooks: bool, pdf: bool) -> dict:
    records, loaded, settings = evaluate(profile, results)
    key = cache_key(profile, records, settings, notebooks, pdf)
    cached = _cached(out, key)
    if cached is not None:
        print(f"report: unchanged (made from the same results and code): {out}", flush=True)
        return cached
    tmp = outdir.new_folder(out)
    try:
        figures = write_figures(loaded, tmp / "figures")
        copy_mathjax(tmp / "mathjax")
        nb_status = run_notebooks(profile, results, tmp) if notebooks else {}
        sha, dirty = git_state()
        doc = {"profile": profile, "settings": settings, "notebooks": nb_status,
               "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "git_sha": sha, "dirty": dirty,
               "claims": [{k: v for k, v in r.items() if k != "figure"} for r in records]}
        (tmp / "claims.json").write_text(json.dumps(doc, indent=1))
        (tmp / "report.html").write_text(render(profile, records, figures, nb_status, sha, dirty, settings))
        if pdf:
            print_pdf(tmp / "report.html", tmp / "report.pdf")
        write_manifest(tmp, f"python -m reports.build --profile {profile} --results {results}"
                       + ("" if notebooks else " --no-notebooks") + ("" if pdf else " --no-pdf"))
        with open(tmp / outdir.MARKER, "a") as marker:
            marker.write(f"key: {key}\n")
        outdir.install(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return doc


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m reports.build", description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--results", type=path_arg, default=DEFAULT_RESULTS)
    parser.add_argument("--out", type=path_arg, default=DEFAULT_OUT)
    parser.add_argument("--no-notebooks", action="store_true")
    parser.add_argument("--no-pdf", action="store_true", help="skip printing report.pdf with Chromium")
    args = parser.parse_args(argv)
    try:
        doc = build(check_profile(args.profile), args.results, args.out, notebooks=not args.no_notebooks,
                    pdf=not args.no_pdf)
    except UsageError as exc:
        fail(str(exc))
    counts = {s: sum(c["status"] == s for c in doc["claims"]) for s in STATUSES}
    print(f"report: {args.out / 'report.html'} ({counts['pass']} pass, {counts['fail']} fail, "
          f"{counts['cannot_fail']} cannot fail, {counts['not_run']} not run)")
    for c in doc["claims"]:
        print(f"  {c['status']:11s} {c['id']}")
    failed = {n: s for n, s in doc.get("notebooks", {}).items() if s != "ok"}
    if failed:  # a notebook that does not run is a broken report
        print(f"error: {len(failed)} notebooks failed: " + "; ".join(f"{n}: {s}" for n, s in failed.items())[:500],
              file=sys.stderr)
        return 1
    regressions = [c["id"] for c in doc["claims"] if c["expect"] == "pass" and c["status"] in ("fail", "cannot_fail")]
    if regressions:  # a claim the suite expects to pass did not: the report is written, the exit status says so
        print(f"error: {len(regressions)} claims expected to pass did not: {', '.join(regressions)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
