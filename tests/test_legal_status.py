"""The legal-status registry: layered rows (country, state, local) evaluated per framework and
date, the shipped rows from regulatory.md 5, and the rows admins add."""

from __future__ import annotations

import datetime
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from communitas.compliance.legal import program_lawfulness
from communitas.compliance.legal_status import (
    FRAMEWORKS,
    LegalStatusInputError,
    StatusRow,
    evaluate,
    shipped_rows,
)
from communitas.compliance.models import LegalStatusRow
from communitas.compliance.selectors import lawfulness_get, legal_status_rows
from communitas.compliance.services import legal_status_row_add
from communitas.core.models import AuditEntry
from tests.factories import make_user

TODAY = datetime.date(2026, 11, 26)


def shipped(jurisdiction: str, substance: str, framework: str, on: datetime.date = TODAY):
    return evaluate(jurisdiction=jurisdiction, substance=substance, framework=framework, on=on, rows=shipped_rows())


def row(row_id: str, jurisdiction: str, *statuses: str, **fields: Any) -> StatusRow:
    return StatusRow(
        id=row_id,
        jurisdiction=jurisdiction,
        substance=fields.pop("substance", "psilocybin"),
        statuses=list(statuses),
        legal_basis=fields.pop("legal_basis", f"{jurisdiction} law"),
        source=fields.pop("source", "test"),
        **fields,
    )


# --- the shipped rows ---------------------------------------------------------------------------


def test_it_finds_oregon_psilocybin_lawful_at_a_licensed_service_center():
    answer = shipped("US-OR", "psilocybin", "licensed_service_center")
    assert answer.lawful and answer.decided_by == "US-OR"
    assert [(layer.jurisdiction, layer.verdict) for layer in answer.layers_used] == [
        ("US", "prohibits"),
        ("US-OR", "permits"),
    ]
    assert "ORS 475A; OAR 333-333" in answer.explanation
    federal = [c for c in answer.caveats if c.startswith("The country layer (US")]
    assert federal and "not under US law" in federal[0] and "21 CFR 1308.11" in federal[0]
    assert any(c.startswith("Conditions (US-OR): Adults 21+") for c in answer.caveats)


def test_it_finds_oregon_mdma_lawful_only_in_an_ind_trial():
    for framework in FRAMEWORKS:
        answer = shipped("US-OR", "mdma", framework)
        assert answer.lawful is (framework == "clinical_trial_ind"), framework
        assert answer.decided_by == "US"  # Oregon has no MDMA row: the federal layer governs
        assert [(layer.jurisdiction, layer.verdict) for layer in answer.layers_used][1] == ("US-OR", "no_row")
    refused = shipped("US-OR", "mdma", "licensed_service_center")
    assert "opens none of REGULATED_ADULT_ACCESS" in refused.explanation and "us-mdma" in refused.explanation


def test_it_finds_oregon_psilocybin_trials_lawful_under_the_federal_layer():
    answer = shipped("US-OR", "psilocybin", "clinical_trial_ind")
    assert answer.lawful and answer.decided_by == "US"
    assert answer.layers_used[1].verdict == "silent"  # Oregon's program leaves trials alone


def test_it_finds_a_colorado_healing_center_lawful_once_licensed():
    answer = shipped("US-CO", "psilocybin", "licensed_service_center")
    assert answer.lawful and answer.decided_by == "US-CO"
    assert answer.layers_used[1].row == "us-co-psilocybin"
    assert "SB23-290" in answer.explanation
    before = shipped("US-CO", "psilocybin", "licensed_service_center", on=datetime.date(2025, 2, 28))
    assert not before.lawful and before.layers_used[1].row == "us-co-psilocybin-decrim"
    assert shipped("US-CO", "psilocybin", "personal_use_community", on=datetime.date(2024, 1, 1)).lawful
    assert not shipped("US-CO", "psilocybin", "personal_use_community", on=datetime.date(2023, 6, 30)).lawful


def test_it_keeps_the_federal_peyote_exemption_in_colorado_but_not_personal_use():
    religious = shipped("US-CO", "peyote", "religious_exemption")
    assert religious.lawful and religious.decided_by == "US"
    assert any("Native American Church" in c for c in religious.caveats)
    personal = shipped("US-CO", "peyote", "personal_use_community")
    assert not personal.lawful and personal.decided_by == "US-CO"
    assert shipped("US-CO", "mescaline", "personal_use_community").lawful


