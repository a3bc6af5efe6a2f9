"""The report's HTML, rendered from claim records (pure: strings in, a string out)."""
from __future__ import annotations

import html
from datetime import datetime, timezone

from reports.power import sample_unit, standing
from reports.verdict import opening, part_sentence, regime_reading
from reports import registry
from reports.registry import STATUSES

SECTIONS = {"theory": ("Theory", "Theorems 2-7 and Appendix E, checked symbolically (SymPy)"),
            "quadratic": ("Quadratic model", "Figs. 6 and 7: rates of momentum with implicit momentum on quadratics "
                          "(Theorem 7)"),
            "monte-carlo": ("Monte Carlo", "the queue of M workers and asynchronous SGD simulated, tolerances in "
                            "standard errors"),
            "cnn": ("CNN", "Figs. 3, 4, 5 and 8: cifar10_quick under simulated asynchrony"),
            "real-asynchrony": ("Real asynchrony", "a Dask parameter server on this machine"),
            "beyond": ("Beyond the paper", "what asynchrony begets when work times are not memoryless (Theorem 2's "
                       "recurrence for any staleness law, against the Monte Carlo), and closed-loop momentum "
                       "compensation from the measured staleness")}
PARTS = tuple((key, *SECTIONS[key]) for key in registry.PARTS)   # (key, title, what) in the report's order


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
    label = standing(p, record.get("status")).upper()
    if p.get("kind") == "replication":
        agree = ("confirmed" if p["replicated"] and p["decision"] == "pass" else "agree" if p["replicated"] else
                 "not confirmed")
        measure = p.get("design_measure", "design power at the paper's effect")
        text = (f"replication on fresh seeds (not power over re-runs): decision seeds (n = {p['seeds']}) "
                f"{p['decision']}, replication seeds (n = {p['replication_seeds']}) {p['replication']} — {agree}; "
                + (f"{measure} {p['design_power']:.2f}" if p["design_power"] is not None else "")
                + (f" (seeds needed for 80 %: {p['seeds_needed']}, from the first {p['pilot_seeds']})"
                   if "seeds_needed" in p else "") + f" ({p['design']})")
        return f"{text} — {label}"
    if p.get("kind") in ("resampling", "sampling"):
        return (f"{p['method']}: passes on {p['pass_rate']:.0%}, control {p['control']} on "
                f"{p['control_pass_rate']:.0%} — NOT POWER (not counted)")
    text = (f"passes on {p['pass_rate']:.0%} of {sample_unit(p)}; control {p['control']} passes on "
            f"{p['control_pass_rate']:.0%} ({p['method']})")
    why = {"BELOW TARGET": " (target: pass on >= 95 %, control on <= 5 %)",
           "FRAGILE PASS": " (this report's seed passes; most fresh seeds do not: a seed lottery)",
           "ROBUST FAIL": " (fails on every fresh seed: a robust result, not under-powered)"}
    return f"{text} — {label}{why.get(label, '')}"


def _power_summary(records: list[dict]) -> str:
    random = [r for r in records if r.get("power") is not None]
    by = {}
    for r in random:
        by.setdefault(standing(r["power"], r["status"]), []).append(r["id"])
    named = ("below target", "fragile pass")   # listed by id on the first screen
    parts = [f"{len(by.get(k, []))} {k}" + (f" ({html.escape(', '.join(by[k]))})" if k in named and by.get(k) else "")
             for k in ("meets target", "robust fail", "fragile pass", "below target", "not power", "not measured")]
    return (f"Power: {len(random)} claims are decided by a random experiment: " + ", ".join(parts)
            + " (see each claim).")


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


def _prereg_html(r: dict) -> str:
    """The pre-registration line of a claim decided on committed evidence: when its tolerance was set against its
    first evidence chunk."""
    p = r.get("preregistration")
    if not p:
        return ""
    esc = html.escape
    if not p.get("tolerance_commit"):
        return "<p class='prov'><b>Pre-registration:</b> the commit that set the tolerance is not in this history</p>"
    when = (f"first evidence chunk {esc(str(p['first_chunk']))}" if p.get("first_chunk") else "no evidence chunk yet")
    if p.get("own_chunks") and p.get("first_chunk"):
        when = (f"first of its own evidence chunks ({esc(str(p['own_chunks']))}-*) {esc(str(p['first_chunk']))}; the "
                "experiment's other chunks, which it is compared with, existed before")
    flag = ("<b class='fail'>SET AFTER the first evidence chunk</b>" if p["later"] else
            "set before the first evidence chunk" if p.get("first_chunk") else "set before any evidence")
    return (f"<p class='prov'><b>Pre-registration:</b> tolerance set in {esc(str(p['tolerance_commit'])[:12])} "
            f"({esc(str(p['tolerance_date']))}); {when}: {flag}</p>")


