"""Build the report from stored results only: claims.json, report.html, figures, executed notebooks.

    python -m reports.build [--profile quick|full] [--results DIR] [--out DIR] [--no-notebooks] [--no-pdf]

Writes report.html (one self-contained folder: figures and the MathJax it needs copied in) and report.pdf, printed
from the same page by headless Chromium (Debian's `chromium`; without it, a warning and no PDF).

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
                            load_committed, read_plan)
from reports.harness.checkpoint import progress
from reports.harness.store import Store
from reports.harness.provenance import git_state
from reports.power import RANDOM_KINDS, sample_unit
from reports.power import read as read_power
from reports.paper_values import paper_value
from reports.registry import STATUSES, claims, experiments, judge
from sim.cli import Parser, path_arg

MATHJAX = Path("/usr/share/javascript/mathjax")
# the parts of MathJax 2 the report's configuration (TeX-AMS_CHTML-full, Safe) loads: copied, so the report folder
# is self-contained (about 1.5 MB of the package's 54 MB)
MATHJAX_PARTS = ("MathJax.js", "config/TeX-AMS_CHTML-full.js", "config/Safe.js", "extensions", "jax/output/CommonHTML",
                 "jax/input/TeX", "jax/element", "fonts/HTML-CSS/TeX/woff", "localization/en")
PART_OF = {"symbolic": "theory", "quadratic": "quadratic", "monte_carlo": "monte-carlo", "cnn": "cnn",
           "real_async": "real-asynchrony", "laws": "beyond", "compensation": "beyond"}
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
                  "statement": claim.statement, "kind": claim.kind, "role": claim.role, "evidence_kind": claim.evidence,
                  "expect": claim.expect,
                  **judge(claim, result),
                  "tolerance": claim.tolerance.text(), "why": claim.tolerance.why, "evidence": None,
                  "power": (power.get(claim.id, {"seeds": 0, "note": "no power study in this results folder: run "
                                                 "`python -m reports.power`"}) if random else None),
                  "figure": claim.figure, "part": PART_OF[exps[claim.experiment].kind],
                  "paper_value": paper_value(claim.id)}
        exp = exps[claim.experiment]
        if result is None and profile in exp.committed:
            _, why = load_committed(exp, cfgs[claim.experiment])
            record["measured"] = (f"not run: committed evidence incomplete ({why}); `make evidence` computes the "
                                  "missing chunks")
        elif result is None and exp.resumable:
            exp, folders = exps[claim.experiment], (results, EVIDENCE)
            partial = [progress(Store(f).chunks_folder(exp.kind, claim.experiment, cfgs[claim.experiment],
                                                       exp.store_version(cfgs[claim.experiment]))) for f in folders]
            partial = next((p for p in partial if p is not None), None)
            if partial is not None:
                record["measured"] = (f"not run: {partial[0]} of {partial[1]} chunks stored; rerun "
                                      "`python -m reports.run` (with --deadline SECONDS where time is limited)")
        if result is not None:
            prov = result.provenance
            record["evidence"] = {"experiment": claim.experiment, "source": _source_label(source, prov),
                                  "path": os.path.relpath(result.path, ROOT), "git_sha": prov.get("git_sha"),
                                  "dirty": prov.get("dirty"), "device": prov.get("device"),
                                  "wall_seconds": prov.get("wall_seconds"), "finished": prov.get("finished")}
        records.append(record)
    return records, loaded, settings


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


PARTS = (("theory", "Theory", "symbolic", "Theorems 2-7 and Appendix E, checked symbolically (SymPy)"),
         ("quadratic", "Quadratic model", "quadratic", "Figs. 6 and 7: rates of momentum with implicit momentum on "
          "quadratics (Theorem 7)"),
         ("monte-carlo", "Monte Carlo", "monte_carlo", "the queue of M workers and asynchronous SGD simulated, "
          "tolerances in standard errors"),
         ("cnn", "CNN", "cnn", "Figs. 3, 4, 5 and 8: cifar10_quick under simulated asynchrony"),
         ("real-asynchrony", "Real asynchrony", "real_async", "a Dask parameter server on this machine"),
         ("beyond", "Beyond the paper", "laws", "what asynchrony begets when work times are not memoryless "
          "(Theorem 2's recurrence for any staleness law, against the Monte Carlo), and closed-loop momentum "
          "compensation from the measured staleness"))


def _controls_html(record: dict) -> str:
    esc = html.escape
    return "".join(f"<li>{esc(c['name'])}: <b class='{esc(c['status'])}'>{esc(c['status'])}</b> "
                   f"<small>({esc(c['model'])})</small></li>" for c in record["controls"])


def power_text(record: dict) -> str:
    """One line on a claim's power: pass rates over independent seeds, or why none was measured."""
    p = record.get("power")
    if p is None:
        return "deterministic (no seed)"
    if not p.get("seeds"):
        return p.get("note", "not measured")
    if p.get("kind") == "replication":
        text = (f"replication on fresh seeds (not power over re-runs): decision seeds (n = {p['seeds']}) "
                f"{p['decision']}, replication seeds (n = {p['replication_seeds']}) {p['replication']}"
                f" — {'confirmed' if p['replicated'] and p['decision'] == 'pass' else 'agree' if p['replicated'] else 'not confirmed'}"
                f"; design power at the paper's effect {p['design_power']:.2f}"
                + (f" (seeds needed for 80 %: {p['seeds_needed']}, from the first {p['pilot_seeds']})"
                   if "seeds_needed" in p else "") + f" ({p['design']})")
        return text if p["meets_target"] else text + " — BELOW TARGET"
    if p.get("kind") in ("resampling", "sampling"):
        return (f"{p['method']}: passes on {p['pass_rate']:.0%}, control {p['control']} on "
                f"{p['control_pass_rate']:.0%} — NOT POWER (not counted)")
    text = (f"passes on {p['pass_rate']:.0%} of {sample_unit(p)}; control {p['control']} passes on "
            f"{p['control_pass_rate']:.0%} ({p['method']})")
    return text if p["meets_target"] else text + " — BELOW TARGET (p >= 0.95, control <= 0.05)"


