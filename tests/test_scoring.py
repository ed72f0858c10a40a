"""Scoring through the CLI (`communitas score CODE ANSWERS --json`): the DERIVED oracles of
clinical.md Part 3.1, then the same edge cases for every shipped instrument."""

import io
import itertools
import json

import pytest
from django.core.management import call_command

from communitas.outcomes.definitions import builtin_instruments
from communitas.outcomes.scoring import answers_from_list, score, subscale_percents


def _text(answers) -> str:
    if isinstance(answers, str):
        return answers
    return ",".join("" if a is None else str(a) for a in answers)


def run(code: str, answers) -> dict:
    out = io.StringIO()
    call_command("score", code, _text(answers), json=True, stdout=out)
    return json.loads(out.getvalue())


def fails(code: str, answers) -> str:
    """The command exits 2 with one line on stderr; returns that line."""
    err = io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("score", code, _text(answers), json=True, stdout=io.StringIO(), stderr=err)
    assert exc.value.code == 2
    message = err.getvalue()
    assert message.startswith("error: ")
    assert message.endswith("\n") and message.count("\n") == 1
    return message.strip()


def with_total(total: int, n: int = 9, high: int = 3, avoid: int | None = 9) -> list[int]:
    """n answers summing to ``total``, filled greedily from item 1; item ``avoid`` stays 0."""
    answers = [0] * n
    left = total
    for k in range(n):
        if k + 1 == avoid:
            continue
        answers[k] = min(high, left)
        left -= answers[k]
    assert left == 0
    return answers


# ------------------------------------------------------------------------------ Part 3.1 oracles


def test_it_scores_phq9_all_ones_as_mild_with_a_safety_flag():
    result = run("phq9", [1] * 9)
    assert (result["total"], result["band"]) == (9, "mild")
    assert result["complete"] is True
    assert result["flags"] == ["phq9_item9_positive"]
    assert result["above_screening_cutoff"] is False


@pytest.mark.parametrize(("value", "total", "band"), [(0, 0, "minimal"), (3, 27, "severe")])
def test_it_scores_phq9_floor_and_ceiling(value, total, band):
    result = run("phq9", [value] * 9)
    assert (result["total"], result["band"]) == (total, band)


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
    ],
)
def test_it_puts_phq9_band_boundaries_in_the_right_band(total, band):
    result = run("phq9", with_total(total))
    assert (result["total"], result["band"]) == (total, band)
    assert result["flags"] == []
    assert result["above_screening_cutoff"] is (total >= 10)


def test_it_scores_gad7_all_twos_as_moderate_and_above_the_screening_cut():
    result = run("gad7", [2] * 7)
    assert (result["total"], result["band"]) == (14, "moderate")
    assert result["above_screening_cutoff"] is True


@pytest.mark.parametrize(
    ("total", "band", "above"),
    [(4, "minimal", False), (5, "mild", False), (9, "mild", False), (10, "moderate", True), (15, "severe", True)],
)
def test_it_bands_gad7_totals(total, band, above):
    result = run("gad7", with_total(total, n=7, avoid=None))
    assert (result["total"], result["band"], result["above_screening_cutoff"]) == (total, band, above)


def test_it_scores_pcl5_all_twos_as_provisional_ptsd():
    result = run("pcl5", [2] * 20)
    assert result["total"] == 40
    assert result["subscales"] == {"b_intrusion": 10, "c_avoidance": 4, "d_negative_mood": 14, "e_arousal": 12}
    assert result["provisional_ptsd"] is True
    assert result["probable_ptsd"] is True
    assert result["band"] is None


def test_it_denies_pcl5_provisional_ptsd_when_only_intrusion_is_endorsed():
    result = run("pcl5", [4] * 5 + [0] * 15)
    assert result["total"] == 20
    assert result["subscales"] == {"b_intrusion": 20, "c_avoidance": 0, "d_negative_mood": 0, "e_arousal": 0}
    assert result["provisional_ptsd"] is False
    assert result["probable_ptsd"] is False


