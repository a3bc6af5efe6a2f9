"""Build the report from stored results only: claims.json, report.html, figures, executed notebooks.

    python -m reports.build [--profile quick|full] [--results DIR] [--out DIR] [--no-notebooks]

Never computes: a claim whose experiment has no stored result is `not_run`. Full-profile results missing
locally are taken from reports/evidence/ (committed GPU runs), marked as such. The output folder is replaced
atomically: a failed build leaves the previous report in place.
"""
from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from reports.common import (DEFAULT_OUT, DEFAULT_RESULTS, EVIDENCE, ROOT, UsageError, check_profile, fail, load,
                            read_plan)
from reports.harness.checkpoint import progress
from reports.harness.store import Store
from reports.harness.provenance import git_state
from reports.power import RANDOM_KINDS
from reports.power import read as read_power
from reports.registry import STATUSES, claims, experiments, judge
from sim.cli import Parser

MATHJAX = Path("/usr/share/javascript/mathjax")
NOTEBOOKS = ("theory", "monte_carlo", "cnn", "real_async")


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
        random = exps[claim.experiment].kind in RANDOM_KINDS
        record = {"id": claim.id, "aliases": list(claim.aliases), "paper_ref": claim.paper_ref,
                  "statement": claim.statement, "kind": claim.kind, **judge(claim, result),
                  "tolerance": claim.tolerance.text(), "why": claim.tolerance.why, "evidence": None,
                  "power": (power.get(claim.id, {"seeds": 0, "note": "no power study in this results folder: run "
                                                 "`python -m reports.power`"}) if random else None),
                  "figure": claim.figure}
        if result is None and exps[claim.experiment].resumable:
            exp, folders = exps[claim.experiment], (results, EVIDENCE)
            partial = [progress(Store(f).chunks_folder(exp.kind, claim.experiment, cfgs[claim.experiment],
                                                       exp.store_version())) for f in folders]
            partial = next((p for p in partial if p is not None), None)
            if partial is not None:
                record["measured"] = (f"not run: {partial[0]} of {partial[1]} chunks stored; rerun "
                                      "`python -m reports.run` (with --deadline SECONDS where time is limited)")
        if result is not None:
            prov = result.provenance
            record["evidence"] = {"experiment": claim.experiment, "source": source,
                                  "path": os.path.relpath(result.path, ROOT), "git_sha": prov.get("git_sha"),
                                  "dirty": prov.get("dirty"), "device": prov.get("device"),
                                  "wall_seconds": prov.get("wall_seconds"), "finished": prov.get("finished")}
        records.append(record)
    return records, loaded, settings


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


def _controls_html(record: dict) -> str:
    esc = html.escape
    return "<br>".join(f"{esc(c['name'])}: <b>{esc(c['status'])}</b> <small>({esc(c['model'])})</small>"
                       for c in record["controls"])


def power_text(record: dict) -> str:
    """One line on a claim's power: pass rates over independent seeds, or why none was measured."""
    p = record.get("power")
    if p is None:
        return "deterministic (no seed)"
    if not p.get("seeds"):
        return p.get("note", "not measured")
    unit = "seeds" if p["method"].startswith("re-run") else "samples"
    text = (f"passes on {p['pass_rate']:.0%} of {p['seeds']} {unit}; control {p['control']} passes on "
            f"{p['control_pass_rate']:.0%} ({p['method']})")
    return text if p["meets_target"] else text + " — BELOW TARGET (p >= 0.95, control <= 0.05)"


def _power_summary(records: list[dict]) -> str:
    random = [r for r in records if r.get("power") is not None]
    measured = [r for r in random if r["power"].get("seeds")]
    below = [r["id"] for r in measured if not r["power"]["meets_target"]]
    return (f"Power: {len(random)} claims are decided by a random experiment; {len(measured)} have their pass rate "
            f"measured over independent seeds, {len(below)} below target"
            + (f" ({html.escape(', '.join(below))})" if below else "") + f", {len(random) - len(measured)} not "
            "measured (see each claim).")