def test_it_uses_an_expired_row_only_before_it_expired():
    during = shipped("CA-BC", "mdma", "personal_use_community", on=datetime.date(2026, 1, 30))
    assert during.lawful and during.decided_by == "CA-BC"
    after = shipped("CA-BC", "mdma", "personal_use_community", on=datetime.date(2026, 1, 31))
    assert not after.lawful and after.decided_by == "CA"
    bc = after.layers_used[1]
    assert (bc.jurisdiction, bc.verdict, bc.row) == ("CA-BC", "no_row", None)
    assert bc.not_in_effect == ["ca-bc-mdma, expired 2026-01-31"]
    assert any("ca-bc-mdma, expired 2026-01-31" in c for c in after.caveats)


def test_it_treats_a_pair_no_layer_lists_as_prohibited_for_review():
    answer = shipped("FR", "psilocybin", "authorized_prescriber")
    assert not answer.lawful and answer.decided_by is None
    assert [(layer.jurisdiction, layer.verdict) for layer in answer.layers_used] == [("FR", "no_row")]
    assert "Review by hand" in answer.explanation


def test_it_waits_for_new_mexicos_program_to_run():
    assert not shipped("US-NM", "psilocybin", "authorized_prescriber").lawful
    assert shipped("US-NM", "psilocybin", "authorized_prescriber", on=datetime.date(2027, 12, 31)).lawful


def test_it_finds_retreats_lawful_only_where_unscheduled_or_tolerated():
    assert shipped("JM", "psilocybin", "retreat_abroad").lawful
    assert shipped("NL", "psilocybin_truffles", "retreat_abroad").lawful
    assert not shipped("NL", "psilocybin", "retreat_abroad").lawful
    assert shipped("BR", "ayahuasca", "religious_exemption").lawful
    assert not shipped("BR", "ayahuasca", "retreat_abroad").lawful


def test_it_finds_the_prescriber_pathways():
    assert shipped("AU", "psilocybin", "authorized_prescriber").lawful
    assert not shipped("AU", "psilocybin", "licensed_service_center").lawful
    assert shipped("US", "esketamine", "authorized_prescriber").lawful
    assert shipped("CA", "mdma", "authorized_prescriber").lawful
    assert shipped("US-UT", "mdma", "authorized_prescriber", on=datetime.date(2026, 1, 1)).lawful
    assert not shipped("US-UT", "mdma", "authorized_prescriber", on=datetime.date(2027, 5, 1)).lawful
    assert not shipped("DE", "psilocybin", "authorized_prescriber", on=datetime.date(2026, 7, 11)).lawful


def test_it_lets_texas_fund_ibogaine_research_without_opening_anything():
    assert shipped("US-TX", "ibogaine", "clinical_trial_ind").lawful
    answer = shipped("US-TX", "ibogaine", "personal_use_community")
    assert not answer.lawful and answer.layers_used[1].verdict == "silent"


CASES = [
    (jurisdiction, substance, framework)
    for jurisdiction, substance in [
        ("US-OR", "psilocybin"),
        ("US-OR", "mdma"),
        ("US-CO", "psilocybin"),
        ("CA-BC", "mdma"),
        ("US-OR-MUL", "psilocybin"),
        ("ZZ", "salvia"),
    ]
    for framework in FRAMEWORKS
]


@pytest.mark.parametrize(("jurisdiction", "substance", "framework"), CASES)
def test_it_always_lists_the_layers_it_consulted(jurisdiction, substance, framework):
    answer = shipped(jurisdiction, substance, framework)
    codes = jurisdiction.split("-")
    expected = ["-".join(codes[: n + 1]) for n in range(len(codes))]
    assert [layer.jurisdiction for layer in answer.layers_used] == expected
    assert [layer.level for layer in answer.layers_used] == ["country", "state", "local"][: len(codes)]
    assert answer.explanation
    data = answer.as_dict()
    assert len(data["layers_used"]) == len(expected) and data["on"] == TODAY.isoformat()


# --- layering ---------------------------------------------------------------------------------

LAYERED = [
    row("country", "US", "PROHIBITED", effective_from=datetime.date(1970, 1, 1)),
    row("state", "US-OR", "REGULATED_ADULT_ACCESS", effective_from=datetime.date(2023, 1, 2)),
    row("county", "US-OR-CLK", "PROHIBITED", effective_from=datetime.date(2023, 1, 1)),
]


