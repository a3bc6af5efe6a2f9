"""The built report in a real browser (Debian's Chromium driven by Playwright): it renders, every figure loads, every
equation is typeset, every claim card is reachable from the first screen, and the PDF holds every claim.

Runs on the report `make report` wrote (reports/out, or $SUITE_REPORT); CI runs it after `make report` with
`make test-browser`. Screenshots of the first screen and of one card of each status go to <report>/screens/.
"""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from reports.common import DEFAULT_OUT

REPORT = Path(os.environ.get("SUITE_REPORT", DEFAULT_OUT))
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def claims():
    path = REPORT / "claims.json"
    if not path.is_file():
        pytest.fail(f"no report at {REPORT}: run `make report` first (or set SUITE_REPORT)")
    return json.loads(path.read_text())["claims"]


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright
    exe = shutil.which("chromium")
    if exe is None:
        pytest.fail("Debian's chromium is not installed: `make system-deps` (as root) installs it")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--allow-file-access-from-files"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.errors = []
        page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.on("requestfailed", lambda req: page.errors.append(f"failed to load {req.url}"))
        page.goto((REPORT / "report.html").resolve().as_uri(), wait_until="load")
        page.wait_for_function("window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0 && "
                               "MathJax.Hub.queue.running === 0", timeout=30_000)
        yield page
        browser.close()


def test_the_page_loads_without_console_errors(page):
    assert page.errors == []


def test_every_figure_is_loaded(page, claims):
    sizes = page.eval_on_selector_all("img", "imgs => imgs.map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])")
    assert len(sizes) >= len({c["id"] for c in claims if c["evidence"]}) // 4  # the report has figures at all
    assert [s for s in sizes if not (s[1] and s[2] > 0)] == []


def test_every_equation_is_typeset(page):
    equations = page.eval_on_selector_all("script[type^='math/tex']", "s => s.length")  # what MathJax found
    typeset = page.eval_on_selector_all(".MathJax_CHTML", "e => e.length")
    errors = page.eval_on_selector_all(".MathJax_Error, .mjx-merror, merror", "e => e.length")
    assert equations >= 4 and typeset == equations and errors == 0
    assert "\\(" not in page.inner_text("body")  # no delimiter left as text


def test_every_claim_card_is_reachable_from_the_first_screen(page, claims):
    ids = [c["id"] for c in claims]
    cards = page.eval_on_selector_all("article.card", "cs => cs.map(c => c.id)")
    assert sorted(cards) == sorted(ids)
    linked = set(page.eval_on_selector_all("#summary a[href^='#']", "as => as.map(a => a.getAttribute('href').slice(1))"))
    assert set(ids) <= linked
    for claim_id in ids[:: max(1, len(ids) // 6)]:  # following a link scrolls its card into view
        page.click(f"#summary a[href='#{claim_id}']")
        top = page.eval_on_selector(f"[id='{claim_id}']", "e => e.getBoundingClientRect().top")
        assert -2 <= top < 900
    page.evaluate("window.scrollTo(0, 0)")


def test_the_first_screen_shows_counts_findings_and_extensions(page, claims):
    summary = page.inner_text("#summary")
    for part in ("Theory", "Quadratic model", "Monte Carlo", "CNN", "Real asynchrony"):
        assert part in summary
    findings = [c["id"] for c in claims if c["id"].startswith("finding-")]
    extensions = [c["id"] for c in claims if c["id"].startswith("extension-")]
    assert page.eval_on_selector_all("ul.findings li", "l => l.length") == len(findings) > 0
    assert page.eval_on_selector_all("ul.extensions li", "l => l.length") == len(extensions) > 0


def test_screenshots_of_the_first_screen_and_one_card_of_each_status(page, claims):
    screens = REPORT / "screens"
    screens.mkdir(exist_ok=True)
    page.screenshot(path=str(screens / "first-screen.png"))
    written = ["first-screen.png"]
    for status in ("pass", "fail", "cannot_fail", "not_run"):
        card = next((c["id"] for c in claims if c["status"] == status), None)
        if card is not None:
            page.locator(f"[id='{card}']").screenshot(path=str(screens / f"card-{status}.png"))
            written.append(f"card-{status}.png")
    assert all((screens / name).stat().st_size > 1000 for name in written)


def test_the_pdf_holds_every_claim(claims):
    pdf = REPORT / "report.pdf"
    assert pdf.is_file(), "make report prints report.pdf with chromium"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    missing = [c["id"] for c in claims if c["id"] not in flat]
    assert missing == []
    assert flat.count("make claim ID=") == len(claims)
    assert "\\(" not in flat  # equations were typeset before printing


def test_the_first_screen_opens_with_the_generated_verdict_and_each_part_with_its_lead_figure(page, claims):
    lines = page.eval_on_selector_all("#verdict li", "ls => ls.map(l => l.innerText)")
    assert len(lines) == 6 and all(" claims pass" in line for line in lines)
    assert page.eval_on_selector("#verdict", "v => v.getBoundingClientRect().top") < 900 * 2  # near the top
    leads = page.eval_on_selector_all("figure.lead img", "imgs => imgs.map(i => [i.naturalWidth, i.closest("
                                      "'section').id])")
    assert leads and all(width > 0 for width, _ in leads)
    assert {"part-theory", "part-real-asynchrony"} <= {part for _, part in leads}
    reading = page.eval_on_selector("#reading-cnn", "p => p.innerText")
    assert "batch" in reading and any(said in reading for said in (
        "regime", "does not explain", "explains at most part", "explains part", "does not appear", "not decided yet"))
    openings = page.eval_on_selector_all("article.card p.opening", "ps => ps.length")
    assert openings == len(claims)