def _dirty_text(ev: dict) -> str:
    """What the provenance says of uncommitted changes: none, or how many chunks and how many of them were
    recomputed bit for bit from a clean commit (the ledger)."""
    if not ev.get("dirty"):
        return ""
    if "dirty_chunks" not in ev:
        return " (dirty)"
    esc = html.escape
    return (f" ({esc(str(ev['dirty_chunks']))} chunks computed from a tree with uncommitted changes; "
            f"{esc(str(ev['dirty_confirmed']))} of them recomputed bit for bit from a clean commit: "
            "reports/evidence/verified.jsonl)")


def _card(r: dict, figures: list[str]) -> str:
    esc = html.escape
    ev = r["evidence"]
    prov = ("no stored result for this profile: run <code>make report</code>" if ev is None else
            f"{esc(ev['source'])} result <code>{esc(ev['path'])}</code>, git {esc(str(ev['git_sha'])[:12])}"
            f"{_dirty_text(ev)}, device {esc(str(ev['device']))}, {esc(str(ev['wall_seconds']))} s, "
            f"{esc(str(ev['finished']))}")
    fig = (f"<figure><img src='figures/{esc(str(r['figure']))}.png' alt='figure {esc(str(r['figure']))} for {esc(r['id'])}'>"
           f"<figcaption>{esc(r['figure'])}</figcaption></figure>" if r["figure"] in figures else "")
    anchors = "".join(f"<a id='{esc(a)}'></a>" for a in r["aliases"])
    paper = esc(r["paper_value"]) if r["paper_value"] else "<i>a statement, no published number</i>"
    status = esc(str(r["status"]))
    return (f"<article class='card status-{status}' id='{esc(r['id'])}'>{anchors}"
            f"<h3>{esc(r['id'])} <span class='badge {status}'>{status}</span></h3>"
            f"<p class='opening'><b>{esc(opening(r))}</b></p>"
            f"<p class='statement'><i>{esc(r['paper_ref'])}.</i> {esc(r['statement'])}</p>"
            f"<table class='side'><tr><th>the paper</th><th>ours</th></tr><tr><td>{paper}<p><b>Check:</b> "
            f"{esc(r['expected'] or '—')}</p></td><td>{_values_html(r['values'] or {})}</td></tr></table>"
            f"<p><b>Tolerance:</b> {esc(r['tolerance'])} — {esc(r['why'])}</p>{_prereg_html(r)}"
            f"<p><b>Negative controls</b> (each must fail):</p><ul>{_controls_html(r)}</ul>"
            f"<p><b>Power:</b> {esc(power_text(r))}</p>{fig}"
            f"<p class='prov'><b>Evidence:</b> {prov}<br><b>Recompute:</b> <code>make claim ID={esc(r['id'])}</code></p>"
            f"<details><summary>Measured, in full</summary><p>{esc(r['measured'] or '—')}</p></details></article>")


LEAD = {"theory": ("trajectories", "Theorem 2's recurrence (lines) against the Monte Carlo's mean iterates"),
        "quadratic": ("fig6", "Fig. 6: the best explicit momentum against mu_S, ours beside the paper's"),
        "monte-carlo": ("staleness", "the queue's staleness against Geom(1/M)"),
        "cnn": ("cnn_batch_ladder", "Figs. 4 and 8 at M = 16 against the batch: ours with intervals, the paper's point "
                "at batch 128, the regime's prediction as a line"),
        "real-asynchrony": ("real_staleness", "staleness on the real Dask server against Geom(1/M)"),
        "beyond": ("staleness_laws", "what asynchrony begets under other work-time laws")}
FALLBACK = {"cnn": ("cnn_best_momentum", "best momentum against M (Fig. 3) and the measured total momentum")}


