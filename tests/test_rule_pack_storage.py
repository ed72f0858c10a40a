"""An organization's own rule pack: stored in versions, applied to its sessions in a jurisdiction
without a shipped pack (Colorado: regulatory.md 2 found no group ratio), its documents joining the
readiness gate; pages and API with the same permissions; the legal-status registry pages."""

import datetime
import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from communitas.accounts.models import Membership
from communitas.compliance.models import LegalStatusRow, OrganizationRulePack
from communitas.compliance.rulepacks import ComplianceInputError, UnknownJurisdiction
from communitas.compliance.selectors import rule_pack_for
from communitas.compliance.services import organization_rule_pack_add
from communitas.core.models import AuditEntry
from communitas.participants.services import consent_document_publish
from communitas.programs import selectors as program_selectors
from communitas.programs.services import program_create
from communitas.programs.session_services import SessionRefused, session_plan
from tests.facilitator_helpers import add_credential, make_profile
from tests.factories import make_user
from tests.journey_helpers import CONSENT_TEXT
from tests.session_helpers import doses, make_ready, prepare, when

Role = Membership.Role


def pack(**changes) -> dict:
    data = {
        "jurisdiction": "US-CO",
        "name": "Stillwater staffing policy",
        "substance": "psilocybin",
        "unit": "mg psilocin",
        "effective_from": "2026-01-01",
        "sources": {"POL": "Stillwater written staffing policy v3 (2026-01-01)"},
        "group_ratio": {
            "rule": "POL-RATIO",
            "bands": [
                {
                    "min_mg": 0,
                    "max_mg": 10,
                    "clients_per_facilitator": 6,
                    "source": "POL",
                    "effective_from": "2026-01-01",
                },
                {"min_mg": 10, "clients_per_facilitator": 3, "source": "POL", "effective_from": "2026-01-01"},
            ],
        },
        "dose_limit": {"rule": "POL-MAX", "max_mg": 30, "source": "POL", "effective_from": "2026-01-01"},
        "documents": [
            {
                "kind": "veteran_liaison_form",
                "label": "VA liaison form",
                "source": "POL",
                "effective_from": "2026-01-01",
            }
        ],
    }
    data.update(changes)
    return data


def counts() -> tuple[int, int]:
    return OrganizationRulePack.objects.count(), AuditEntry.objects.filter(action="compliance.rule_pack.added").count()


# --- service and selector ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_version_is_saved_with_an_audit_entry_without_values(other_org, charlie):
    row = organization_rule_pack_add(actor=charlie, organization=other_org, data=pack())
    assert (row.jurisdiction, row.effective_from, row.name) == ("US-CO", datetime.date(2026, 1, 1), pack()["name"])
    assert row.rule_pack().group_ratio.bands[1].clients_per_facilitator == 3
    entry = AuditEntry.objects.get(action="compliance.rule_pack.added")
    assert entry.organization_id == other_org.pk and entry.actor_id == charlie.pk
    assert entry.data["documents"] == ["veteran_liaison_form"] and entry.data["sections"] == ["dose_limit"]
    assert "Stillwater" not in json.dumps(entry.data)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes, message",
    [
        ({"jurisdiction": "US-OR"}, "shipped rule pack"),
        ({"jurisdiction": "US-OR-MUL"}, "shipped rule pack"),
        ({"group_ratio": {"rule": "R", "bands": []}}, "group_ratio"),
        ({"sources": {}}, "source key"),
        ({"kind": "shipped"}, "kind"),
        ({"surprise": 1}, "surprise"),
        ({"effective_from": "yesterday"}, "effective_from"),
    ],
)
def test_bad_or_unlawful_packs_are_refused_and_nothing_is_saved(other_org, charlie, changes, message):
    before = counts()
    with pytest.raises(ComplianceInputError, match=message):
        organization_rule_pack_add(actor=charlie, organization=other_org, data=pack(**changes))
    assert counts() == before


@pytest.mark.django_db
def test_only_administrators_and_coordinators_add_versions(other_org):
    for role in (Role.FACILITATOR, Role.RESEARCHER, Role.HOSPITALITY, Role.PEER_SUPPORTER):
        user = make_user(other_org, role)
        with pytest.raises(PermissionDenied):
            organization_rule_pack_add(actor=user, organization=other_org, data=pack())
    admin = make_user(other_org, Role.ADMIN)
    organization_rule_pack_add(actor=admin, organization=other_org, data=pack())
    assert counts() == (1, 1)


