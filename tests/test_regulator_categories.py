"""The regulator category of an adverse event, branch by branch (no database): Oregon's adverse
behavioral/medical reactions (OAR 333-333-1010, regulatory.md 1.6 [R9]), Colorado's adverse
health events (4 CCR 755-1, regulatory.md 2 [C2][C1]) and everywhere else."""

import itertools

import pytest

from communitas.safety.regulator import (
    CATEGORIES,
    CO_ADVERSE_HEALTH_EVENT,
    CO_NOT_REPORTABLE,
    NONE,
    OR_BEHAVIORAL,
    OR_MEDICAL,
    OR_NOT_REPORTABLE,
    OREGON_REPORTABLE,
    regulator_category,
)


def category(jurisdiction="US-OR", kind="behavioral", during=True, ems=False, care=False, hospital=False):
    return regulator_category(
        jurisdiction=jurisdiction,
        kind=kind,
        during_administration=during,
        emergency_services=ems,
        medical_care=care,
        hospital_transport=hospital,
    )


# --- Oregon ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "expected"), [("behavioral", OR_BEHAVIORAL), ("medical", OR_MEDICAL)])
def test_it_counts_a_reaction_during_administration_that_needed_emergency_services(kind, expected):
    assert category(kind=kind, ems=True) == expected


@pytest.mark.parametrize(("kind", "expected"), [("behavioral", OR_BEHAVIORAL), ("medical", OR_MEDICAL)])
def test_it_counts_a_reaction_during_administration_that_needed_a_medical_provider(kind, expected):
    assert category(kind=kind, care=True) == expected


@pytest.mark.parametrize(("kind", "expected"), [("behavioral", OR_BEHAVIORAL), ("medical", OR_MEDICAL)])
def test_it_still_counts_a_reaction_that_ended_in_hospital(kind, expected):
    # "Adverse reaction" (2) excludes hospital transport, but (3)/(4) and the SB 303 count do not.
    assert category(kind=kind, ems=True, care=True, hospital=True) == expected


def test_it_takes_a_hospital_transport_as_care_from_a_medical_provider():
    assert category(kind="medical", hospital=True) == OR_MEDICAL


def test_it_does_not_count_a_reaction_the_team_handled_without_outside_care():
    assert category(kind="behavioral") == OR_NOT_REPORTABLE
    assert category(kind="medical") == OR_NOT_REPORTABLE


@pytest.mark.parametrize(("ems", "care", "hospital"), [(True, False, False), (False, True, False), (True, True, True)])
def test_it_does_not_count_a_reaction_outside_an_administration_session(ems, care, hospital):
    for kind in ("behavioral", "medical"):
        assert category(kind=kind, during=False, ems=ems, care=care, hospital=hospital) == OR_NOT_REPORTABLE


def test_it_reads_the_jurisdiction_code_whatever_its_case_and_spacing():
    assert category(jurisdiction=" us-or ", ems=True) == OR_BEHAVIORAL


def test_it_reports_to_oregon_exactly_when_both_limbs_hold():
    for kind, during, ems, care, hospital in itertools.product(("behavioral", "medical"), *[(False, True)] * 4):
        code = category(kind=kind, during=during, ems=ems, care=care, hospital=hospital)
        assert (code in OREGON_REPORTABLE) == (during and (ems or care or hospital))


# --- Colorado ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ems", "care", "hospital"), [(True, False, False), (False, True, False), (False, False, True)]
)
def test_it_calls_care_or_emergency_services_an_adverse_health_event_in_colorado(ems, care, hospital):
    for kind in ("behavioral", "medical"):
        assert category("US-CO", kind=kind, ems=ems, care=care, hospital=hospital) == CO_ADVERSE_HEALTH_EVENT


def test_it_does_not_need_an_administration_session_in_colorado():
    assert category("US-CO", during=False, care=True) == CO_ADVERSE_HEALTH_EVENT


def test_it_leaves_a_colorado_event_without_care_below_the_threshold():
    assert category("US-CO", kind="medical", during=True) == CO_NOT_REPORTABLE


# --- elsewhere ---------------------------------------------------------------------------------


@pytest.mark.parametrize("jurisdiction", ["US-NM", "US-WA", "CA-BC", "AU", "", "OR", "CO"])
def test_it_has_no_category_outside_oregon_and_colorado(jurisdiction):
    assert category(jurisdiction, ems=True, care=True, hospital=True) == NONE


def test_it_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="catastrophic"):
        category(kind="catastrophic", ems=True)


def test_it_fits_every_code_in_the_stored_column():
    assert all(len(code) <= 40 for code in CATEGORIES)