def layered(jurisdiction: str, rows=LAYERED, on: datetime.date = TODAY, framework="licensed_service_center"):
    return evaluate(jurisdiction=jurisdiction, substance="psilocybin", framework=framework, on=on, rows=rows)


def test_it_lets_a_state_program_override_a_country_prohibition():
    answer = layered("US-OR-MUL")  # a county without its own row
    assert answer.lawful and answer.decided_by == "US-OR"
    assert [layer.verdict for layer in answer.layers_used] == ["prohibits", "permits", "no_row"]


def test_it_lets_a_local_prohibition_override_the_state_program():
    answer = layered("US-OR-CLK")
    assert not answer.lawful and answer.decided_by == "US-OR-CLK"
    assert [layer.verdict for layer in answer.layers_used] == ["prohibits", "permits", "prohibits"]
    assert "local layer (US-OR-CLK" in answer.explanation


def test_it_uses_the_newest_row_in_effect_within_a_layer():
    repeal = row("repeal", "US-OR", "PROHIBITED", effective_from=datetime.date(2027, 1, 1))
    rows = [*LAYERED, repeal]
    assert layered("US-OR", rows, on=datetime.date(2026, 12, 31)).lawful
    answer = layered("US-OR", rows, on=datetime.date(2027, 1, 1))
    assert not answer.lawful and answer.layers_used[1].row == "repeal"


def test_it_lets_a_registry_row_win_a_tie_with_a_shipped_row():
    same_day = row("admin", "US-OR", "PROHIBITED", effective_from=datetime.date(2023, 1, 2), origin="registry", seq=1)
    assert not layered("US-OR", [*LAYERED, same_day]).lawful


def test_it_lets_a_state_row_add_a_pathway_without_closing_others():
    rows = [row("federal", "US", "PROHIBITED", "CLINICAL_TRIAL_ONLY"), LAYERED[1]]
    answer = layered("US-OR", rows, framework="clinical_trial_ind")
    assert answer.lawful and answer.decided_by == "US"
    assert [layer.verdict for layer in answer.layers_used] == ["permits", "silent"]


def test_it_refuses_bad_questions():
    with pytest.raises(LegalStatusInputError, match="unknown framework"):
        shipped("US-OR", "psilocybin", "wellness_spa")
    with pytest.raises(LegalStatusInputError, match="ISO 3166"):
        shipped("Oregon", "psilocybin", "licensed_service_center")
    with pytest.raises(LegalStatusInputError, match="lower-case"):
        shipped("US-OR", "Psilocybin", "licensed_service_center")


def test_it_refuses_a_row_that_expires_before_it_starts():
    with pytest.raises(ValueError, match="expires_on must be after"):
        row("x", "US", "PROHIBITED", effective_from=TODAY, expires_on=TODAY)


def test_it_ships_every_row_of_the_research_table_with_a_basis_and_a_source():
    rows = shipped_rows()
    assert len(rows) >= 30
    assert all(r.legal_basis and r.source.startswith("[") and "regulatory.md" in r.source for r in rows)
    pairs = {(r.jurisdiction, r.substance) for r in rows}
    for pair in [("US", "psilocybin"), ("US", "mdma"), ("US", "peyote"), ("US-OR", "psilocybin"),
                 ("US-CO", "psilocybin"), ("US-NM", "psilocybin"), ("US-UT", "mdma"), ("US-TX", "ibogaine"),
                 ("AU", "mdma"), ("CA-BC", "mdma"), ("CZ", "psilocybin"), ("DE", "psilocybin"),
                 ("NL", "psilocybin_truffles"), ("JM", "psilocybin"), ("BR", "ayahuasca")]:  # fmt: skip
        assert pair in pairs, pair


# --- registry rows added by admins --------------------------------------------------------------


@pytest.fixture
def operator(org):
    user = make_user(org, email="ops@communitas.example")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def nm_program(operator, **changes: Any) -> LegalStatusRow:
    fields = {
        "jurisdiction": "US-NM",
        "substance": "psilocybin",
        "statuses": ["STATE_MEDICAL_PROGRAM"],
        "effective_from": datetime.date(2026, 10, 1),
        "legal_basis": "SB 219; DOH first clinician permit",
        "source": "https://www.nmhealth.org/ (DOH announcement)",
    }
    return legal_status_row_add(actor=operator, **(fields | changes))


