"""How many seeds each CNN claim needs: the power of its decision rule at the paper's effect size, given the
seed-to-seed spread of its statistic (measured on the first decision seeds, the pilot). Pure (numpy)."""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from cnn_experiments import claim_stats as S
from cnn_experiments import momentum_checks as C
from cnn_experiments import momentum_views as E
from cnn_experiments import paired
from cnn_experiments.momentum_views import Result
from theory import predictions


TARGET_POWER = 0.8


def _t(x):
    return paired.t_interval(x)


def _parts(claim_id: str, ev, lr_grid) -> list[tuple[np.ndarray, float, object]]:
    """(per-seed statistic, the paper's effect on its scale, rule(sample) -> bool) for each part of the claim."""
    if claim_id == "cnn-best-momentum-falls":
        return []   # decided at matched effective step: the paper gives no effect size on that scale
    if claim_id == "cnn-fixed-momentum-penalty":
        x = S.log_ratio(ev, "fixed_0.9", "non_negative", C.AT)
        return [(x, math.log(16 / 6), lambda x: _t(x)[1] > 0 and math.exp(_t(x)[0]) >= C.FIG4_FIXED)]
    if claim_id == "cnn-negative-momentum":
        best = paired.matched_best_momentum(ev, lr_grid)[list(ev.workers).index(C.AT)]
        ratio = S.log_ratio(ev, "non_negative", "any_sign", C.AT)
        return [(best, S.PAPER_FIG8_CHOSEN[16], lambda x: _t(x)[2] < 0),
                (ratio, math.log(2), lambda x: _t(x)[1] > 0 and math.exp(_t(x)[0]) >= C.FIG8_NEGATIVE)]
    if claim_id == "cnn-tuned-penalty-small":
        return [(S.penalty(ev, m), math.log(S.PAPER_FIG4["any_sign"][m]),
                 lambda x, bar=bar: math.exp(_t(x)[0]) <= bar) for m, bar in C.SMALL.items() if m in ev.workers]
    if claim_id == "cnn-momentum-magnitude":
        paper = S.PAPER_FIG3_CIFAR[8] - (S.PAPER_FIG3_CIFAR[1] - predictions.implicit_momentum(8))
        return [(S.matched_gap(ev, lr_grid), paper, lambda x: _t(x)[1] > 0 and _t(x)[0] >= C.GAP_BAR)]
    if claim_id == "cnn-warm-start":
        return [(S.penalty(ev, m), math.log(S.PAPER_FIG5_WARM[m]), lambda x: math.exp(_t(x)[0]) <= C.WARM)
                for m in ev.workers if m > 1]
    raise KeyError(claim_id)


def _evidence_of(result: Result, claim_id: str, which: str, seeds=None):
    ev = (E.warm if claim_id == "cnn-warm-start" else E.grid)(result, which)
    return ev if seeds is None else ev.resampled(list(range(min(seeds, ev.n_seeds))))


def design_power(result: Result, claim_id: str, n: int, which: str = "decision", pilot: int | None = None) -> float:
    """Power of the claim's decision with n seeds at the paper's effect, from the spread measured on `which` (its
    first `pilot` seeds, or all): the product over the claim's parts (taken as independent)."""
    ev = _evidence_of(result, claim_id, which, pilot)
    out = 1.0
    for x, effect, rule in _parts(claim_id, ev, tuple(result.summary["lr_grid"])):
        sd = float(np.std(x, ddof=1)) if np.all(np.isfinite(x)) and x.size > 1 else math.inf
        out *= paired.power(rule, effect, sd, n) if math.isfinite(sd) else 0.0
    return out


def seeds_needed(result: Result, claim_id: str, pilot: int, largest: int = 48) -> int:
    """The smallest n whose design power (spread from the pilot seeds) reaches TARGET_POWER; largest + 1: none
    (bisection: the power grows with n)."""
    if design_power(result, claim_id, largest, pilot=pilot) < TARGET_POWER:
        return largest + 1
    low, high = 2, largest
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if design_power(result, claim_id, mid, pilot=pilot) >= TARGET_POWER else (mid, high)
    return high


def n_seeds(result: Result, which: str) -> int:
    key = f"times_{which}"
    return int(result.arrays[key].shape[-1]) if key in result.arrays else 0


def probe_power(result: Result, draws: int = 4000) -> float:
    """P(the probe check passes) when every probe's estimate is drawn around 1 - 1/M with its measured SE."""
    rng = np.random.default_rng(0)
    probes = E.probes(result, "decision")
    hits = 0
    for _ in range(draws):
        drawn = [{**p, "mu": predictions.implicit_momentum(p["n_workers"]) + p["mu_se"] * rng.standard_normal()}
                 for p in probes]
        hits += C.probe_on(drawn, SimpleNamespace(value=C.Z_PROBE))[0]
    return hits / draws