def _power_summary(records: list[dict]) -> str:
    random = [r for r in records if r.get("power") is not None]
    measured = [r for r in random if r["power"].get("seeds") and r["power"].get("kind") not in ("resampling",
                                                                                              "sampling")]
    below = [r["id"] for r in measured if not r["power"]["meets_target"]]
    return (f"Power: {len(random)} claims are decided by a random experiment; {len(measured)} have their pass rate "
            f"measured, {len(below)} below target"
            + (f" ({html.escape(', '.join(below))})" if below else "") + f", {len(random) - len(measured)} not "
            "measured (see each claim).")


def _values_html(values: dict, limit: int = 12) -> str:
    """Our numbers the verdict was decided on, as a compact list (the first `limit`)."""
    esc = html.escape

    def fmt(v):
        if isinstance(v, bool) or v is None:
            return str(v)
        if isinstance(v, (int, float)):
            return f"{v:.4g}"
        return str(v)
    items = list(values.items())
    shown = "".join(f"<li><code>{esc(str(k))}</code> = {esc(fmt(v))}</li>" for k, v in items[:limit])
    more = f"<li>… {len(items) - limit} more in claims.json</li>" if len(items) > limit else ""
    return f"<ul class='values'>{shown}{more}</ul>" if items else "<p>—</p>"


def _card(r: dict, figures: list[str]) -> str:
    esc = html.escape
    ev = r["evidence"]
    prov = ("no stored result for this profile: run <code>make report</code>" if ev is None else
            f"{esc(ev['source'])} result <code>{esc(ev['path'])}</code>, git {esc(str(ev['git_sha'])[:12])}"
            f"{' (dirty)' if ev['dirty'] else ''}, device {esc(str(ev['device']))}, {ev['wall_seconds']} s, "
            f"{esc(str(ev['finished']))}")
    fig = (f"<figure><img src='figures/{r['figure']}.png' alt='figure {r['figure']} for {esc(r['id'])}'>"
           f"<figcaption>{esc(r['figure'])}</figcaption></figure>" if r["figure"] in figures else "")
    anchors = "".join(f"<a id='{esc(a)}'></a>" for a in r["aliases"])
    paper = esc(r["paper_value"]) if r["paper_value"] else "<i>a statement, no published number</i>"
    return (f"<article class='card status-{r['status']}' id='{esc(r['id'])}'>{anchors}"
            f"<h3>{esc(r['id'])} <span class='badge {r['status']}'>{r['status']}</span></h3>"
            f"<p class='statement'><i>{esc(r['paper_ref'])}.</i> {esc(r['statement'])}</p>"
            f"<table class='side'><tr><th>the paper</th><th>ours</th></tr><tr><td>{paper}<p><b>Check:</b> "
            f"{esc(r['expected'] or '—')}</p></td><td>{_values_html(r['values'] or {})}</td></tr></table>"
            f"<p><b>Tolerance:</b> {esc(r['tolerance'])} — {esc(r['why'])}</p>"
            f"<p><b>Negative controls</b> (each must fail):</p><ul>{_controls_html(r)}</ul>"
            f"<p><b>Power:</b> {esc(power_text(r))}</p>{fig}"
            f"<p class='prov'><b>Evidence:</b> {prov}<br><b>Recompute:</b> <code>make claim ID={esc(r['id'])}</code></p>"
            f"<details><summary>Measured, in full</summary><p>{esc(r['measured'] or '—')}</p></details></article>")


