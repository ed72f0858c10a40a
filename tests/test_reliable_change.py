"""Jacobson-Truax reliable change, with the worked figures of clinical.md §2.14."""

import pytest

from communitas.outcomes.change import ChangeNotAvailable, reliable_change
from communitas.outcomes.definitions import get_builtin


def test_it_uses_the_phq9_threshold_of_5_61_points():
    phq9 = get_builtin("phq9")
    assert reliable_change(phq9, 20, 14).threshold == pytest.approx(5.61, abs=0.01)
    assert reliable_change(phq9, 20, 14).category == "reliably_improved"
    assert reliable_change(phq9, 20, 15).category == "no_reliable_change"
    assert reliable_change(phq9, 8, 14).category == "reliably_deteriorated"


def test_it_reports_recovery_only_across_the_cutoff():
    phq9 = get_builtin("phq9")
    assert reliable_change(phq9, 14, 8).clinical == "recovered"
    assert reliable_change(phq9, 24, 17).clinical == "improved"
    assert reliable_change(phq9, 8, 14).clinical == "deteriorated"
    assert reliable_change(phq9, 12, 9).clinical == "unchanged"


def test_it_records_what_it_used():
    result = reliable_change(get_builtin("phq9"), 20, 10).as_dict()
    assert (result["sd"], result["reliability"], result["reliability_kind"]) == (6.1, 0.89, "alpha")
    assert result["rci"] == pytest.approx(-10 / 2.8609, abs=0.001)
    assert "KRO01" in result["source"]


def test_it_says_when_an_instrument_has_no_reliable_change_data():
    without = get_builtin("phq9").model_copy(update={"reliable_change": None})
    with pytest.raises(ChangeNotAvailable, match="no reliable-change data"):
        reliable_change(without, 20, 10)


def test_it_uses_the_pcl5_threshold_of_10_31_points():
    pcl5 = get_builtin("pcl5")
    assert reliable_change(pcl5, 50, 40).threshold == pytest.approx(10.31, abs=0.01)
    assert reliable_change(pcl5, 50, 39).category == "reliably_improved"
    assert reliable_change(pcl5, 50, 40).category == "no_reliable_change"
    assert reliable_change(pcl5, 45, 30).clinical == "recovered"


def test_it_knows_higher_is_better_for_who5():
    who5 = get_builtin("who5")
    result = reliable_change(who5, 40, 52)
    assert (result.method, result.threshold, result.improvement) == ("published_threshold", 10, 12)
    assert (result.category, result.clinical) == ("reliably_improved", "recovered")
    assert reliable_change(who5, 60, 48).category == "reliably_deteriorated"


def test_it_has_no_reliable_change_for_qids_without_an_sd():
    with pytest.raises(ChangeNotAvailable):
        reliable_change(get_builtin("qidssr16"), 14, 5)