def render(profile: str, records: list[dict], figures: list[str], notebooks: dict, sha: str, dirty: bool,
           settings: list[str] | None = None) -> str:
    counts = {s: sum(r["status"] == s for r in records) for s in STATUSES}
    esc = html.escape
    rows = "".join(
        f"<tr class='row-{r['status']}'><td><a href='#{r['id']}'>{esc(r['id'])}</a></td><td>{esc(r['paper_ref'])}</td>"
        f"<td>{esc(r['statement'])}</td><td>{esc(r['expected'] or '')}</td><td>{esc(r['measured'] or '')}</td>"
        f"<td>{esc(r['tolerance'])}<br><small>{esc(r['why'])}</small></td><td>{_controls_html(r)}</td>"
        f"<td><small>{esc(power_text(r))}</small></td><td><b>{r['status']}</b></td></tr>"
        for r in records)
    override_note = ("" if not settings else "<p class='fail'><b>Override run:</b> built from a run with "
                     + ", ".join(f"<code>--set {esc(s)}</code>" for s in settings)
                     + "; the profile's defaults were not used for these experiments.</p>")
    sections = []
    for r in records:
        ev = r["evidence"]
        prov = ("no stored result for this profile: run <code>make report</code> (or <code>make claim ID=" + r["id"]
                + "</code>)") if ev is None else (
            f"{esc(ev['source'])} result <code>{esc(ev['path'])}</code>, git {esc(str(ev['git_sha'])[:12])}"
            f"{' (dirty)' if ev['dirty'] else ''}, {esc(str(ev['device']))}, {ev['wall_seconds']} s, {esc(str(ev['finished']))}")
        fig = (f"<img src='figures/{r['figure']}.png' alt='{r['figure']}'>" if r["figure"] in figures else "")
        anchors = "".join(f"<a id='{esc(a)}'></a>" for a in r["aliases"])
        sections.append(f"<section id='{r['id']}'>{anchors}<h3>{esc(r['id'])} — <span class='{r['status']}'>{r['status']}</span>"
                        f"</h3><p><i>{esc(r['paper_ref'])}.</i> {esc(r['statement'])}</p><p><b>Expected:</b> "
                        f"{esc(r['expected'] or '—')}<br><b>Measured:</b> {esc(r['measured'] or '—')}<br><b>Tolerance:"
                        f"</b> {esc(r['tolerance'])} ({esc(r['why'])})<br><b>Negative controls (each must fail):</b>"
                        f"<br>{_controls_html(r)}<br><b>Power:</b> {esc(power_text(r))}<br><b>Evidence:</b> {prov}</p>{fig}</section>")
    nb = "".join(f"<li><a href='notebooks/{n}.html'>{n}</a>: {esc(s)}</li>" for n, s in notebooks.items()) or \
        "<li>not executed in this build</li>"
    return f"""<!DOCTYPE html><html><head><meta charset='utf-8'><title>Asynchrony begets Momentum: verification report</title>
<script src='mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe'></script>
<style>body{{font-family:sans-serif;max-width:1200px;margin:auto;padding:1em}} table{{border-collapse:collapse;font-size:12px}}
td,th{{border:1px solid #ccc;padding:4px;vertical-align:top}} .pass{{color:#070}} .fail{{color:#b00}} .not_run{{color:#888}}
tr.row-pass td:last-child{{background:#e7f6e7;color:#070}} tr.row-fail td:last-child{{background:#fbe3e3;color:#b00}}
tr.row-not_run td:last-child{{background:#eee;color:#666}} .cannot_fail{{color:#a60}}
tr.row-cannot_fail td:last-child{{background:#fff2d9;color:#a60}}
img{{max-width:700px}} section{{border-top:1px solid #ddd;margin-top:1em}}</style></head><body>
<h1>Asynchrony begets Momentum — verification report</h1>
<p>Mitliagkas, Zhang, Hadjis, Ré, arXiv:1605.09774. Profile <b>{profile}</b>; generated
{datetime.now(timezone.utc).isoformat(timespec='seconds')} from git {sha[:12]}{' (dirty)' if dirty else ''}.
<b>{counts['pass']}</b> pass, <b>{counts['fail']}</b> fail, <b>{counts['cannot_fail']}</b> cannot fail,
<b>{counts['not_run']}</b> not run. {_power_summary(records)}
Every claim names negative controls: the same check on evidence from a deliberately wrong model. A claim passes only
if its check passes and every control fails; when a control passes too, the check could not tell the wrong model
apart and the claim shows <i>cannot_fail</i>. Claims whose id starts with <code>finding-</code> are places where the
paper is wrong or imprecise (<i>pass</i>: the finding is confirmed); <code>extension-</code> claims are results
beyond the paper.</p>{override_note}
<p>The model: \\(w_{{t+1}} = w_t - \\alpha \\nabla f(w_{{t-\\tau_t}}) + \\mu_L (w_t - w_{{t-1}})\\); with M workers and
exponential work times \\(\\tau \\sim \\mathrm{{Geom}}(1/M)\\), and in expectation
\\(E[w_{{t+1}} - w_t] = \\mu_S E[w_t - w_{{t-1}}] - (1-\\mu_S)\\alpha E\\nabla f(w_t)\\), \\(\\mu_S = 1 - 1/M\\).</p>
<h2>Claims</h2><table><tr><th>id</th><th>paper</th><th>statement</th><th>expected</th><th>measured</th>
<th>tolerance (why)</th><th>controls</th><th>power</th><th>status</th></tr>{rows}</table>
<h2>Notebooks</h2><ul>{nb}</ul>
<h2>Evidence, claim by claim</h2>{''.join(sections)}</body></html>"""


def build(profile: str, results: Path, out: Path, notebooks: bool = True) -> dict:
    """Write the report into `out` (replaced atomically). Returns the claims.json content."""
    out = out.resolve()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}-tmp-"))
        tmp.chmod(0o755)
    except OSError as exc:
        raise UsageError(f"output folder {out} is not writable ({exc.strerror}); pass --out DIR") from None
    try:
        records, loaded, settings = evaluate(profile, results)
        figures = write_figures(loaded, tmp / "figures")
        if MATHJAX.is_dir():
            os.symlink(MATHJAX, tmp / "mathjax")
        nb_status = run_notebooks(profile, results, tmp) if notebooks else {}
        sha, dirty = git_state()
        doc = {"profile": profile, "settings": settings,
               "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "git_sha": sha, "dirty": dirty, "claims": [{k: v for k, v in r.items() if k != "figure"} for r in records]}
        (tmp / "claims.json").write_text(json.dumps(doc, indent=1))
        (tmp / "report.html").write_text(render(profile, records, figures, nb_status, sha, dirty, settings))
        if out.exists():
            old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}-old-"))
            os.replace(out, old / "x")
            shutil.rmtree(old, ignore_errors=True)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return doc


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m reports.build", description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--no-notebooks", action="store_true")
    args = parser.parse_args(argv)
    try:
        doc = build(check_profile(args.profile), args.results, args.out, notebooks=not args.no_notebooks)
    except UsageError as exc:
        fail(str(exc))
    counts = {s: sum(c["status"] == s for c in doc["claims"]) for s in STATUSES}
    print(f"report: {args.out / 'report.html'} ({counts['pass']} pass, {counts['fail']} fail, "
          f"{counts['cannot_fail']} cannot fail, {counts['not_run']} not run)")
    for c in doc["claims"]:
        print(f"  {c['status']:11s} {c['id']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