def _first_screen(records: list[dict]) -> str:
    esc = html.escape
    rows = []
    for key, title, _, what in PARTS:
        mine = [r for r in records if r["part"] == key]
        counts = {s: sum(r["status"] == s for r in mine) for s in STATUSES}
        links = " ".join(f"<a href='#{esc(r['id'])}' class='{r['status']}'>{esc(r['id'])}</a>" for r in mine)
        rows.append(f"<tr><td><a href='#part-{key}'><b>{title}</b></a><br><small>{esc(what)}</small></td>"
                    + "".join(f"<td class='n {s if counts[s] else 'zero'}'>{counts[s]}</td>" for s in STATUSES) + f"<td><small>{links}</small></td></tr>")
    head = "".join(f"<th>{s}</th>" for s in STATUSES)

    def listing(prefix: str) -> str:
        items = [r for r in records if r["id"].startswith(prefix)]
        return "".join(f"<li><a href='#{esc(r['id'])}'>{esc(r['id'])}</a> <span class='badge {r['status']}'>"
                       f"{r['status']}</span>: {esc(r['statement'])}</li>" for r in items) or "<li>none</li>"
    roles = "".join(f"<tr><td><b>{role}</b></td>" + "".join(
        f"<td class='n'>{sum(r['status'] == st and r['role'] == role for r in records)}</td>" for st in STATUSES)
        + "</tr>" for role in ("paper", "finding", "extension"))
    return (f"<section id='summary'><h2>Does the paper hold up?</h2><table class='parts'><tr><th>part</th>{head}"
            f"<th>claims</th></tr>{''.join(rows)}</table>"
            f"<p>By role (paper: the paper states it; finding: the paper is wrong or imprecise; extension: beyond "
            f"it):</p><table class='roles'><tr><th>role</th>{head}</tr>{roles}</table>"
            f"<h3>Findings: where the paper is wrong or imprecise</h3><ul class='findings'>{listing('finding-')}</ul>"
            f"<h3>Extensions: results beyond the paper</h3><ul class='extensions'>{listing('extension-')}</ul>"
            "</section>")


def _banner(profile: str, records: list[dict], settings) -> str:
    esc = html.escape
    by_exp = {}
    for r in records:
        if r["evidence"] is not None:
            by_exp[r["evidence"]["experiment"]] = r["evidence"]
    gpu = sorted(n for n, e in by_exp.items() if "cuda" in str(e["device"]).lower())
    cpu = sorted(n for n in by_exp if n not in gpu)
    committed = sorted(f"{n} ({e['source']})" for n, e in by_exp.items() if e["source"].startswith(("evidence",
                                                                                                     "committed")))
    not_run = [r for r in records if r["status"] == "not_run"]
    nr = "".join(f"<li><a href='#{esc(r['id'])}'>{esc(r['id'])}</a>: {esc((r['measured'] or 'no evidence')[:240])}</li>"
                 for r in not_run) or "<li>none</li>"
    override = ("" if not settings else "<p class='fail'><b>Override run:</b> built from a run with "
                + ", ".join(f"<code>--set {esc(s)}</code>" for s in settings)
                + "; the profile's defaults were not used for these experiments.</p>")
    return (f"<div class='banner'><b>Profile {esc(profile)}.</b> Evidence from a GPU: "
            f"{esc(', '.join(gpu)) or 'none'}; from the CPU: {esc(', '.join(cpu)) or 'none'}"
            + (f"; committed evidence (reports/evidence/): {esc(', '.join(committed))}" if committed else "")
            + f".<details><summary>{len(not_run)} claims not run, and why</summary><ul>{nr}</ul></details>"
            f"{override}</div>")


CSS = """body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em;line-height:1.35}
table{border-collapse:collapse;font-size:13px} td,th{border:1px solid #ccc;padding:4px;vertical-align:top}
.pass{color:#070} .fail{color:#b00} .not_run{color:#777} .cannot_fail{color:#a60}
.badge{font-size:12px;padding:1px 6px;border-radius:8px;border:1px solid currentColor}
td.n{text-align:center;font-weight:bold} td.zero{color:#bbb;font-weight:normal} .banner{background:#f4f6fa;border:1px solid #ccd;padding:8px;margin:8px 0}
.card{border:1px solid #ddd;border-left:6px solid #ccc;padding:6px 12px;margin:14px 0}
.card.status-pass{border-left-color:#3a3} .card.status-fail{border-left-color:#c33}
.card.status-not_run{border-left-color:#aaa} .card.status-cannot_fail{border-left-color:#d90}
table.side{width:100%} table.side td{width:50%} ul.values{margin:0;padding-left:1.2em;font-size:12px}
figure{margin:6px 0;break-inside:avoid;page-break-inside:avoid} img{max-width:100%;height:auto}
figcaption{font-size:11px;color:#666} .prov{font-size:12px;color:#444}
h2{break-after:avoid;page-break-after:avoid} h3{break-after:avoid;page-break-after:avoid}
@media print{body{max-width:none;font-size:11px} details{display:block} details>summary{display:none}
 img{max-height:16cm} .card{break-inside:auto}}"""


