"""The experiment protocol, for every registered experiment (benchopt style): declarations, a smoke run through
the store that gives every check and every control a verdict, figures that match, and the dependency direction."""
import ast
import dataclasses
from pathlib import Path

import matplotlib
import pytest

from reports.harness.store import Store
from reports.registry import (EXPERIMENT_MODULES, PROFILES, STATUSES, Claim, Control, Tolerance, Verdict, claims,
                              experiments, judge, validate_experiment)

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parent.parent
EXPERIMENTS = [pytest.param(e, id=e.name) for e in experiments().values()]   # every smoke run, in `make test`


@pytest.mark.parametrize("exp", [pytest.param(e, id=e.name) for e in experiments().values()])
def test_every_experiment_follows_the_protocol(exp):
    validate_experiment(exp)
    assert set(exp.profiles) == set(PROFILES)


@pytest.mark.parametrize("exp", EXPERIMENTS)
def test_smoke_run_round_trips_and_every_check_and_control_gives_a_verdict(exp, tmp_path, monkeypatch):
    if exp.method == "cnn":  # a tiny synthetic dataset: the contract does not depend on the Debian package
        from tests.conftest import tiny_dataset
        monkeypatch.setattr("cnn_experiments.data.load", lambda name, data_dir=None: tiny_dataset(n=256))
    store = Store(tmp_path)
    store.save(exp.method, exp.name, exp.smoke, exp.run(exp.smoke), exp.store_version(exp.smoke))
    result = store.load(exp.method, exp.name, exp.smoke, exp.store_version(exp.smoke))
    assert result is not None, "the stored smoke result does not load back"
    for claim in exp.claims:
        verdict = claim.verdict(result)
        assert isinstance(verdict, Verdict) and verdict.measured, claim.id
        record = judge(claim, result)
        assert record["status"] in STATUSES
        assert not record["measured"].startswith("check could not read"), (claim.id, record["measured"])
        for control in record["controls"]:
            assert control["status"] in ("pass", "fail", "not_run"), (claim.id, control)
            assert not (control["measured"] or "").startswith("check could not read"), (claim.id, control)
    figures = exp.figures(result)
    declared = {c.figure for c in exp.claims if c.figure}
    assert declared <= set(figures), f"claims name figures that are not drawn: {declared - set(figures)}"
    import matplotlib.pyplot as plt
    plt.close("all")


def test_claim_ids_are_unique_and_todays_ids_are_all_there():
    ids = {i for c in claims() for i in (c.id, *c.aliases)}
    assert len([c.id for c in claims()]) == len({c.id for c in claims()})
    before = {  # the ids of the report before the protocol (reviewers link to them)
        "thm2-expected-update", "thm3-geometric-momentum", "thm5-queue-geometric", "thm6-explicit-plus-implicit",
        "thm6-momenta-add-first-order", "thm7-growth-polynomial", "thm7-heavy-ball-limit", "finding-appE-q2-constant",
        "fig6-optimal-explicit-momentum", "fig6-polyak-at-zero", "fig6-negative-beyond-mu-star",
        "thm7-rate-closed-form", "thm7-heavy-ball-bound", "fig7-tuning-helps", "finding-fig7-ratio",
        "limit-of-asynchrony", "mc-queue-geometric", "mc-any-law-mean", "mc-delays-dependent",
        "mc-async-follows-momentum", "mc-expected-gradients", "mc-explicit-plus-implicit", "mc-momentum-estimator",
        "finding-yellowfin-dampening", "finding-momenta-add-measured", "finding-momentum-only-in-expectation",
        "finding-estimator-non-exponential", "mc-tuning-under-asynchrony", "cnn-best-momentum-falls",
        "cnn-fixed-momentum-penalty", "cnn-negative-momentum", "cnn-measured-momentum-grows",
        "finding-cnn-momentum-magnitude", "real-async-geometric", "real-async-model-predicts", "real-async-momentum",
        "real-async-efficiency"}
    assert before <= ids, sorted(before - ids)


def _broken(**changes):
    exp = experiments()["theory"]
    return dataclasses.replace(exp, **changes)


def _claim(**changes):
    good = experiments()["theory"].claims[0]
    return dataclasses.replace(good, **changes)


