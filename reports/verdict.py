"""The report's words, generated from the claim records (pure): one sentence per part of the paper for the first
screen, and one plain sentence opening each card — what the verdict means, and for a fail whether it speaks against
the paper, shows a smaller effect at our scale, or is a fault of the paper's own numbers."""
from __future__ import annotations

from reports.power import standing

SCALE = ("a smaller effect than the paper's at this CPU scale (batch 16, width 0.25, 14 x 14 inputs); the batch "
         "ladder says whether the batch explains it")
LADDER = {"cnn-ladder-fixed-penalty-grows": "Fig. 4's penalty of keeping mu_L = 0.9",
          "cnn-ladder-negative-gain-grows": "Fig. 8's gain of negative momentum"}


def fail_meaning(r: dict) -> str:
    """What a fail of this claim means."""
    if r.get("meaning"):
        return r["meaning"]
    if r["role"] == "extension":
        return "a result beyond the paper (the paper claims nothing here)"
    if r["role"] == "finding":
        return "the finding is not confirmed (the paper stands on this point)"
    return SCALE if r.get("method") == "cnn" else "against the paper"


def opening(r: dict) -> str:
    """The card's first sentence."""
    power = standing(r.get("power"), r["status"]) if r.get("power") is not None else None
    tail = {"fragile pass": " It is fragile: most fresh seeds do not pass.",
            "robust fail": " The fail is robust: it fails on fresh seeds too."}.get(power, "")
    if r["status"] == "pass":
        what = ("The finding is confirmed: the paper is wrong or imprecise here" if r["role"] == "finding" else
                "It holds" if r["role"] == "paper" else "The result beyond the paper holds")
        return f"{what}: the check passed and every negative control failed.{tail}"
    if r["status"] == "fail":
        return f"It fails — {fail_meaning(r)}.{tail}"
    if r["status"] == "cannot_fail":
        return ("Undecided: the check passed, but so did a deliberately wrong model, so this evidence cannot tell "
                "them apart.")
    return "Not run: there is no evidence for it in this report (see below why)."


def part_sentence(title: str, records: list[dict]) -> str:
    """One sentence for a part of the paper: what holds, what fails and what the fails mean (plain text; the claim
    ids are given separately as links)."""
    if not records:
        return f"{title}: no claims."
    n = len(records)
    passed = sum(r["status"] == "pass" for r in records)
    parts = [f"{title}: {passed} of {n} claims pass"]
    meanings: dict = {}
    for r in records:
        if r["status"] == "fail":
            meanings.setdefault(fail_meaning(r), []).append(r["id"])
    for meaning, ids in meanings.items():
        parts.append(f"{len(ids)} {'fails' if len(ids) == 1 else 'fail'} ({meaning})")
    undecided = sum(r["status"] == "cannot_fail" for r in records)
    not_run = sum(r["status"] == "not_run" for r in records)
    if undecided:
        parts.append(f"{undecided} cannot be decided (a wrong model passes too)")
    if not_run:
        parts.append(f"{not_run} not run")
    return "; ".join(parts) + "."


def regime_reading(records: list[dict]) -> str:
    """Two sentences for the CNN part: whether its batch-16 fails are the regime (the batch) or stand against the
    paper, from the batch ladder's claims."""
    status = {r["id"]: r["status"] for r in records if r["id"] in LADDER}
    if not status or any(v not in ("pass", "fail") for v in status.values()):
        return ("Whether the batch-16 fails are the regime or against the paper is what the batch ladder decides "
                "(" + ", ".join(LADDER) + "): not decided yet, its evidence is incomplete. Until then they say only "
                "that the effect is smaller at this CPU scale.")
    values = {r["id"]: r.get("values") or {} for r in records if r["id"] in LADDER}
    return " ".join(_ladder_sentence(LADDER[k], status[k], values[k]) for k in LADDER if k in status)


def _ladder_sentence(what: str, status: str, v: dict) -> str:
    """One ladder claim in words, from its record: the effect at the paper's batch 128 on each seed set (there, when
    its interval lies above 1; above its bar or not) and its growth with the batch (the slope's interval above 0 on
    both seed sets, one, or neither)."""
    sets = [w for w in ("decision", "replication") if f"{w},slope_low" in v and f"{w},top" in v]
    if status == "pass":
        return (f"{what} grows with the batch and reaches its bar at the paper's batch 128: there the batch-16 fail "
                "is the regime, not evidence against the paper.")
    if not sets:
        return ""
    above_one = [w for w in sets if (v.get(f"{w},top_low") or 0) > 1]
    above_bar = [w for w in sets if (v.get(f"{w},top") or 0) >= (v.get("bar") or float("inf"))]
    growing = [w for w in sets if (v.get(f"{w},slope_low") or 0) > 0]
    present = len(above_one) == len(sets)

    def on(subset: list) -> str:
        return "both seed sets" if len(subset) == len(sets) else "one seed set only" if subset else "neither"
    at = " and ".join(f"{v[f'{w},top']:.2f}" for w in sets)
    slopes = " and ".join(f"{v[f'{w},slope']:+.3f} [{v[f'{w},slope_low']:+.3f}, {v[f'{w},slope_high']:+.3f}]"
                          for w in sets if f"{w},slope" in v and f"{w},slope_high" in v)
    paper = f", the paper {v['paper']:.2f}" if v.get("paper") else ""
    facts = (f"{what} at the paper's batch 128: {at} on the {' and '.join(sets)} seeds (interval above 1 on "
             f"{on(above_one)}, above its bar {v.get('bar', float('nan')):.2f} on {on(above_bar)}{paper}); its slope "
             f"per doubling of the batch {slopes} (log), above 0 on {on(growing)}")
    if not present:
        return facts + ": at this network's scale (width 0.25, 14 x 14 inputs) the paper's effect does not appear."
    if len(growing) == len(sets):
        return facts + ": it grows with the batch but stays short of its bar, so the batch explains part of the " \
            "batch-16 fail."
    if growing:
        return facts + (": the effect is there, smaller than the paper's; on its growth with the batch the seed sets "
                        "disagree, so the batch explains at most part of the batch-16 fail.")
    return facts + (": the effect is there, smaller than the paper's, and does not grow with the batch: the batch does "
                    "not explain the batch-16 fail.")
