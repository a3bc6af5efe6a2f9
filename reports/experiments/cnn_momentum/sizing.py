"""The CNN's power record: the decision on fresh replication seeds beside the design power (replication, not a
resampling of the same seeds; the design power and the seeds needed from cnn_experiments.momentum_power)."""
from __future__ import annotations

from cnn_experiments import momentum_views as E
from cnn_experiments.momentum_power import TARGET_POWER, design_power, n_seeds, probe_power, seeds_needed
from reports.harness.store import Result
from reports.registry import status_of


def record(claim, result: Result, pilot: int) -> dict:
    """The CNN's power record: the verdict on each seed set (replication on fresh seeds) and the design power."""
    per_set = {}
    for which in E.sets_present(result):
        only = E.with_arrays(result, lambda k, a: a)
        only.arrays = {k: v for k, v in result.arrays.items() if k.endswith(which)}
        only.summary["probes"] = {which: result.summary["probes"][which]}
        per_set[which] = status_of(claim.check(only, claim.tolerance))
    out = {"kind": "replication", "seeds": n_seeds(result, "decision"), "replication_seeds": n_seeds(result, "replication"),
           "decision": per_set.get("decision"), "replication": per_set.get("replication"),
           "replicated": len(set(per_set.values())) == 1 and len(per_set) == 2,
           "method": "replication: the check decided again on fresh seeds (not a resample of the same seeds)"}
    if claim.id.startswith("extension-"):
        out |= {"design_power": None, "design": "no design power: an extension, with no effect size in the paper"}
    elif claim.id == "cnn-best-momentum-falls":
        out |= {"design_power": None, "design": "no design power: the decision's statistic (the matched-step "
                "contrast) has no effect size in the paper"}
    elif claim.id != "cnn-measured-momentum-grows":
        n = out["seeds"]
        out |= {"design_power": round(design_power(result, claim.id, n), 3),
                "seeds_needed": seeds_needed(result, claim.id, pilot), "pilot_seeds": pilot,
                "design": f"power of the decision with {n} seeds at the paper's effect size, from the decision "
                          f"seeds' spread; seeds needed for {TARGET_POWER:.0%} from the first {pilot} (the pilot)"}
    else:
        out |= {"design_power": round(probe_power(result), 3), "design_measure": "1 - false-alarm rate",
                "design": "1 - false-alarm rate, not power: P(pass) when the theory holds, each probe drawn at 1 - 1/M "
                          "with its measured SE"}
    # the target is a decision that can be trusted either way: both seed sets agree and the design had the power
    # to see the paper's effect (a replicated fail at high design power is a confident fail, not an underpowered one)
    out["meets_target"] = bool(out["replicated"] and (out["design_power"] is None or
                                                      out["design_power"] >= TARGET_POWER))
    return out


