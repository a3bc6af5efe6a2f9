"""Claims are data: every statement of the paper the suite checks, how it is checked, and how it could fail.

An experiment (a file or a package in reports/experiments/) declares one `EXPERIMENT = Experiment(...)`: its config class, the
quick and full profiles, a tiny smoke config, a pure `run(config) -> Result`, `figures(result)` and its claims.
A claim carries a pure check `check(result, tolerance) -> Verdict` that reads its threshold from the claim's
`Tolerance` (written once), and at least one negative `Control`: the same check on evidence from a deliberately
wrong model, which must fail. A claim whose check passes while a control passes too is `cannot_fail`, not `pass`.
"""
from __future__ import annotations

import copy
import importlib
import math
from dataclasses import dataclass, field, replace
from typing import Any, Callable

EXPERIMENT_MODULES = {   # experiment name -> its module, in report order (imported only when asked for)
    "theory": "reports.experiments.symbolic",
    "quadratic_rates": "reports.experiments.quadratic_rates",
    "quadratic_limit": "reports.experiments.quadratic_limit",
    "mc_staleness": "reports.experiments.mc_staleness",
    "mc_trajectories": "reports.experiments.mc_trajectories",
    "mc_momentum": "reports.experiments.mc_momentum",
    "mc_tuning": "reports.experiments.mc_tuning",
    "cnn_momentum": "reports.experiments.cnn_momentum",
    "cnn_batch_ladder": "reports.experiments.cnn_batch_ladder",
    "real_async": "reports.experiments.real_async",
    "staleness_laws": "reports.experiments.staleness_laws",
    "compensation": "reports.experiments.compensation",
    "step_rules": "reports.experiments.step_rules",
    "real_step_rules": "reports.experiments.real_step_rules",
}
ROLES = ("paper", "finding", "extension")   # what a claim is for: from its id's prefix (role_of)
METHODS = ("symbolic", "quadratic", "monte_carlo", "cnn", "real_async")   # how an experiment decides its claims
PARTS = ("theory", "quadratic", "monte-carlo", "cnn", "real-asynchrony", "beyond")   # the report's sections
PROFILES = ("quick", "full")
STATUSES = ("pass", "fail", "cannot_fail", "not_run")
UNITS = ("exact", "standard errors", "absolute", "relative", "ratio", "grid steps", "count")


class PreflightError(Exception):
    """An experiment cannot run here (e.g. its dataset is missing): said in one line, before anything is written."""


@dataclass(frozen=True)
class Bound:
    """A secondary threshold of a claim's check, named, with its reason (the card prints it beside the tolerance)."""
    name: str
    value: float
    why: str


@dataclass(frozen=True)
class Tolerance:
    """A claim's threshold, written once: the check reads `value` (and each secondary threshold by name from `also`),
    the report prints `text()` and `reasons()`."""
    value: float
    unit: str
    why: str
    also: tuple = ()     # Bound(...): the check's secondary thresholds

    def __post_init__(self):
        if self.unit not in UNITS:
            raise ValueError(f"tolerance unit {self.unit!r} is not one of {UNITS}")
        if not (isinstance(self.value, (int, float)) and math.isfinite(self.value) and self.value >= 0):
            raise ValueError(f"tolerance value must be a finite number >= 0, got {self.value!r}")
        if not self.why or not all(isinstance(b, Bound) and b.why and math.isfinite(b.value) for b in self.also):
            raise ValueError("a tolerance, and each of its secondary thresholds (Bound), says why it is what it is")

    def text(self) -> str:
        main = "exact" if self.unit == "exact" else f"{self.value:g} {self.unit}"
        return main + "".join(f"; {b.name} {b.value:g}" for b in self.also)

    def bound(self, name: str) -> float:
        """The secondary threshold `name` (KeyError where the tolerance has none of that name)."""
        for b in self.also:
            if b.name == name:
                return b.value
        raise KeyError(f"the tolerance has no secondary threshold {name!r}")

    def reasons(self) -> str:
        return self.why + "".join(f"; {b.name} {b.value:g}: {b.why}" for b in self.also)


@dataclass(frozen=True)
class Verdict:
    passed: bool | None  # None: the evidence exists but does not cover the claim (shown as not run)
    expected: str
    measured: str
    values: dict = field(default_factory=dict)  # the named numbers the verdict was decided on