def test_it_counts_pcl5_items_rated_two_or_more_as_endorsed():
    # B 1, C 1, D 2, E 2 items at exactly 2; every other item 1 (not endorsed).
    answers = [1] * 20
    for item in (1, 6, 8, 9, 15, 16):
        answers[item - 1] = 2
    assert run("pcl5", answers)["provisional_ptsd"] is True
    answers[16 - 1] = 1  # E now has only one endorsed item
    assert run("pcl5", answers)["provisional_ptsd"] is False


@pytest.mark.parametrize(("total", "probable"), [(32, False), (33, True)])
def test_it_applies_the_pcl5_probable_ptsd_threshold_inclusively(total, probable):
    assert run("pcl5", with_total(total, n=20, high=4, avoid=None))["probable_ptsd"] is probable


def test_it_scores_who5_all_threes_as_sixty_percent():
    result = run("who5", [3] * 5)
    assert (result["total"], result["raw"], result["band"]) == (60, 15, "adequate")
    assert result["flags"] == []


def test_it_flags_who5_all_twos_as_poor_wellbeing():
    result = run("who5", [2] * 5)
    assert (result["total"], result["raw"], result["band"]) == (40, 10, "poor_wellbeing")
    assert result["flags"] == ["who5_poor_wellbeing"]


@pytest.mark.parametrize(("raw", "flagged"), [(12, True), (13, False)])
def test_it_draws_the_who5_poor_wellbeing_line_below_raw_thirteen(raw, flagged):
    result = run("who5", with_total(raw, n=5, high=5, avoid=None))
    assert (result["raw"], result["total"]) == (raw, raw * 4)
    assert ("who5_poor_wellbeing" in result["flags"]) is flagged
    assert result["band"] == ("poor_wellbeing" if flagged else "adequate")


def test_it_calls_meq30_all_threes_a_complete_mystical_experience():
    result = run("meq30", [3] * 30)
    assert result["subscales"] == {"mystical": 3, "positive_mood": 3, "transcendence": 3, "ineffability": 3}
    assert result["total"] == 3
    assert result["complete_mystical_experience"] is True
    instrument = builtin_instruments()["meq30"]
    percents = subscale_percents(instrument, score(instrument, answers_from_list(instrument, [3] * 30)))
    assert set(percents.values()) == {0.6}


def test_it_denies_a_complete_mystical_experience_when_ineffability_is_forty_percent():
    answers = [3] * 30
    for item in (3, 10, 29):
        answers[item - 1] = 2
    result = run("meq30", answers)
    assert result["subscales"]["ineffability"] == 2
    assert result["complete_mystical_experience"] is False
    instrument = builtin_instruments()["meq30"]
    percents = subscale_percents(instrument, score(instrument, answers_from_list(instrument, answers)))
    assert percents["ineffability"] == 0.4


def test_it_scores_ceq_all_ones_as_every_factor_one():
    result = run("ceq", [1] * 26)
    assert result["total"] == 1
    assert result["subscales"] == {
        "fear": 1,
        "grief": 1,
        "physical_distress": 1,
        "insanity": 1,
        "isolation": 1,
        "death": 1,
        "paranoia": 1,
    }
    instrument = builtin_instruments()["ceq"]
    percents = subscale_percents(instrument, score(instrument, answers_from_list(instrument, [1] * 26)))
    assert set(percents.values()) == {0.2}


def test_it_scores_ptgi_all_fives_with_factor_sums():
    result = run("ptgi", [5] * 21)
    assert result["total"] == 105
    assert result["subscales"] == {
        "relating_to_others": 35,
        "new_possibilities": 25,
        "personal_strength": 20,
        "spiritual_change": 10,
        "appreciation_of_life": 15,
    }


def test_it_scores_qids_by_domain_maxima():
    sleep, sad_mood, appetite, items_10_to_14, psychomotor = [1, 3, 0, 0], [2], [0, 2, 0, 1], [1] * 5, [0, 2]
    answers = [*sleep, *sad_mood, *appetite, *items_10_to_14, *psychomotor]
    result = run("qidssr16", answers)
    assert (result["total"], result["band"]) == (14, "moderate")
    assert result["flags"] == ["qidssr16_item12_positive"]


