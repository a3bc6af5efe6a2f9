"""The report's generated words: each part's sentence counts what holds and says what each fail means; each card
opens with what its verdict means."""
from reports.verdict import SCALE, fail_meaning, opening, part_sentence, regime_reading


def _record(claim_id, status, role="paper", evidence="monte_carlo", meaning="", power=None):
    return {"id": claim_id, "status": status, "role": role, "method": evidence, "meaning": meaning,
            "power": power}


def test_a_cnn_fail_of_a_paper_claim_reads_as_a_smaller_effect_at_our_scale():
    assert fail_meaning(_record("cnn-x", "fail", evidence="cnn")) == SCALE
    assert fail_meaning(_record("mc-x", "fail")) == "against the paper"
    assert "beyond the paper" in fail_meaning(_record("extension-x", "fail", role="extension"))
    assert fail_meaning(_record("cnn-y", "fail", evidence="cnn", meaning="a fault of the paper's numbers")) == \
        "a fault of the paper's numbers"


def test_the_part_sentence_counts_and_groups_the_fails_by_meaning():
    records = [_record("a", "pass"), _record("b", "fail", evidence="cnn"), _record("c", "fail", evidence="cnn"),
               _record("d", "fail"), _record("e", "cannot_fail"), _record("f", "not_run")]
    text = part_sentence("CNN", records)
    assert text.startswith("CNN: 1 of 6 claims pass")
    assert f"2 fail ({SCALE})" in text and "1 fails (against the paper)" in text
    assert "1 cannot be decided" in text and "1 not run" in text


def test_every_status_has_its_opening_and_power_standing_is_said():
    assert opening(_record("a", "pass")).startswith("It holds")
    assert opening(_record("finding-a", "pass", role="finding")).startswith("The finding is confirmed")
    assert opening(_record("a", "cannot_fail")).startswith("Undecided")
    assert opening(_record("a", "not_run")).startswith("Not run")
    fragile = {"seeds": 10, "pass_rate": 0.1, "control_pass_rate": 0.0}
    assert "fragile" in opening(_record("a", "pass", power=fragile))
    robust = {"seeds": 10, "pass_rate": 0.0, "control_pass_rate": 0.0}
    assert "robust" in opening(_record("a", "fail", power=robust))


def _ladder(claim_id, status, slope_low, top, top_low, bar):
    sets = ("decision", "replication")
    values = {f"{w},{k}": v for w in sets for k, v in (("slope_low", slope_low), ("slope", slope_low + 0.05),
                                                       ("slope_high", slope_low + 0.1), ("top", top),
                                                       ("top_low", top_low))}
    return {**_record(claim_id, status), "values": values | {"bar": bar, "paper": 2.0}}


def test_the_cnn_part_says_whether_its_fails_are_the_regime_only_once_the_ladder_decides():
    ladder = ("cnn-ladder-fixed-penalty-grows", "cnn-ladder-negative-gain-grows")
    undecided = regime_reading([_record(ladder[0], "not_run"), _record(ladder[1], "not_run")])
    assert "not decided yet" in undecided and "regime" in undecided
    regime = regime_reading([_ladder(ladder[0], "pass", 0.1, 2.0, 1.8, 1.6), _ladder(ladder[1], "pass", 0.1, 1.6,
                                                                                         1.5, 1.4)])
    assert "the regime, not evidence against the paper" in regime and "does not explain" not in regime
    # Fig. 4-like: the effect at batch 128 (interval above 1), flat in the batch; Fig. 8-like: nowhere
    flat = regime_reading([_ladder(ladder[0], "fail", -0.1, 1.73, 1.59, 1.63),
                           _ladder(ladder[1], "fail", -0.004, 1.0, 1.0, 1.41)])
    assert "the effect is there, smaller than the paper's" in flat and "the batch does not explain" in flat
    assert "above 0 on neither" in flat and "the paper's effect does not appear" in flat
    assert "not evidence against" not in flat
    mixed = _ladder(ladder[0], "fail", -0.1, 1.73, 1.59, 1.63)
    mixed["values"] |= {"replication,slope_low": 0.03}
    assert "the seed sets disagree, so the batch explains at most part" in regime_reading([mixed])
    grows_short = regime_reading([_ladder(ladder[0], "fail", 0.05, 1.3, 1.1, 1.63)])
    assert "grows with the batch but stays short of its bar" in grows_short
