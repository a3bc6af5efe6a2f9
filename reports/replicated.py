"""A claim decided on every seed set of its evidence (the decision seeds, then fresh replication seeds): it passes only
when every set passes, and says whether the replication confirmed it."""
from __future__ import annotations

from reports.registry import Verdict


def on_every_set(on, ev_of, expected: str, sets, note=lambda result: "", skip=None,
                 size=lambda ev: f"n = {ev.n_seeds}"):
    """The check: for each seed set `which` of sets(result), on(ev_of(result, which), tol) -> (passed or None, text,
    values); None (the evidence cannot decide) or skip(ev) (a reason) leaves the claim undecided. note(result) ends
    the measured text (what the evidence is)."""
    def check(result, tol) -> Verdict:
        rows, values, oks = [], {}, []
        for which in sets(result):
            ev = ev_of(result, which)
            if skip is not None and (why := skip(ev)) is not None:
                return Verdict(None, expected, why)
            ok, text, vals = on(ev, tol)
            if ok is None:  # this budget cannot decide it (said in text)
                return Verdict(None, expected, f"{which} seeds: {text}: not decided")
            oks.append(bool(ok))
            rows.append(f"{which} seeds ({size(ev)}): {'pass' if ok else 'fail'}: {text}")
            values |= {f"{which},{k}": v for k, v in vals.items()} | {f"{which},passed": bool(ok)}
        agree = "confirmed by the replication" if all(oks) and len(oks) > 1 else (
            "not confirmed: the seed sets disagree" if len(set(oks)) > 1 else "")
        return Verdict(all(oks), expected, "; ".join(rows) + (f" ({agree})" if agree else "") + ". " + note(result),
                       values)
    return check