@pytest.mark.parametrize(
    ("total", "band"),
    [(5, "none"), (6, "mild"), (10, "mild"), (11, "moderate"), (15, "moderate"), (16, "severe"), (21, "very_severe")],
)
def test_it_bands_qids_totals(total, band):
    # One item per domain carries the score (items 1, 5, 6, 10, 11, 13, 14, 15; item 12 stays 0).
    answers = [0] * 16
    left = total
    for item in (1, 5, 6, 10, 11, 13, 14, 15):
        answers[item - 1] = min(3, left)
        left -= answers[item - 1]
    assert left == 0
    result = run("qidssr16", answers)
    assert (result["total"], result["band"], result["flags"]) == (total, band, [])


def test_it_scores_ebi_as_the_mean_and_reports_the_sum():
    result = run("ebi", [10, 20, 30, 40, 50, 60])
    assert (result["total"], result["sum"]) == (35, 210)


def test_it_accepts_fractional_vas_answers():
    assert run("ebi", [55.5] * 6)["total"] == 55.5


def test_it_sums_ucla3():
    result = run("ucla3", [1, 2, 3])
    assert (result["total"], result["band"]) == (6, None)


# ------------------------------------------------------------------------------ reverse keying, optional items


def test_it_reverse_keys_wcs_item_7_so_100_contributes_0():
    others_keyed_low = [100, 100, 0, 0, 100, 100]  # items 7-12: 7, 8, 11, 12 reversed
    result = run("wcs", [50] * 6 + others_keyed_low + [50] * 7)
    assert result["subscales"] == {"self": 50, "others": 0, "world": 50}
    answers = [50] * 6 + [0, 100, 0, 0, 100, 100] + [50] * 7
    assert run("wcs", answers)["subscales"]["others"] == pytest.approx(100 / 6, abs=1e-6)


def test_it_reaches_the_wcs_floor_and_ceiling_only_through_reverse_keying():
    reversed_items = {7, 8, 11, 12}
    lowest = [100 if k in reversed_items else 0 for k in range(1, 20)]
    highest = [0 if k in reversed_items else 100 for k in range(1, 20)]
    assert run("wcs", lowest)["total"] == 0
    assert run("wcs", highest)["total"] == 100


@pytest.mark.parametrize(("code", "n"), [("phq9", 9), ("gad7", 7)])
def test_it_accepts_the_optional_difficulty_item_without_changing_the_total(code, n):
    without = run(code, [2] * n)
    assert without["complete"] is True
    for difficulty in range(4):
        with_item = run(code, [2] * n + [difficulty])
        assert with_item["total"] == without["total"]
        assert with_item["band"] == without["band"]
        assert with_item["complete"] is True
    assert run(code, [2] * n + [None])["total"] == without["total"]


def test_it_rejects_an_out_of_range_difficulty_answer():
    assert "phq9 item 10: 4 is out of range" in fails("phq9", [0] * 9 + [4])


# ------------------------------------------------------------------------------ every instrument

# code: (required answers, lowest answer, highest answer, total at all-lowest, total at all-highest)
RANGES = {
    "phq9": (9, 0, 3, 0, 27),
    "gad7": (7, 0, 3, 0, 21),
    "pcl5": (20, 0, 4, 0, 80),
    "who5": (5, 0, 5, 0, 100),
    "meq30": (30, 0, 5, 0, 5),
    "ceq": (26, 0, 5, 0, 5),
    "ebi": (6, 0, 100, 0, 100),
    "wcs": (19, 0, 100, round(400 / 19, 6), round(1500 / 19, 6)),  # items 7, 8, 11, 12 are reverse-keyed
    "ucla3": (3, 1, 3, 3, 9),
    "ptgi": (21, 0, 5, 0, 105),
    "qidssr16": (16, 0, 3, 0, 27),
}


def test_it_covers_every_shipped_instrument():
    assert set(RANGES) == set(builtin_instruments())