@pytest.mark.django_db
def test_a_coordinator_of_another_organization_cannot_add_one(other_org, alice):
    with pytest.raises(PermissionDenied):
        organization_rule_pack_add(actor=alice, organization=other_org, data=pack())


@pytest.mark.django_db
def test_the_version_in_effect_on_the_date_applies_and_covers_localities(other_org, charlie, org, alice):
    organization_rule_pack_add(actor=charlie, organization=other_org, data=pack())
    later = pack(effective_from="2026-06-01", name="Policy v4")
    later["group_ratio"]["bands"][1]["clients_per_facilitator"] = 2
    organization_rule_pack_add(actor=charlie, organization=other_org, data=later)
    on = datetime.date
    assert rule_pack_for(organization_id=other_org.pk, jurisdiction="US-CO", on=on(2026, 3, 1)).name == pack()["name"]
    assert rule_pack_for(organization_id=other_org.pk, jurisdiction="US-CO-DEN", on=on(2026, 7, 1)).name == "Policy v4"
    with pytest.raises(UnknownJurisdiction, match="Rule packs"):
        rule_pack_for(organization_id=other_org.pk, jurisdiction="US-CO", on=on(2025, 12, 31))
    with pytest.raises(UnknownJurisdiction):  # another organization's pack is not ours
        rule_pack_for(organization_id=org.pk, jurisdiction="US-CO", on=on(2026, 7, 1))
    assert rule_pack_for(organization_id=other_org.pk, jurisdiction="US-OR").jurisdiction == "US-OR"


# --- sessions and readiness -----------------------------------------------------------------


def colorado(org, coordinator, *, people=3):
    program = program_create(
        organization=org, actor=coordinator, name="Front Range circle", substance="psilocybin", jurisdiction="US-CO"
    )
    document = consent_document_publish(
        organization=org,
        actor=None,
        title="Informed consent",
        version="1",
        language="en",
        body=CONSENT_TEXT,
        scopes=["participation"],
        required_scopes=["participation"],
    )
    program.consent_documents.add(document)
    guide = make_profile(org, coordinator, display_name="Sam Okafor", languages=["en"])
    add_credential(guide, coordinator, kind="colorado_facilitator", jurisdiction="US-CO")
    add_credential(guide, coordinator, kind="bls_cpr", jurisdiction="US-CO")
    ready = [make_ready(program, document, coordinator, preferred_language="en") for _ in range(people)]
    prepare(program, coordinator, guide, ready)
    return program, guide, ready


def plan(program, coordinator, guide, people, mg):
    start, end = when()
    return session_plan(
        program=program,
        actor=coordinator,
        kind="administration",
        title="Ceremony",
        planned_start=start,
        planned_end=end,
        facilitators=[guide],
        participants=people,
        planned_doses=doses(people, mg),
    )


@pytest.mark.django_db
def test_without_a_pack_a_colorado_administration_session_is_refused(other_org, charlie):
    program, guide, people = colorado(other_org, charlie)
    with pytest.raises(SessionRefused) as refused:
        plan(program, charlie, guide, people, "8")
    assert [v.rule for v in refused.value.violations] == ["JURISDICTION"]
    assert "Compliance, Rule packs" in refused.value.violations[0].message


@pytest.mark.django_db
def test_the_organization_pack_sets_the_ratio_and_dose_limit_with_its_citation(other_org, charlie):
    organization_rule_pack_add(actor=charlie, organization=other_org, data=pack())
    program, guide, people = colorado(other_org, charlie)
    for person in people:  # the pack's extra document: needed before anyone is ready
        assert program_selectors.enrollment_readiness(program.enrollments.get(participant=person)).status == "ready"
    session = plan(program, charlie, guide, people, "8")  # 3 clients at 8 mg: 1:6 is enough
    assert session.pk
    with pytest.raises(SessionRefused) as refused:  # 12 mg: 1:3, so 3 clients is fine; 4 are not
        plan(program, charlie, guide, [*people, make_ready_like(program, charlie, people)], "12")
    ratio = [v for v in refused.value.violations if v.rule == "POL-RATIO"]
    assert ratio and "Stillwater written staffing policy v3" in ratio[0].source
    from communitas.programs.validation import dose_violations

    assert [v.rule for v in dose_violations(session, total_mg=Decimal("31"))] == ["MAX-DOSE"]
    assert dose_violations(session, total_mg=Decimal("30")) == []