@pytest.mark.django_db
def test_it_adds_a_registry_row_and_audits_it(operator):
    added = nm_program(operator)
    assert added.created_by == operator
    entry = AuditEntry.objects.get(action="compliance.legal_status_row.added")
    assert entry.chain == "system" and entry.organization_id is None and entry.actor_id == operator.pk
    assert entry.object_id == str(added.pk)
    assert entry.data == {
        "jurisdiction": "US-NM",
        "substance": "psilocybin",
        "fields": ["jurisdiction", "substance", "statuses", "effective_from", "legal_basis", "source", "confidence"],
    }


@pytest.mark.django_db
def test_it_lets_a_registry_row_open_new_mexicos_program_early(operator):
    assert not lawfulness_get(
        jurisdiction="US-NM", substance="psilocybin", framework="authorized_prescriber", on=TODAY
    ).lawful
    added = nm_program(operator)
    answer = lawfulness_get(jurisdiction="US-NM", substance="psilocybin", framework="authorized_prescriber", on=TODAY)
    assert answer.lawful and answer.decided_by == "US-NM"
    state = answer.layers_used[1]
    assert (state.row, state.origin) == (f"registry-{added.pk}", "registry")
    assert state.not_in_effect == ["us-nm-psilocybin, starts 2027-12-31"]


@pytest.mark.django_db
def test_it_lets_a_registry_row_override_a_shipped_row(operator):
    nm_program(
        operator,
        jurisdiction="US-OR-CLK",
        statuses=["PROHIBITED"],
        effective_from=datetime.date(2023, 1, 1),
        legal_basis="County ordinance prohibiting psilocybin service centers",
    )
    answer = lawfulness_get(
        jurisdiction="US-OR-CLK", substance="psilocybin", framework="licensed_service_center", on=TODAY
    )
    assert not answer.lawful and answer.decided_by == "US-OR-CLK"
    assert lawfulness_get(
        jurisdiction="US-OR", substance="psilocybin", framework="licensed_service_center", on=TODAY
    ).lawful


@pytest.mark.django_db
def test_it_merges_shipped_and_registry_rows_in_one_query(operator, django_assert_num_queries):
    nm_program(operator)
    nm_program(operator, substance="mdma")
    with django_assert_num_queries(1):
        rows = legal_status_rows(substance="psilocybin")
    assert [r.origin for r in rows].count("registry") == 1
    assert {r.substance for r in rows} == {"psilocybin"}
    assert len(legal_status_rows()) == len(shipped_rows()) + 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"statuses": []}, "statuses"),
        ({"statuses": ["LEGAL"]}, "statuses"),
        ({"statuses": ["PROHIBITED", "PROHIBITED"]}, "statuses"),
        ({"frameworks": ["spa"]}, "frameworks"),
        ({"jurisdiction": "new-mexico"}, "jurisdiction"),
        ({"substance": "Psilocybin"}, "substance"),
        ({"expires_on": datetime.date(2026, 10, 1)}, "__all__"),
        ({"legal_basis": ""}, "legal_basis"),
        ({"confidence": "certain"}, "confidence"),
    ],
)
def test_it_refuses_an_invalid_registry_row(operator, changes, field):
    with pytest.raises(ValidationError) as info:
        nm_program(operator, **changes)
    assert field in info.value.message_dict
    assert not LegalStatusRow.objects.exists()
    assert not AuditEntry.objects.filter(action="compliance.legal_status_row.added").exists()


@pytest.mark.django_db
def test_it_lets_only_deployment_staff_add_rows(alice, charlie):
    for user in (alice, charlie):  # an organization's coordinator or admin changes no one else's law
        with pytest.raises(PermissionDenied):
            nm_program(user)
    assert not LegalStatusRow.objects.exists()


@pytest.mark.django_db
def test_it_answers_for_a_program_by_its_jurisdiction_substance_and_framework():
    program = SimpleNamespace(jurisdiction="US-OR", substance="psilocybin", framework="licensed_service_center")
    assert program_lawfulness(program, on=TODAY).lawful
    program.substance = "mdma"
    assert not program_lawfulness(program, on=TODAY).lawful
    program.substance = "none"
    answer = program_lawfulness(program, on=TODAY)
    assert answer.lawful and answer.layers_used == [] and "No substance" in answer.explanation