@pytest.mark.parametrize("broken, message", [
    (lambda: _broken(profiles={"quick": experiments()["theory"].smoke}), "profiles must be exactly"),
    (lambda: _broken(claims=()), "declares no claims"),
    (lambda: _broken(claims=(_claim(controls=()),)), "names no negative control"),
    (lambda: _broken(claims=(_claim(tolerance="4 SE"),)), "has no Tolerance"),
    (lambda: _broken(method="astrology"), "method 'astrology'"),
    (lambda: _broken(part="appendix"), "part 'appendix'"),
    (lambda: _broken(committed=("quick",)), "committed evidence needs a Chunked declaration"),
    (lambda: _broken(smoke=object()), "the smoke config is not a Config"),
], ids=["no-full-profile", "no-claims", "no-control", "no-tolerance", "method", "part", "committed-unchunked",
        "smoke-type"])
def test_a_broken_experiment_is_refused(broken, message):
    with pytest.raises(ValueError, match=message):
        validate_experiment(broken())


def test_a_control_that_passes_makes_the_claim_cannot_fail():
    always = Claim(id="x", paper_ref="ref", statement="statement", check=lambda r, tol: Verdict(True, "e", "m"),
                   tolerance=Tolerance(1, "absolute", "why"),
                   controls=(Control("same", "the truth itself", lambda r: r),))
    assert judge(always, object())["status"] == "cannot_fail"
    sharp = dataclasses.replace(always, check=lambda r, tol: Verdict(r == "truth", "e", "m"))
    sharp = dataclasses.replace(sharp, controls=(Control("wrong", "a wrong model", lambda r: "wrong"),))
    assert judge(sharp, "truth")["status"] == "pass" and judge(sharp, "wrong")["status"] == "fail"
    assert judge(sharp, None)["status"] == "not_run"


def test_a_tolerance_is_data_with_a_unit_and_a_reason():
    with pytest.raises(ValueError, match="unit"):
        Tolerance(4, "sigmas", "why")
    with pytest.raises(ValueError, match="why"):
        Tolerance(4, "standard errors", "")
    assert Tolerance(4.5, "standard errors", "because").text() == "4.5 standard errors"


# ------------------------------------------------------------------------- dependency direction -------------

ALLOWED = {"theory": set(), "sim": {"theory"}, "cnn_experiments": {"theory", "sim"},
           "reports": {"theory", "sim", "cnn_experiments", "reports"}}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_dependencies_point_one_way(package):
    suite = set(ALLOWED)
    for path in (ROOT / package).rglob("*.py"):
        for name in _imports(path):
            top = name.split(".")[0]
            if top in suite and top != package:
                assert top in ALLOWED[package], f"{path.relative_to(ROOT)} imports {name}"


def _experiment_files(name: str) -> list[Path]:
    """The file of an experiment, or every file of its package."""
    base = ROOT / name.replace(".", "/")
    return sorted(base.rglob("*.py")) if base.is_dir() else [base.with_suffix(".py")]


def test_experiment_files_do_not_import_each_other():
    modules = set(EXPERIMENT_MODULES.values())
    for name in EXPERIMENT_MODULES.values():
        for path in _experiment_files(name):
            imported = {m for m in _imports(path) if any(m == e or m.startswith(e + ".") for e in modules)}
            others = {m for m in imported if not (m == name or m.startswith(name + "."))}
            assert not others, f"{path.relative_to(ROOT)} imports another experiment: {others}"


def _one_minus_one_over(node: ast.AST) -> bool:
    """1 - 1 / x (or 1.0 - 1.0 / x): the implicit momentum typed again."""
    def one(n):
        return isinstance(n, ast.Constant) and n.value in (1, 1.0) and not isinstance(n.value, bool)
    return (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) and one(node.left)
            and isinstance(node.right, ast.BinOp) and isinstance(node.right.op, ast.Div) and one(node.right.left))


def _times_itself_minus_one(node: ast.AST) -> bool:
    """x * (x - 1): the staleness variance M(M - 1) typed again."""
    return (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and isinstance(node.right, ast.BinOp)
            and isinstance(node.right.op, ast.Sub) and isinstance(node.right.right, ast.Constant)
            and node.right.right.value == 1 and ast.dump(node.left) == ast.dump(node.right.left))