def make_ready_like(program, coordinator, people):
    document = program.consent_documents.first()
    person = make_ready(program, document, coordinator, preferred_language="en")
    guide = program.sessions.get(kind="preparation").facilitators.first()
    prepare(program, coordinator, guide, [person])
    return person


@pytest.mark.django_db
def test_the_pack_documents_join_the_readiness_gate(other_org, charlie):
    program, _guide, people = colorado(other_org, charlie, people=1)
    enrollment = program.enrollments.get(participant=people[0])
    assert program_selectors.enrollment_readiness(enrollment).status == "ready"
    organization_rule_pack_add(actor=charlie, organization=other_org, data=pack())
    gate = program_selectors.enrollment_readiness(enrollment)
    assert (gate.status, gate.missing) == ("not_ready", ["document_veteran_liaison_form"])
    kinds = [d["kind"] for d in program_selectors.required_documents(program)]
    assert kinds[-1] == "veteran_liaison_form" and "fee_agreement" in kinds  # Colorado's own stay


# --- pages ------------------------------------------------------------------------------------


def form_data(**changes) -> dict:
    data = {
        "jurisdiction": "US-CO",
        "name": "Our staffing policy",
        "substance": "psilocybin",
        "effective_from": "2026-02-01",
        "basis": "Board-approved staffing policy, 2026-01-15",
        "ratio_from_0": "0",
        "ratio_clients_0": "6",
        "ratio_from_1": "10",
        "ratio_clients_1": "3",
        "duration_from_0": "0",
        "duration_minutes_0": "240",
        "prep_min_hours": "24",
        "prep_max_days": "60",
        "document_0": "Fee agreement addendum",
        "dose_limit": "30",
    }
    data.update(changes)
    return data


@pytest.mark.django_db
def test_a_coordinator_saves_a_version_on_the_page(charlie_client, other_org):
    response = charlie_client.post("/compliance/rule-packs/new/", form_data())
    row = OrganizationRulePack.objects.get()
    assert response.status_code == 302 and response.url == f"/compliance/rule-packs/{row.pk}/"
    saved = row.rule_pack()
    assert [(b.min_mg, b.max_mg, b.clients_per_facilitator) for b in saved.group_ratio.bands] == [
        (0, 10, 6),
        (10, None, 3),
    ]
    assert saved.preparation_window and (saved.preparation_window.min_hours, saved.preparation_window.max_days) == (
        24,
        60,
    )
    assert saved.documents[0].kind == "doc_fee_agreement_addendum"
    assert saved.sources == {"ORG": "Board-approved staffing policy, 2026-01-15"}
    page = charlie_client.get(response.url).content.decode()
    assert "1 : 3" in page and "Board-approved staffing policy" in page
    download = charlie_client.get(response.url + "?format=json")
    assert json.loads(download.content)["group_ratio"]["bands"][0]["clients_per_facilitator"] == 6


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes, error",
    [
        ({"ratio_from_0": "2"}, "must start at 0 mg"),
        ({"ratio_clients_0": "", "ratio_from_0": "", "ratio_from_1": "", "ratio_clients_1": ""}, "at least one ratio"),
        ({"ratio_clients_1": ""}, "or neither"),
        ({"prep_max_days": ""}, "or neither"),
        ({"jurisdiction": "US-OR"}, "shipped rule pack"),
        ({"jurisdiction": "Colorado"}, "ISO 3166"),
        ({"ratio_clients_0": "-1"}, "greater than or equal to 1"),
        ({"basis": ""}, "required"),
        ({"ratio_from_1": "0"}, "same dose"),
    ],
)
def test_bad_page_input_is_explained_and_nothing_is_saved(charlie_client, other_org, changes, error):
    before = counts()
    response = charlie_client.post("/compliance/rule-packs/new/", form_data(**changes))
    assert response.status_code == 200
    assert error in response.content.decode()
    assert counts() == before