def render(profile: str, records: list[dict], figures: list[str], notebooks: dict, sha: str, dirty: bool,
           settings: list[str] | None = None) -> str:
    counts = {s: sum(r["status"] == s for r in records) for s in STATUSES}
    esc = html.escape
    parts = []
    for key, title, _, what in PARTS:
        cards = "".join(_card(r, figures) for r in records if r["part"] == key)
        if key == "cnn" and "cnn_best_momentum" in figures:  # the CNN part opens with the figure to read first
            cards = ("<figure><img src='figures/cnn_best_momentum.png' alt='best momentum and measured momentum vs "
                     "M'><figcaption>Best momentum vs M (both seed sets, beside the paper's Fig. 3) and the measured "
                     "total momentum vs 1 - 1/M</figcaption></figure>") + cards
        parts.append(f"<section class='part' id='part-{key}'><h2>{title}</h2><p>{esc(what)}.</p>{cards}</section>")
    toc = " · ".join(f"<a href='#part-{key}'>{title}</a>" for key, title, _, _ in PARTS)
    nb = "".join(f"<li><a href='notebooks/{n}.html'>{n}</a>: {esc(s)}</li>" for n, s in notebooks.items()) or \
        "<li>not executed in this build</li>"
    return f"""<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>
<title>Asynchrony begets Momentum: verification report</title>
<script src='mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe'></script>
<style>{CSS}</style></head><body>
<h1>Asynchrony begets Momentum — verification report</h1>
<p>Mitliagkas, Zhang, Hadjis, Ré, arXiv:1605.09774. Generated {datetime.now(timezone.utc).isoformat(timespec='seconds')}
from git {sha[:12]}{' (dirty)' if dirty else ''}. <b>{counts['pass']}</b> pass, <b>{counts['fail']}</b> fail,
<b>{counts['cannot_fail']}</b> cannot fail, <b>{counts['not_run']}</b> not run, of {len(records)} claims.</p>
{_banner(profile, records, settings)}
{_first_screen(records)}
<p>{_power_summary(records)} Every claim names negative controls: the same check on evidence from a deliberately
wrong model. A claim passes only if its check passes and every control fails; when a control passes too, the check
could not tell the wrong model apart and the claim shows <i>cannot_fail</i>. <code>finding-</code> claims are places
where the paper is wrong or imprecise (<i>pass</i>: the finding is confirmed); <code>extension-</code> claims are
results beyond the paper. Paper values in the figures are read from the paper's figures (docs/paper.md).</p>
<p>The model: \\(w_{{t+1}} = w_t - \\alpha \\nabla f(w_{{t-\\tau_t}}) + \\mu_L (w_t - w_{{t-1}})\\); with M workers and
exponential work times \\(\\tau \\sim \\mathrm{{Geom}}(1/M)\\), and in expectation
\\(E[w_{{t+1}} - w_t] = \\mu_S E[w_t - w_{{t-1}}] - (1-\\mu_S)\\alpha E\\nabla f(w_t)\\), \\(\\mu_S = 1 - 1/M\\).</p>
<nav><b>Sections:</b> {toc} · <a href='#notebooks'>Notebooks</a></nav>
{''.join(parts)}
<section id='notebooks'><h2>Notebooks</h2><ul>{nb}</ul></section></body></html>"""


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
               f"--user-data-dir={profile_dir}", "--no-pdf-header-footer", "--allow-file-access-from-files",
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


def build(profile: str, results: Path, out: Path, notebooks: bool = True, pdf: bool = True) -> dict:
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
        copy_mathjax(tmp / "mathjax")
        nb_status = run_notebooks(profile, results, tmp) if notebooks else {}
        sha, dirty = git_state()
        doc = {"profile": profile, "settings": settings,
               "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "git_sha": sha, "dirty": dirty, "claims": [{k: v for k, v in r.items() if k != "figure"} for r in records]}
        (tmp / "claims.json").write_text(json.dumps(doc, indent=1))
        (tmp / "report.html").write_text(render(profile, records, figures, nb_status, sha, dirty, settings))
        if pdf:
            print_pdf(tmp / "report.html", tmp / "report.pdf")
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
    regressions = [c["id"] for c in doc["claims"] if c["expect"] == "pass" and c["status"] in ("fail", "cannot_fail")]
    if regressions:  # a claim the suite expects to pass did not: the report is written, the exit status says so
        print(f"error: {len(regressions)} claims expected to pass did not: {', '.join(regressions)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