def lead_figure(key: str, figures: list[str]) -> str:
    """The part's lead figure (its first screen), when it was drawn."""
    name, caption = LEAD[key]
    if name not in figures and key in FALLBACK:
        name, caption = FALLBACK[key]
    if name not in figures:
        return ""
    esc = html.escape
    return (f"<figure class='lead' id='lead-{esc(key)}'><img src='figures/{esc(name)}.png' alt='{esc(caption)}'>"
            f"<figcaption>{esc(caption)}</figcaption></figure>")


def verdict_html(records: list[dict]) -> str:
    """The generated verdict: one sentence per part, each linking to its cards."""
    esc = html.escape
    items = []
    for key, title, _ in PARTS:
        mine = [r for r in records if r["part"] == key]
        links = " ".join(f"<a href='#{esc(r['id'])}' class='{esc(str(r['status']))}'>{esc(r['id'])}</a>"
                         for r in mine)
        items.append(f"<li><a href='#part-{key}'>{esc(part_sentence(title, mine))}</a> <small>{links}</small></li>")
    return f"<div id='verdict'><h2>The verdict, in one sentence per part</h2><ul>{''.join(items)}</ul></div>"


def _first_screen(records: list[dict]) -> str:
    esc = html.escape
    rows = []
    for key, title, what in PARTS:
        mine = [r for r in records if r["part"] == key]
        counts = {s: sum(r["status"] == s for r in mine) for s in STATUSES}
        links = " ".join(f"<a href='#{esc(r['id'])}' class='{esc(str(r['status']))}'>{esc(r['id'])}</a>" for r in mine)
        rows.append(f"<tr><td><a href='#part-{key}'><b>{title}</b></a><br><small>{esc(what)}</small></td>"
                    + "".join(f"<td class='n {s if counts[s] else 'zero'}'>{counts[s]}</td>" for s in STATUSES) + f"<td><small>{links}</small></td></tr>")
    head = "".join(f"<th>{s}</th>" for s in STATUSES)

    def listing(prefix: str) -> str:
        items = [r for r in records if r["id"].startswith(prefix)]
        return "".join(f"<li><a href='#{esc(r['id'])}'>{esc(r['id'])}</a> <span class='badge {esc(str(r['status']))}'>"
                       f"{esc(str(r['status']))}</span>: {esc(r['statement'])}</li>" for r in items) or "<li>none</li>"
    roles = "".join(f"<tr><td><b>{role}</b></td>" + "".join(
        f"<td class='n'>{sum(r['status'] == st and r['role'] == role for r in records)}</td>" for st in STATUSES)
        + "</tr>" for role in ("paper", "finding", "extension"))
    return (f"<section id='summary'>{verdict_html(records)}<h2>Does the paper hold up? The counts</h2>"
            f"<table class='parts'><tr><th>part</th>{head}"
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
#verdict{background:#fffbe6;border:1px solid #e6d98c;padding:4px 12px} .opening{margin:4px 0}
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
    for key, title, what in PARTS:
        mine = [r for r in records if r["part"] == key]
        cards = "".join(_card(r, figures) for r in mine)
        reading = f"<p class='reading' id='reading-{key}'>{esc(regime_reading(mine))}</p>" if key == "cnn" else ""
        parts.append(f"<section class='part' id='part-{key}'><h2>{title}</h2><p>{esc(what)}.</p>"
                     f"<p class='part-verdict'><b>{esc(part_sentence(title, mine))}</b></p>{reading}"
                     f"{lead_figure(key, figures)}{cards}</section>")
    toc = " · ".join(f"<a href='#part-{key}'>{title}</a>" for key, title, _ in PARTS)
    nb = "".join(f"<li><a href='notebooks/{esc(n)}.html'>{esc(n)}</a>: {esc(s)}</li>" for n, s in notebooks.items()) or \
        "<li>not executed in this build</li>"
    return f"""<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>
<title>Asynchrony begets Momentum: verification report</title>
<script src='mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe'></script>
<style>{CSS}</style></head><body>
<h1>Asynchrony begets Momentum — verification report</h1>
<p>Mitliagkas, Zhang, Hadjis, Ré, arXiv:1605.09774. Generated {datetime.now(timezone.utc).isoformat(timespec='seconds')}
from git {esc(str(sha)[:12])}{' (dirty)' if dirty else ''}. <b>{counts['pass']}</b> pass, <b>{counts['fail']}</b> fail,
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