@pytest.mark.django_db
def test_every_member_reads_the_packs_but_only_managers_write(other_org, charlie):
    row = organization_rule_pack_add(actor=charlie, organization=other_org, data=pack())
    facilitator = Client()
    facilitator.force_login(make_user(other_org, Role.FACILITATOR))
    assert facilitator.get("/compliance/rule-packs/").status_code == 200
    assert facilitator.get(f"/compliance/rule-packs/{row.pk}/").status_code == 200
    assert facilitator.get("/compliance/rule-packs/new/").status_code == 403
    assert facilitator.post("/compliance/rule-packs/new/", form_data()).status_code == 403
    assert counts() == (1, 1)


@pytest.mark.django_db
def test_another_organizations_pack_is_not_found(other_org, charlie, alice_client):
    row = organization_rule_pack_add(actor=charlie, organization=other_org, data=pack())
    assert alice_client.get(f"/compliance/rule-packs/{row.pk}/").status_code == 404
    assert alice_client.get(f"/compliance/rule-packs/{row.pk}/?format=json").status_code == 404
    assert "Stillwater staffing policy" not in alice_client.get("/compliance/rule-packs/").content.decode()


@pytest.mark.django_db
def test_the_list_warns_when_a_jurisdiction_needs_a_pack_and_prefills_the_next_version(other_org, charlie_client):
    other_org.jurisdiction = "US-CO"
    other_org.save(update_fields=["jurisdiction"])
    page = charlie_client.get("/compliance/rule-packs/").content.decode()
    assert "cannot be scheduled until it does" in page
    assert "Oregon Psilocybin Services" in page  # the shipped pack, readable
    charlie_client.post("/compliance/rule-packs/new/", form_data())
    page = charlie_client.get("/compliance/rule-packs/").content.decode()
    assert "cannot be scheduled" not in page and "Our staffing policy" in page
    form = charlie_client.get("/compliance/rule-packs/new/").content.decode()
    assert 'value="Our staffing policy"' in form and ">\nBoard-approved staffing policy, 2026-01-15</textarea>" in form


@pytest.mark.django_db
def test_the_legal_status_page_answers_with_its_layers(alice_client):
    response = alice_client.get(
        "/compliance/legal-status/",
        {"jurisdiction": "US-OR", "substance": "psilocybin", "framework": "licensed_service_center"},
    )
    page = response.content.decode()
    assert response.status_code == 200 and "Layers consulted" in page and "US-OR" in page
    assert ">Lawful<" in page
    no = alice_client.get(
        "/compliance/legal-status/", {"jurisdiction": "US-TX", "substance": "psilocybin", "framework": "retreat_abroad"}
    ).content.decode()
    assert ">Not lawful<" in no


@pytest.mark.django_db
def test_only_the_deployments_staff_add_registry_rows(alice, alice_client):
    row = {
        "jurisdiction": "US-NM",
        "substance": "psilocybin",
        "statuses": ["STATE_MEDICAL_PROGRAM"],
        "effective_from": "2026-10-01",
        "legal_basis": "SB 219",
        "source": "https://www.nmhealth.org/",
        "confidence": "high",
    }
    assert alice_client.get("/compliance/legal-status/new/").status_code == 403
    assert alice_client.post("/compliance/legal-status/new/", row).status_code == 403
    assert LegalStatusRow.objects.count() == 0
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    bad = alice_client.post("/compliance/legal-status/new/", {**row, "statuses": ["LEGAL_EVERYWHERE"]})
    assert bad.status_code == 200 and LegalStatusRow.objects.count() == 0
    assert alice_client.post("/compliance/legal-status/new/", row).status_code == 302
    assert LegalStatusRow.objects.get().created_by == alice


# --- API --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_lists_adds_and_reads_packs(client, charlie_api, other_org):
    created = client.post("/api/v1/compliance/rule-packs", pack(), content_type="application/json", **charlie_api)
    assert created.status_code == 201
    body = created.json()
    assert body["kind"] == "organization" and body["pack"]["group_ratio"]["rule"] == "POL-RATIO"
    listed = client.get("/api/v1/compliance/rule-packs", **charlie_api).json()
    assert [p["kind"] for p in listed] == ["shipped", "organization"]
    assert client.get(f"/api/v1/compliance/rule-packs/{body['id']}", **charlie_api).json()["name"] == pack()["name"]