@dataclass(frozen=True)
class Control:
    """The same check on evidence from a deliberately wrong model (`model` says which); it must fail."""
    name: str
    model: str
    wrong_result: Callable[[Any], Any]  # stored Result -> the Result the wrong model gives (pure)


@dataclass(frozen=True, kw_only=True)
class Claim:
    id: str                   # its prefix gives the role: finding-, extension-, else the paper's
    paper_ref: str
    statement: str
    check: Callable[[Any, Tolerance], Verdict]
    tolerance: Tolerance
    controls: tuple
    figure: str | None = None
    aliases: tuple = ()       # former ids, still accepted by `make claim` and the report's anchors
    experiment: str = ""      # filled in from the declaring Experiment
    expect: str = "pass"      # "pass": the suite expects it to pass at the quick profile (a failure is a regression:
    #                           tests and `reports.build`'s exit status); "result": either verdict is a finding
    role: str = ""            # paper / finding / extension (from the id), filled in by claims()
    method: str = ""          # symbolic / quadratic / monte_carlo / cnn / real_async (from the experiment)
    meaning: str = ""         # what a fail means where the role alone does not say (the report's verdict reads it)
    paper: str = ""           # what the paper itself reports for it (figure, section), shown beside ours; "" for a
    #                           statement without a published number
    own_chunks: str = ""      # committed chunks first computed for this claim (their name's kind, e.g. "loop"):
    #                           its pre-registration is judged against the first of them, not the experiment's first
    power: Callable | None = None  # (result, tolerance) -> power record from the check's sampling distribution,
    #                               for claims whose experiment is too costly to re-run on many seeds

    def verdict(self, result) -> Verdict:
        """The check on `result` at the claim's own tolerance (no controls)."""
        return self.check(result, self.tolerance)


@dataclass(frozen=True)
class Chunked:
    """How a long experiment is computed once and committed chunk by chunk (reports.harness.evidence): the chunks
    of a config in order, those every other chunk needs (computed first), one chunk's computation, and the pure
    assembly of all chunks into a Result (what the report runs on committed chunks)."""
    plan: Callable            # config -> [chunk name, ...]
    first: Callable           # config -> the names the others need
    compute: Callable         # (config, name, {name: payload}) -> payload (trains; loads what it needs itself)
    assemble: Callable        # (config, {name: payload}, provenance) -> Result (pure)
    numbers: Callable         # (config, {name: payload}, payload) -> [float]: a chunk's times to target (or its
    #                           estimates), compared where a recomputation cannot be bit-identical (another CPU)
    seed_fields: tuple = ()   # config fields that only choose which chunks exist (not part of the chunks' key)
    agree: Callable | None = None  # (config, name, committed payload, recomputed payload) -> (agrees, how) for
    #                           chunks that cannot be bit-identical anywhere (timed runs of real processes), None
    #                           for a deterministic chunk (the default rules: bits, or `numbers` on another machine)
    version: int = 1          # bump when what a chunk holds changes (with sim.MODEL_VERSION: the chunks' key)

    def key_version(self) -> str:
        import sim
        return f"{self.version}.{sim.MODEL_VERSION}"


@dataclass(frozen=True)
class Experiment:
    name: str
    method: str               # METHODS: how its claims are decided (also the folder its results are stored in)
    part: str                 # PARTS: the report's section its claims appear in
    version: int              # bump when this experiment's stored output changes
    config: type              # the frozen Config dataclass
    profiles: dict            # exactly {"quick": Config, "full": Config}
    smoke: Any                # a tiny Config: the contract tests run it end to end
    run: Callable             # config -> Result (pure apart from the time it takes)
    figures: Callable         # Result -> {name: matplotlib Figure}
    claims: tuple
    needs_gpu: tuple = ()     # profiles too large for a CPU (taken from reports/evidence/ without a GPU)
    deterministic: bool = True
    slow: bool = False        # its smoke run takes more than a few seconds (tests marked slow)
    uses_model: bool = True   # its results depend on sim's model: sim.MODEL_VERSION is part of its key
    seeded: bool = False      # its result depends on a random seed (its claims get a power record)
    power_seeds: int = 0      # re-runs on independent seeds for the power study (reports.power); 0: too costly
    preflight: Callable | None = None  # config -> None, raises PreflightError: checked before anything is written
    resumable: bool = False   # run(config, checkpoint) stores chunks as they finish (reports.harness.checkpoint)
    committed: tuple = ()     # profiles whose result is read from committed chunks (reports/evidence/), never
    #                           computed by `reports.run`: `make evidence` computes them (needs `chunked`)
    chunked: Chunked | None = None
    inputs: Callable | None = None  # config -> [paths of the files it reads]: their contents are part of the key

    def store_version(self, config) -> str:
        """The version a stored result is keyed by: the experiment's own, the model's where it uses it, and the
        contents of the input files the config reads (`inputs`): an edited trace or data file is a new key."""
        import sim
        out = f"{self.version}.{sim.MODEL_VERSION}" if self.uses_model else str(self.version)
        files = self.inputs(config) if self.inputs is not None else []
        if files:
            out += "." + input_digest(files)
        return out


