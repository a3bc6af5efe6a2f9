"""From per-run records to the paper's quantities: best momentum per M, statistical penalty per strategy.

Score of a configuration (M, mu_L, alpha) at a target: mean over seeds of the updates needed to reach it;
infinity when a seed never reached it (diverged runs included). The best alpha is chosen per (M, mu_L), and the
strategies of Figs. 4 and 8 choose mu_L within their set. Penalty = best score of a strategy at M divided by the
best score over everything at M = 1 (SPEC.md section 3).
"""
from __future__ import annotations

import math
from collections import defaultdict

STRATEGIES = {"fixed_0.9": lambda mu: abs(mu - 0.9) < 1e-9, "non_negative": lambda mu: mu >= -1e-12,
              "any_sign": lambda mu: True}


def scores(rows: list[dict], target: str) -> dict:
    """(M, mu_L, lr) -> mean updates to reach `target` over seeds (inf when any seed did not)."""
    grouped = defaultdict(list)
    for row in rows:
        steps = row["reached"].get(target)
        grouped[(row["n_workers"], row["mu_explicit"], row["lr"])].append(math.inf if steps is None else steps)
    return {key: (sum(v) / len(v) if all(math.isfinite(x) for x in v) else math.inf) for key, v in grouped.items()}


def best_per_momentum(table: dict) -> dict:
    """(M, mu_L) -> (best score over alpha, that alpha)."""
    out = {}
    for (m, mu, lr), score in table.items():
        if (m, mu) not in out or score < out[(m, mu)][0]:
            out[(m, mu)] = (score, lr)
    return out


def summarise(rows: list[dict], target: str, workers: list[int]) -> dict:
    per_mu = best_per_momentum(scores(rows, target))
    base = min((s for (m, _), (s, _) in per_mu.items() if m == 1), default=math.inf)
    out = {"baseline_updates": base, "per_workers": {}}
    for m in workers:
        entry = {}
        for name, allowed in STRATEGIES.items():
            options = [(s, mu, lr) for (mm, mu), (s, lr) in per_mu.items() if mm == m and allowed(mu)]
            if not options:
                continue
            # ties in score go to the larger momentum (the conservative choice for 'momentum falls with M')
            score, mu, lr = min(options, key=lambda o: (o[0], -o[1]))
            entry[name] = {"updates": score, "mu_explicit": mu if math.isfinite(score) else None, "lr": lr,
                           "penalty": score / base if math.isfinite(base) and base > 0 else math.inf}
        out["per_workers"][str(m)] = entry
    return out