@pytest.mark.django_db
def test_api_refuses_bad_packs_other_tenants_and_non_managers(
    client, charlie_api, alice_api, bob_api, other_org, charlie
):
    before = counts()
    for body in (pack(jurisdiction="US-OR"), pack(group_ratio={}), [1, 2]):
        response = client.post("/api/v1/compliance/rule-packs", body, content_type="application/json", **charlie_api)
        assert response.status_code in (400, 422) and response.json()["error"]
    response = client.post("/api/v1/compliance/rule-packs", "{", content_type="application/json", **charlie_api)
    assert response.status_code == 400
    assert (
        client.post("/api/v1/compliance/rule-packs", pack(), content_type="application/json", **bob_api).status_code
        == 403
    )
    assert counts() == before
    row = organization_rule_pack_add(actor=charlie, organization=other_org, data=pack())
    assert client.get(f"/api/v1/compliance/rule-packs/{row.pk}", **alice_api).status_code == 404
    assert all(p["kind"] == "shipped" for p in client.get("/api/v1/compliance/rule-packs", **alice_api).json())


@pytest.mark.django_db
def test_api_lawfulness_and_registry(client, alice_api, alice):
    answer = client.get(
        "/api/v1/compliance/lawfulness",
        {
            "jurisdiction": "US-OR",
            "substance": "psilocybin",
            "framework": "licensed_service_center",
            "on": "2026-11-01",
        },
        **alice_api,
    ).json()
    assert answer["lawful"] is True and [layer["jurisdiction"] for layer in answer["layers_used"]] == ["US", "US-OR"]
    bad = client.get(
        "/api/v1/compliance/lawfulness",
        {"jurisdiction": "US-OR", "substance": "psilocybin", "framework": "vibes"},
        **alice_api,
    )
    assert bad.status_code == 422
    rows = client.get("/api/v1/compliance/legal-status", {"substance": "mdma"}, **alice_api).json()
    assert rows and {r["substance"] for r in rows} == {"mdma"}
    row = {
        "jurisdiction": "US-NM",
        "substance": "psilocybin",
        "statuses": ["STATE_MEDICAL_PROGRAM"],
        "effective_from": "2026-10-01",
        "legal_basis": "SB 219",
        "source": "https://www.nmhealth.org/",
    }
    post = client.post("/api/v1/compliance/legal-status", row, content_type="application/json", **alice_api)
    assert post.status_code == 403 and LegalStatusRow.objects.count() == 0
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    post = client.post("/api/v1/compliance/legal-status", row, content_type="application/json", **alice_api)
    assert post.status_code == 201 and post.json()["origin"] == "registry"
    expired = {**row, "expires_on": "2026-09-01"}
    post = client.post("/api/v1/compliance/legal-status", expired, content_type="application/json", **alice_api)
    assert post.status_code == 422 and LegalStatusRow.objects.count() == 1


@pytest.mark.django_db
def test_the_program_page_shows_lawfulness_with_layers_and_the_pack_in_force(other_org, charlie, charlie_client):
    program = program_create(
        organization=other_org, actor=charlie, name="Front Range", substance="psilocybin", jurisdiction="US-CO"
    )
    page = charlie_client.get(f"/programs/{program.pk}/").content.decode()
    assert "Lawful here today" in page and "Layers consulted" in page
    assert "Compliance, Rule packs" in page  # no pack yet: the page says where to set one
    organization_rule_pack_add(actor=charlie, organization=other_org, data=pack())
    page = charlie_client.get(f"/programs/{program.pk}/").content.decode()
    assert "Stillwater staffing policy" in page and "Compliance, Rule packs" not in page
    unlawful = program_create(
        organization=other_org, actor=charlie, name="Texas", substance="psilocybin", jurisdiction="US-TX"
    )
    page = charlie_client.get(f"/programs/{unlawful.pk}/").content.decode()
    assert "Not lawful here today" in page