def input_digest(paths) -> str:
    """SHA-256 (16 hex digits) over the contents of the files (a missing file counts as empty)."""
    import hashlib
    digest = hashlib.sha256()
    for path in sorted(str(p) for p in paths):
        digest.update(path.encode() + b"\0")
        try:
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(2 ** 20), b""):
                    digest.update(block)
        except OSError:
            digest.update(b"<missing>")
    return digest.hexdigest()[:16]


TABLE: dict | None = None   # {name: Experiment} in place of the registered modules (the tests' doubles); None: these


def experiment_names() -> list[str]:
    """Every experiment's name, in report order (nothing imported)."""
    return list(EXPERIMENT_MODULES if TABLE is None else TABLE)


def experiment(name: str) -> Experiment:
    """One experiment, importing its module only (and what that module needs)."""
    if name not in experiment_names():
        raise KeyError(f"unknown experiment {name!r}; choose from {', '.join(experiment_names())}")
    if TABLE is not None:
        return TABLE[name]
    exp = importlib.import_module(EXPERIMENT_MODULES[name]).EXPERIMENT
    if exp.name != name:
        raise RuntimeError(f"{EXPERIMENT_MODULES[name]} declares experiment {exp.name!r}, registered as {name!r}")
    return exp


def experiments(only=None) -> dict[str, Experiment]:
    """Experiment name -> Experiment, in report order: every one, or those named in `only`."""
    return {name: experiment(name) for name in experiment_names() if only is None or name in set(only)}


def experiment_of(claim_id: str) -> str | None:
    """The experiment whose source names claim_id (an id or an alias, in quotes), found without importing any:
    a single-claim run imports only what its claim needs. None where no source names it."""
    import importlib.util
    from pathlib import Path
    if TABLE is not None:
        return next((n for n, e in TABLE.items() for c in e.claims if claim_id in (c.id, *c.aliases)), None)
    quoted = f'"{claim_id}"'
    for name, module in EXPERIMENT_MODULES.items():
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            continue
        files = sorted(Path(spec.origin).parent.glob("*.py")) if spec.submodule_search_locations else [
            Path(spec.origin)]
        if any(quoted in f.read_text(encoding="utf-8") for f in files):
            return name
    return None


def role_of(claim_id: str) -> str:
    return "finding" if claim_id.startswith("finding-") else "extension" if claim_id.startswith("extension-") else \
        "paper"


def claims(only=None) -> list[Claim]:
    """Every claim (of the experiments named in `only`), in report order, with its experiment, role and method
    filled in."""
    out = [replace(claim, experiment=name, role=role_of(claim.id), method=exp.method)
           for name, exp in experiments(only).items() for claim in exp.claims]
    ids = [i for c in out for i in (c.id, *c.aliases)]
    duplicated = {i for i in ids if ids.count(i) > 1}
    if duplicated:
        raise RuntimeError(f"duplicate claim ids: {sorted(duplicated)}")
    return out


def claim_by_id(claim_id: str) -> Claim:
    """The claim with this id or alias: from the one experiment whose source names it where there is one."""
    name = experiment_of(claim_id)
    # its experiment first; then every one (a source may name an id it does not declare: a comment, a control)
    for pool in ([name], None) if name else (None,):
        for claim in claims(pool):
            if claim_id == claim.id or claim_id in claim.aliases:
                return claim
    known = ", ".join(c.id for c in claims())
    raise KeyError(f"unknown claim id {claim_id!r}; known ids: {known}")


def status_of(verdict: Verdict) -> str:
    return "not_run" if verdict.passed is None else ("pass" if verdict.passed else "fail")


def _safe_check(claim: Claim, result) -> Verdict:
    try:
        verdict = claim.check(result, claim.tolerance)
    except Exception as exc:  # noqa: BLE001  a check that cannot read its evidence is a failure, shown as such
        return Verdict(False, "", f"check could not read the evidence: {type(exc).__name__}: {exc}")
    if not isinstance(verdict, Verdict):
        return Verdict(False, "", f"check returned {type(verdict).__name__}, not a Verdict")
    return verdict