def test_the_implicit_momentum_and_the_staleness_variance_are_written_once_in_theory():
    """mu_S = 1 - 1/M lives in theory.predictions.implicit_momentum and Var[tau] = M(M - 1) in
    theory.predictions.staleness_variance: no other package types them again."""
    sites = []
    for package in ("sim", "cnn_experiments", "reports", "notebooks"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if _one_minus_one_over(node) or _times_itself_minus_one(node):
                    sites.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert sites == [], sites


def test_the_numpy_predictions_do_not_import_sympy():
    import subprocess
    import sys
    code = "import sys, theory.predictions, sim.queue, sim.compensation; print('sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "False", out.stderr[-500:]


def test_claims_cite_the_paper_not_issues_or_files_outside_the_repository():
    import re
    for claim in claims():
        for text in (claim.paper_ref, claim.statement, claim.tolerance.why):
            assert not re.search(r"\bissue \d+", text), (claim.id, text)
            assert "SPEC.md" not in text, (claim.id, text)
    assert (ROOT / "docs" / "paper.md").is_file()  # the paper restated, which references may name


@pytest.mark.parametrize("exp", [pytest.param(e, id=e.name) for e in experiments().values()])
def test_every_config_round_trips_through_a_run_plan(exp):
    """The runner records configs as JSON and the report reads them back through the strict override."""
    import json

    from reports.harness.config import as_dict, override
    for config in [*exp.profiles.values(), exp.smoke]:
        assert override(exp.profiles["quick"], json.loads(json.dumps(as_dict(config)))) == config


def test_modules_stay_small_and_functions_short():
    """The house rule: no package module over 400 lines, no function over 60 (small modules with one job)."""
    long_files, long_functions = [], []
    for package in ("theory", "sim", "cnn_experiments", "reports"):
        for path in sorted((ROOT / package).rglob("*.py")):
            source = path.read_text()
            if len(source.splitlines()) > 400:
                long_files.append(str(path.relative_to(ROOT)))
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 60:
                    long_functions.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert not long_files and not long_functions, (long_files, long_functions)


def _lines(paths) -> int:
    return sum(len(path.read_text().splitlines()) for path in paths)


def test_experiments_are_declarations_over_library_numerics():
    """Each experiment is at most 400 lines over its whole package, and the experiments together at most 30 % of the
    package lines: the numerics live in theory/, sim/ and cnn_experiments/."""
    folder = ROOT / "reports" / "experiments"
    sizes = {path.name: _lines(path.rglob("*.py")) for path in folder.iterdir() if path.is_dir()}
    sizes |= {path.stem: _lines([path]) for path in folder.glob("*.py")}
    assert max(sizes.values()) <= 400, {k: v for k, v in sizes.items() if v > 400}
    package = _lines(p for name in ("theory", "sim", "cnn_experiments", "reports") for p in (ROOT / name).rglob("*.py"))
    assert sum(sizes.values()) <= 0.30 * package, (sum(sizes.values()), package)


def test_a_claim_is_declared_by_keyword_and_its_role_comes_from_its_id():
    from reports.registry import claims, role_of
    with pytest.raises(TypeError):
        Claim("x", "ref", "statement", lambda r, tol: None, Tolerance(1, "absolute", "why"), ())
    for claim in claims():
        assert claim.role == role_of(claim.id) and claim.method == experiments()[claim.experiment].method


def test_the_experiment_of_every_claim_is_found_without_importing_the_others():
    from reports.registry import experiment_of
    for claim in claims():
        assert experiment_of(claim.id) == claim.experiment, claim.id
    import subprocess
    import sys
    code = ("import sys; from reports.registry import claim_by_id; c = claim_by_id('mc-queue-geometric'); "
            "print(c.experiment, 'sympy' in sys.modules, sorted(m for m in sys.modules "
            "if m.startswith('reports.experiments.') and m.count('.') == 2))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split(" ", 2)
    assert out[0] == "mc_staleness" and out[1] == "False" and out[2].strip() == "['reports.experiments.mc_staleness']"


def test_every_registered_module_declares_the_experiment_of_its_name():
    for name in EXPERIMENT_MODULES:
        assert experiments([name])[name].name == name
