"""The pure facilitator rules: where a credential counts, who may facilitate in Oregon, Colorado
and elsewhere, who is medically qualified, and which credentials lapse soon. No database."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest

from communitas.facilitators import rules
from communitas.facilitators.models import Credential
from communitas.facilitators.rules import (
    CredentialFacts,
    credential_valid,
    expiry_warnings,
    licence_gaps,
    licence_problem,
    licence_status,
    licensed_to_facilitate,
    medically_qualified,
    training_hours_met,
    training_totals,
)

TODAY = date(2026, 6, 15)
START = date(2026, 1, 1)
END = date(2026, 12, 31)


def cred(kind, jurisdiction="US-OR", valid_from=START, valid_to=END):
    return CredentialFacts(kind=kind, issuing_jurisdiction=jurisdiction, valid_from=valid_from, valid_to=valid_to)


OREGON_LICENCE = cred("oregon_facilitator_license")
CO_FACILITATOR = cred("colorado_facilitator", "US-CO")
CO_CLINICAL = cred("colorado_clinical_facilitator", "US-CO")
BLS = cred("bls_cpr", "US")


# --- every kind is classified ----------------------------------------------------------------


def test_it_classifies_every_credential_kind_the_model_offers():
    assert set(Credential.Kind.values) == rules.KINDS


def test_it_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="unknown credential kind"):
        credential_valid(cred("shaman_diploma"), jurisdiction="US-OR", on=TODAY)


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "valid"),
    [
        (START - timedelta(days=1), False),
        (START, True),
        (TODAY, True),
        (END, True),
        (END + timedelta(days=1), False),
    ],
    ids=["day before it starts", "first day", "in the middle", "last day", "day after it ends"],
)
def test_it_counts_a_credential_on_both_edge_days_and_not_beyond(on, valid):
    assert credential_valid(OREGON_LICENCE, jurisdiction="US-OR", on=on) is valid


def test_it_counts_a_credential_without_an_end_date_forever_after_it_starts():
    lifelong = cred("ceremonial_lineage", "PE", valid_to=None)

    assert credential_valid(lifelong, jurisdiction="PE", on=date(2090, 1, 1))
    assert not credential_valid(lifelong, jurisdiction="PE", on=START - timedelta(days=1))


# --- jurisdictions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("credential", "jurisdiction", "valid"),
    [
        (OREGON_LICENCE, "US-OR", True),
        (OREGON_LICENCE, "us-or", True),
        (OREGON_LICENCE, " US-OR ", True),
        (OREGON_LICENCE, "US-CO", False),
        (OREGON_LICENCE, "US", False),
        (OREGON_LICENCE, "", False),
        (CO_FACILITATOR, "US-CO", True),
        (CO_FACILITATOR, "US-OR", False),
        (CO_CLINICAL, "US-CO", True),
        (CO_CLINICAL, "US-NM", False),
        # A state licence counts only in its own state, whatever was typed as its issuer.
        (cred("oregon_facilitator_license", "US-CO"), "US-CO", False),
        (cred("oregon_facilitator_license", "US-CO"), "US-OR", True),
        # Professional licences count only where issued.
        (cred("physician", "US-CA"), "US-CA", True),
        (cred("physician", "US-CA"), "US-OR", False),
        (cred("psychologist", "US-OR"), "US-OR", True),
        (cred("psychologist", "US-OR"), "US-WA", False),
        (cred("nurse_practitioner", "US-NM"), "US-NM", True),
        (cred("registered_nurse", "US-WA"), "US-OR", False),
        # A national licence (country code) counts across that country, not abroad.
        (cred("physician", "NL"), "NL", True),
        (cred("physician", "NL"), "NL-NH", True),
        (cred("physician", "NL"), "DE-BE", False),
        (cred("physician", "NL-NH"), "NL", False),
        (cred("physician", "US"), "USA-X", False),
        (cred("other", "US-OR"), "US-OR", True),
        (cred("other", "US-OR"), "US-CO", False),
        # Certifications and lineages are not jurisdiction licences: they hold anywhere.
        (BLS, "US-CO", True),
        (cred("bls_cpr", "CA-BC"), "US-CO", True),
        (cred("ceremonial_lineage", "PE"), "JM", True),
        (cred("peer_support_certification", "US-OR"), "US-CO", True),
        (cred("peer_support_certification", "US-OR"), "", True),
    ],
)
def test_it_counts_a_credential_only_where_it_holds(credential, jurisdiction, valid):
    assert credential_valid(credential, jurisdiction=jurisdiction, on=TODAY) is valid


# --- licensed to facilitate ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("credentials", "licensed"),
    [
        ([OREGON_LICENCE], True),
        ([OREGON_LICENCE, cred("physician", "US-OR")], True),
        ([cred("physician", "US-OR")], False),  # HB 2387: clinicians need the facilitator licence too
        ([cred("psychologist", "US-OR"), BLS], False),
        ([CO_FACILITATOR, BLS], False),
        ([cred("oregon_facilitator_license", valid_to=TODAY - timedelta(days=1))], False),
        ([cred("oregon_facilitator_license", valid_from=TODAY + timedelta(days=1))], False),
        ([cred("oregon_facilitator_license", valid_to=TODAY)], True),
        ([], False),
    ],
)
def test_oregon_needs_a_current_oregon_facilitator_licence(credentials, licensed):
    assert licensed_to_facilitate(credentials, jurisdiction="US-OR", on=TODAY) is licensed


@pytest.mark.parametrize(
    ("credentials", "gaps"),
    [
        ([CO_FACILITATOR, BLS], ()),
        ([CO_CLINICAL, BLS], ()),
        ([CO_FACILITATOR], (rules.GAP_BLS,)),
        ([CO_CLINICAL], (rules.GAP_BLS,)),
        ([CO_FACILITATOR, cred("bls_cpr", valid_to=TODAY - timedelta(days=1))], (rules.GAP_BLS,)),
        ([CO_FACILITATOR, cred("bls_cpr", valid_to=TODAY)], ()),
        ([BLS], (rules.GAP_COLORADO_LICENCE,)),
        ([OREGON_LICENCE, BLS], (rules.GAP_COLORADO_LICENCE,)),
        ([cred("physician", "US-CO"), BLS], (rules.GAP_COLORADO_LICENCE,)),
        (
            [cred("colorado_facilitator", "US-CO", valid_to=TODAY - timedelta(days=1)), BLS],
            (rules.GAP_COLORADO_LICENCE,),
        ),
        ([], (rules.GAP_COLORADO_LICENCE, rules.GAP_BLS)),
    ],
)
def test_colorado_needs_a_facilitator_licence_and_current_basic_life_support(credentials, gaps):
    assert licence_gaps(credentials, jurisdiction="US-CO", on=TODAY) == gaps
    assert licensed_to_facilitate(credentials, jurisdiction="US-CO", on=TODAY) is (gaps == ())


@pytest.mark.parametrize(
    ("credentials", "jurisdiction", "accepted", "licensed"),
    [
        ([cred("physician", "US-WA")], "US-WA", None, True),
        ([cred("psychologist", "US-WA")], "US-WA", None, True),
        ([cred("registered_nurse", "US-WA")], "US-WA", None, True),
        ([cred("psychologist", "US-OR")], "US-WA", None, False),
        ([OREGON_LICENCE], "US-WA", None, False),
        ([OREGON_LICENCE], "US-WA", {"oregon_facilitator_license"}, False),
        ([cred("ceremonial_lineage", "PE")], "JM", None, False),
        ([cred("ceremonial_lineage", "PE")], "JM", {"ceremonial_lineage"}, True),
        ([cred("physician", "JM")], "JM", {"ceremonial_lineage"}, False),
        ([cred("physician", "NL")], "NL-NH", None, True),
        ([cred("other", "JM")], "JM", None, False),
        ([cred("other", "JM")], "JM", {"other"}, True),
        ([cred("physician", "US-WA", valid_to=TODAY - timedelta(days=1))], "US-WA", None, False),
    ],
)
def test_elsewhere_a_valid_professional_licence_or_the_organizations_policy_decides(
    credentials, jurisdiction, accepted, licensed
):
    got = licensed_to_facilitate(credentials, jurisdiction=jurisdiction, on=TODAY, accepted_kinds=accepted)

    assert got is licensed


def test_without_a_jurisdiction_nobody_is_licensed():
    assert licence_gaps([OREGON_LICENCE, cred("physician", "US-OR")], jurisdiction="", on=TODAY) == (
        rules.GAP_NO_JURISDICTION,
    )


def test_it_explains_a_licence_problem_in_words_for_staffing_checks():
    assert licence_problem([OREGON_LICENCE], jurisdiction="US-OR", on=TODAY) == ""
    assert "Oregon facilitator licence" in licence_problem([], jurisdiction="US-OR", on=TODAY)
    both = licence_problem([], jurisdiction="US-CO", on=TODAY)
    assert "Colorado facilitator" in both
    assert "Basic Life Support" in both


# --- medically qualified ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "qualified"),
    [
        ("physician", True),
        ("nurse_practitioner", True),
        ("registered_nurse", True),
        ("colorado_clinical_facilitator", True),
        ("colorado_facilitator", False),
        ("oregon_facilitator_license", False),
        ("psychologist", False),
        ("bls_cpr", False),
        ("peer_support_certification", False),
        ("ceremonial_lineage", False),
        ("other", False),
    ],
)
def test_it_counts_physicians_nurses_and_colorado_clinical_facilitators_as_medically_qualified(kind, qualified):
    jurisdiction = "US-CO" if kind.startswith("colorado") else "US-OR"

    assert medically_qualified([cred(kind, jurisdiction)], on=TODAY) is qualified


@pytest.mark.parametrize(
    ("on", "qualified"),
    [(START - timedelta(days=1), False), (START, True), (END, True), (END + timedelta(days=1), False)],
)
def test_it_counts_medical_qualification_only_while_the_licence_is_in_date(on, qualified):
    assert medically_qualified([cred("registered_nurse")], on=on) is qualified


def test_it_checks_where_a_medical_licence_holds_when_asked():
    nurse = cred("registered_nurse", "US-WA")

    assert medically_qualified([nurse], on=TODAY)
    assert medically_qualified([nurse], on=TODAY, jurisdiction="US-WA")
    assert not medically_qualified([nurse], on=TODAY, jurisdiction="US-OR")
    assert not medically_qualified([CO_CLINICAL], on=TODAY, jurisdiction="US-OR")


# --- expiry warnings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_left", "level"),
    [(61, None), (60, "60"), (31, "60"), (30, "30"), (1, "30"), (0, "30"), (-1, "expired"), (-400, "expired")],
)
def test_it_warns_60_and_30_days_ahead_and_after_expiry(days_left, level):
    licence = cred("oregon_facilitator_license", valid_from=date(2025, 1, 1), valid_to=TODAY + timedelta(days_left))

    warnings = expiry_warnings([licence], today=TODAY)

    if level is None:
        assert warnings == []
    else:
        assert warnings == [(licence, days_left, level)]
        assert warnings[0].days_ago == -days_left


def test_it_never_warns_about_a_credential_without_an_end_date():
    assert expiry_warnings([cred("ceremonial_lineage", "PE", valid_to=None)], today=TODAY) == []


def test_it_lists_warnings_soonest_first():
    later = cred("physician", valid_to=TODAY + timedelta(days=50))
    expired = cred("bls_cpr", "US", valid_to=TODAY - timedelta(days=3))
    soon = cred("oregon_facilitator_license", valid_to=TODAY + timedelta(days=10))

    warnings = expiry_warnings([later, expired, soon], today=TODAY)

    assert [(w.credential, w.level) for w in warnings] == [(expired, "expired"), (soon, "30"), (later, "60")]


def test_it_stops_warning_once_a_renewal_is_on_file():
    old = cred("oregon_facilitator_license", valid_from=date(2025, 7, 1), valid_to=date(2026, 6, 30))
    renewal = cred("oregon_facilitator_license", valid_from=date(2026, 7, 1), valid_to=date(2027, 6, 30))

    assert expiry_warnings([old, renewal], today=TODAY) == []


def test_it_keeps_warning_when_the_renewal_leaves_a_gap_that_has_not_closed():
    old = cred("oregon_facilitator_license", valid_from=date(2025, 7, 1), valid_to=date(2026, 6, 30))
    late = cred("oregon_facilitator_license", valid_from=date(2026, 8, 1), valid_to=date(2027, 7, 31))

    assert [w.credential for w in expiry_warnings([old, late], today=TODAY)] == [old]
    assert expiry_warnings([old, late], today=date(2026, 8, 1)) == []


@pytest.mark.parametrize(
    "other",
    [
        cred("physician", "US-OR", valid_to=date(2027, 6, 30)),  # another kind
        cred("registered_nurse", "US-WA", valid_to=date(2027, 6, 30)),  # another kind and place
        cred("oregon_facilitator_license", valid_to=date(2026, 6, 30)),  # ends no later
    ],
)
def test_it_does_not_take_another_credential_for_a_renewal(other):
    old = cred("oregon_facilitator_license", valid_to=date(2026, 6, 30))

    assert old in [w.credential for w in expiry_warnings([old, other], today=TODAY)]


def test_it_does_not_take_a_licence_from_another_state_for_a_renewal():
    old = cred("physician", "US-OR", valid_to=date(2026, 6, 30))
    elsewhere = cred("physician", "US-WA", valid_from=date(2026, 7, 1), valid_to=date(2027, 6, 30))

    assert [w.credential for w in expiry_warnings([old, elsewhere], today=TODAY)] == [old]


# --- status and training ---------------------------------------------------------------------


def test_it_sums_up_a_persons_status_with_the_worst_warning():
    soon = cred("oregon_facilitator_license", valid_to=TODAY + timedelta(days=20))
    nurse = cred("registered_nurse", valid_to=TODAY + timedelta(days=45))

    status = licence_status([soon, nurse], jurisdiction="us-or", today=TODAY)

    assert status.jurisdiction == "US-OR"
    assert status.licensed and status.gaps == ()
    assert status.medically_qualified
    assert [w.level for w in status.warnings] == ["30", "60"]
    assert status.worst_level == "30"
    assert licence_status([], jurisdiction="US-OR", today=TODAY).worst_level is None


def test_it_works_on_any_object_with_the_credential_attributes():
    @dataclass
    class Row:
        kind: str
        issuing_jurisdiction: str
        valid_from: date
        valid_to: date | None

    assert licensed_to_facilitate(
        [Row("oregon_facilitator_license", "US-OR", START, END)], jurisdiction="US-OR", on=TODAY
    )


@dataclass
class T:
    hours: Decimal
    practicum_hours: Decimal


def test_it_adds_up_training_hours_and_compares_them_with_the_state_minimum():
    oregon = [T(Decimal("100"), Decimal("40")), T(Decimal("20.5"), Decimal(0))]

    assert training_totals(oregon) == (Decimal("120.5"), Decimal("40"))
    assert training_hours_met(oregon, jurisdiction="US-OR") is True
    assert training_hours_met(oregon[:1], jurisdiction="US-OR") is False
    assert training_hours_met([T(Decimal(150), Decimal(0))], jurisdiction="US-CO") is True
    assert training_hours_met([T(Decimal("149.9"), Decimal(0))], jurisdiction="US-CO") is False
    assert training_hours_met(oregon, jurisdiction="JM") is None
    assert training_totals([]) == (Decimal(0), Decimal(0))