def judge(claim: Claim, result) -> dict:
    """Status, verdict and controls of one claim on one stored result (None: no evidence, not run)."""
    if result is None:
        return {"status": "not_run", "expected": None, "measured": None, "values": {},
                "controls": [{"name": c.name, "model": c.model, "status": "not_run", "measured": None}
                             for c in claim.controls]}
    verdict = _safe_check(claim, result)
    controls = []
    for control in claim.controls:
        try:
            wrong = control.wrong_result(result)
        except Exception as exc:  # noqa: BLE001  the wrong model's evidence is missing: the control did not run
            controls.append({"name": control.name, "model": control.model, "status": "not_run",
                             "measured": f"no evidence for this control: {type(exc).__name__}: {exc}"})
            continue
        seen = _safe_check(claim, wrong)
        controls.append({"name": control.name, "model": control.model, "status": status_of(seen),
                         "measured": seen.measured, "values": seen.values})
    status = status_of(verdict)
    if status == "pass" and any(c["status"] != "fail" for c in controls):
        status = "cannot_fail"  # a wrong model passes too (or could not be tried): the pass shows nothing
    return {"status": status, "expected": verdict.expected, "measured": verdict.measured,
            "values": _plain(verdict.values), "controls": controls}


def _plain(values: dict) -> dict:
    """A flat object of named numbers (JSON: non-finite as None)."""
    out = {}
    for key, value in values.items():
        if isinstance(value, bool) or value is None:
            out[key] = value
        else:
            value = float(value)
            out[key] = value if math.isfinite(value) else None
    return out


# ------------------------------------------------------------ helpers the experiments share -------------------

def with_controllers_replaced(result, by: str = "no_compensation"):
    """The wrong model 'no controller': in every case of summary["cases"], each strategy named momentum+step (a
    controller) replaced by the strategy `by` (the synchronous tuning reused)."""
    return with_summary(result, cases={label: {**c, "strategies": {n: (c["strategies"][by] if "+" in n else v)
                                                                     for n, v in c["strategies"].items()}}
                                       for label, c in result.summary["cases"].items()})


def with_summary(result, **changes):
    """A copy of `result` whose summary has `changes` (deep-copied): the evidence a control's wrong model gives."""
    new = copy.copy(result)
    summary = copy.deepcopy(result.summary)
    summary.update(copy.deepcopy(changes))
    new.summary = summary
    return new


def validate_experiment(exp: Experiment) -> None:
    """The static protocol every experiment follows; raises ValueError naming what is missing."""
    where = f"experiment {exp.name!r}"
    if exp.method not in METHODS:
        raise ValueError(f"{where}: method {exp.method!r} is not one of {METHODS}")
    if exp.part not in PARTS:
        raise ValueError(f"{where}: part {exp.part!r} is not one of {PARTS}")
    if set(exp.profiles) != set(PROFILES):
        raise ValueError(f"{where}: profiles must be exactly {PROFILES}, got {sorted(exp.profiles)}")
    for name, config in [*exp.profiles.items(), ("smoke", exp.smoke)]:
        if not isinstance(config, exp.config):
            raise ValueError(f"{where}: the {name} config is not a {exp.config.__name__}")
        config.validate()
    if not set(exp.needs_gpu) <= set(PROFILES):
        raise ValueError(f"{where}: needs_gpu names unknown profiles {exp.needs_gpu}")
    if not exp.claims:
        raise ValueError(f"{where}: declares no claims")
    if exp.committed and (exp.chunked is None or not exp.resumable):
        raise ValueError(f"{where}: committed evidence needs a Chunked declaration and resumable=True")
    for claim in exp.claims:
        if not isinstance(claim.tolerance, Tolerance):
            raise ValueError(f"{where}: claim {claim.id!r} has no Tolerance")
        if not claim.controls or not all(isinstance(c, Control) for c in claim.controls):
            raise ValueError(f"{where}: claim {claim.id!r} names no negative control")
        if claim.expect not in ("pass", "result"):
            raise ValueError(f"{where}: claim {claim.id!r} has expect {claim.expect!r}, not pass or result")
        if not (claim.id and claim.paper_ref and claim.statement):
            raise ValueError(f"{where}: claim {claim.id!r} lacks an id, a paper reference or a statement")