@pytest.mark.parametrize("code", sorted(RANGES))
def test_it_scores_all_minimum_and_all_maximum_answers(code):
    n, low, high, total_low, total_high = RANGES[code]
    instrument = builtin_instruments()[code]
    lowest, highest = run(code, [low] * n), run(code, [high] * n)
    assert (lowest["total"], highest["total"]) == (total_low, total_high)
    assert lowest["complete"] and highest["complete"]
    assert lowest["missing_items"] == highest["missing_items"] == []
    assert all(v is not None for v in lowest["subscales"].values())
    if instrument.bands:
        assert lowest["band"] == instrument.bands[0].code
        assert highest["band"] == instrument.bands[-1].code
        assert instrument.band_for(total_low) and instrument.band_for(total_high)
    else:
        assert lowest["band"] is highest["band"] is None


BANDED = ["gad7", "phq9", "qidssr16", "who5"]  # PCL-5 has none on purpose (NCPTSD: no empirical severity bands)


def test_it_bands_only_the_instruments_with_published_bands():
    assert sorted(code for code, instrument in builtin_instruments().items() if instrument.bands) == BANDED


@pytest.mark.parametrize("code", BANDED)
def test_it_covers_the_whole_score_range_with_bands_without_gaps(code):
    instrument = builtin_instruments()[code]
    _, _, _, total_low, total_high = RANGES[code]
    bands = instrument.bands
    assert bands[0].min == total_low and bands[-1].max == total_high
    assert all(a.max + 1 == b.min for a, b in itertools.pairwise(bands))


@pytest.mark.parametrize("code", sorted(RANGES))
def test_it_leaves_the_total_empty_when_a_required_item_is_missing(code):
    n, _, high, _, _ = RANGES[code]
    instrument = builtin_instruments()[code]
    answers: list = [high] * n
    answers[0] = None
    result = run(code, answers)
    assert result["complete"] is False
    assert result["total"] is None
    assert result["band"] is None
    assert result["missing_items"] == ["1"]
    for subscale in instrument.subscales:
        assert (result["subscales"][subscale.code] is None) is ("1" in subscale.items)
    for extra in instrument.extras:
        assert result[extra.name] is None, extra.name
    # Safety flags still page a human: every other answer is at its maximum, so each safety item is positive.
    assert result["flags"] == [f.code for f in instrument.flags if f.kind == "safety"]


@pytest.mark.parametrize(("code", "n", "safety_item"), [("phq9", 9, 9), ("qidssr16", 16, 12)])
def test_it_raises_the_safety_flag_on_an_otherwise_empty_response(code, n, safety_item):
    answers: list = [None] * n
    answers[safety_item - 1] = 1
    result = run(code, answers)
    assert result["total"] is None
    assert len(result["missing_items"]) == n - 1
    assert result["flags"] == [f"{code}_item{safety_item}_positive"]


@pytest.mark.parametrize("code", sorted(RANGES))
def test_it_rejects_an_answer_above_the_range(code):
    n, _, high, _, _ = RANGES[code]
    answers = [high] * n
    answers[1] = high + 1
    message = fails(code, answers)
    assert f"{code} item 2: {high + 1} is out of range" in message


@pytest.mark.parametrize("code", sorted(RANGES))
def test_it_rejects_an_answer_below_the_range(code):
    n, low, _, _, _ = RANGES[code]
    answers = [low] * n
    answers[1] = low - 1
    assert f"{code} item 2: {low - 1} is out of range" in fails(code, answers)


@pytest.mark.parametrize("code", sorted(RANGES))
def test_it_rejects_a_non_number_answer(code):
    n, low, _, _, _ = RANGES[code]
    answers: list = [low] * n
    answers[2] = "often"
    assert "answer 3: 'often' is not a number" in fails(code, answers)


@pytest.mark.parametrize("code", sorted(RANGES))
@pytest.mark.parametrize("delta", [-1, 1])
def test_it_rejects_a_wrong_number_of_answers(code, delta):
    n, low, _, _, _ = RANGES[code]
    count = n - 1 if delta < 0 else len(builtin_instruments()[code].items) + 1
    assert f"got {count} answers" in fails(code, [low] * count)


def test_it_rejects_a_fractional_answer_to_a_choice_item():
    assert "phq9 item 1: 1.5 is out of range (allowed: 0, 1, 2, 3)" in fails("phq9", [1.5] + [0] * 8)


def test_it_rejects_an_unknown_instrument_code():
    message = fails("bdi2", "0,0,0")
    assert "unknown instrument 'bdi2'" in message
    assert "phq9" in message
