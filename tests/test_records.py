"""A participant's record as a whole (OAR 333-333-4820): retention per jurisdiction, their own
download through their community-space link (JSON and PDF), corrections as addenda, and
destruction on request once the retention period has ended. Every step is audited."""

from __future__ import annotations

import datetime
import json
import re
import zlib
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from communitas.accounts.models import Membership
from communitas.community.links import community_link_create, community_link_revoke
from communitas.community.models import CommunityLink, Reflection
from communitas.community.reflection_services import reflection_create
from communitas.core.models import AuditEntry
from communitas.outcomes import services as outcomes
from communitas.outcomes.models import Assessment, Response
from communitas.participants import records, records_pdf
from communitas.participants.models import (
    ConsentSignature,
    Participant,
    RecordAddendum,
    RecordRequest,
    SupportPerson,
)
from communitas.participants.record_services import (
    RecordRequestError,
    record_destroy,
    record_request_create,
    record_request_decide,
)
from communitas.participants.retention import add_years, retention_for
from communitas.participants.services import participant_update
from communitas.programs.models import Attendance, DoseRecord, FacilitatorNote, VitalSigns
from communitas.programs.session_services import (
    attendance_set,
    dose_record,
    note_add,
    session_plan,
    session_start,
    vitals_record,
)
from communitas.safety.models import AdverseEvent, Intake, Screening
from communitas.safety.services import adverse_event_record, safety_alert_acknowledge, safety_alert_raise
from tests.factories import ParticipantFactory, make_support_person, make_user
from tests.outcomes_helpers import enrolled_with_schedule
from tests.session_helpers import doses, setting, when

pytestmark = pytest.mark.django_db
Role = Membership.Role
TODAY = timezone.localdate


# --- set-up ---------------------------------------------------------------------------------------


@dataclass
class World:
    marisol: Participant
    ben: Participant  # in the same session; nothing of his may reach Marisol's download
    token: str

    def space(self, rest: str = "") -> str:
        return f"/c/{self.token}/{rest}"


@pytest.fixture
def world(org, alice, bob) -> World:
    program, _document, guide, (marisol, ben) = setting(org, alice, people=2, languages=("en", "es"))
    participant_update(
        participant=marisol,
        actor=alice,
        display_name="Marisol Quispe",
        email="marisol@example.net",
        preferred_language="es",
        accessibility_needs="Letra grande",
    )
    participant_update(participant=ben, actor=alice, display_name="Ben Okafor")
    make_support_person(marisol, name="Tomás Quispe", relationship="family")
    start, end = when()
    session = session_plan(
        program=program,
        actor=alice,
        kind="administration",
        title="Sesión de grupo",
        planned_start=start,
        planned_end=end,
        facilitators=[guide],
        participants=[marisol, ben],
        planned_doses=doses([marisol, ben]),
    )
    session = session_start(session=session, actor=alice)
    for person in (marisol, ben):
        dose_record(
            session=session,
            participant=person,
            actor=alice,
            product="P. cubensis, whole",
            unique_id=f"LOT-{person.pk}",
            amount_mg=Decimal("20"),
            kind="initial",
            taken_at=session.started_at,
        )
        attendance_set(session=session, participant_id=person.pk, status="attended", actor=alice)
    vitals_record(session=session, participant=marisol, actor=alice, taken_at=session.started_at, heart_rate=72)
    note_add(participant=marisol, author=bob, body="Marisol habló de su abuela.", session=session)
    note_add(participant=ben, author=bob, body="Ben's private worry about work.", session=session)
    _program, _enrollment, assessments = enrolled_with_schedule(org, marisol)
    baseline = next(a for a in assessments if a.timepoint == "baseline")
    phq9 = {str(i): 1 for i in range(1, 9)} | {"9": 0, "10": 1}
    outcomes.response_submit(assessment=baseline, answers=phq9, language="es", source="staff")
    adverse_event_record(
        participant=marisol,
        actor=alice,
        jurisdiction="US-OR",
        kind="behavioral",
        onset_at=timezone.now(),
        description="Ansiedad breve; se calmó con apoyo.",
        severity="mild",
        relatedness="possible",
    )
    reflection_create(participant=marisol, body="Me sentí en paz junto al río.")
    reflection_create(participant=ben, body="Ben's own reflection.")
    _link, token = community_link_create(participant=marisol, actor=alice)
    return World(marisol, ben, token)


def _audits(action: str):
    return AuditEntry.objects.filter(action=action)


def _stream(body: bytes) -> bytes:
    # The stream is exactly /Length bytes: compressed data may itself end in a \r, which a pattern
    # for the end-of-line before "endstream" would cut off (1 stream in 256 failed to inflate).
    found = re.search(rb"/Length (\d+).*?stream\r?\n", body, re.S)
    if found is None:
        return b""
    data = body[found.end() : found.end() + int(found.group(1))]
    try:
        return zlib.decompress(data)
    except zlib.error:
        return data


def _pdf_text(pdf: bytes) -> str:
    """The text a PDF made by fpdf2 shows, whether it used a core font (Latin-1 strings) or
    embedded subsets (two-byte glyph ids, read back through each font's ToUnicode map)."""
    objects = {int(n): body for n, body in re.findall(rb"(\d+) 0 obj(.*?)endobj", pdf, re.S)}
    cmaps: dict[bytes, dict[int, str]] = {}
    for body in objects.values():
        for resources in re.findall(rb"/Font\s*<<(.*?)>>", body, re.S):
            for name, ref in re.findall(rb"/(\w+)\s+(\d+) 0 R", resources):
                to_unicode = re.search(rb"/ToUnicode (\d+) 0 R", objects[int(ref)])
                if to_unicode:
                    cmap = _stream(objects[int(to_unicode.group(1))])
                    pairs = re.findall(rb"<([0-9A-Fa-f]{4})> <([0-9A-Fa-f]{4,8})>", cmap)
                    cmaps[name] = {int(g, 16): bytes.fromhex(u.decode()).decode("utf-16-be") for g, u in pairs}
    text, font = [], b""
    for body in objects.values():
        for name, literal in re.findall(rb"/(\w+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) ?Tj", _stream(body), re.S):
            if name:
                font = name
                continue
            raw = re.sub(rb"\\([0-7]{1,3}|.)", _unescape, literal)
            if font in cmaps:
                glyphs = (int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2))
                text.append("".join(cmaps[font].get(g, "?") for g in glyphs))
            else:
                text.append(raw.decode("latin-1"))
    return "\n".join(text)


def _unescape(match: re.Match) -> bytes:
    escaped = match.group(1)
    if escaped[:1].isdigit():
        return bytes([int(escaped, 8)])
    return {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(escaped, escaped)


def _after_retention(person: Participant) -> datetime.date:
    """The first day destruction is allowed, once everything planned (the administration date a
    week ahead) has happened."""
    until = records.retention_until(person, today=TODAY() + datetime.timedelta(days=3650))
    assert until is not None
    return until + datetime.timedelta(days=1)


# --- retention ------------------------------------------------------------------------------------


def test_oregon_keeps_a_record_five_years_from_the_last_service():
    kept = retention_for({"US-OR"}, datetime.date(2026, 3, 14))
    assert kept.years == 5 and kept.until == datetime.date(2031, 3, 14)
    assert kept.rules[0].citation.startswith("OAR 333-333-4820") and kept.rules[0].url.startswith("https://")
    assert kept.ended(datetime.date(2031, 3, 15)) and not kept.ended(datetime.date(2031, 3, 14))
    assert retention_for({"US-OR-MUL"}, datetime.date(2026, 3, 14)).until == datetime.date(2031, 3, 14)
    assert add_years(datetime.date(2028, 2, 29), 5) == datetime.date(2033, 2, 28)


def test_an_unknown_jurisdiction_has_no_automatic_end():
    assert retention_for({"US-CO"}, datetime.date(2026, 3, 14)).until is None  # no period retrieved
    assert retention_for({"FR"}, datetime.date(2026, 3, 14)).until is None
    assert retention_for(set(), datetime.date(2026, 3, 14)).until is None
    mixed = retention_for({"US-OR", "US-CO"}, datetime.date(2026, 3, 14))
    assert mixed.until is None and mixed.unknown == ("US-CO",)


def test_retention_runs_from_the_latest_service_recorded(world):
    assert records.last_service(world.marisol) == TODAY()
    assert records.retention_until(world.marisol) == add_years(TODAY(), 5)


def test_a_participant_of_an_organization_without_a_known_period_has_no_automatic_end(other_org):
    person = ParticipantFactory(organization=other_org)  # other_org has the default US-OR jurisdiction
    assert records.retention_until(person) == add_years(TODAY(), 5)
    other_org.jurisdiction = "US-CO"
    other_org.save(update_fields=["jurisdiction"])
    assert records.retention_until(Participant.objects.get(pk=person.pk)) is None


def test_the_participant_page_shows_how_long_the_record_is_kept(world, alice_client):
    page = alice_client.get(reverse("participants:detail", args=[world.marisol.pk])).content.decode()
    assert add_years(TODAY(), 5).isoformat() in page
    records_page = alice_client.get(reverse("participants:records", args=[world.marisol.pk])).content.decode()
    assert "OAR 333-333-4820" in records_page and add_years(TODAY(), 5).isoformat() in records_page


# --- the participant's own download ---------------------------------------------------------------


def test_it_lists_what_is_held_on_their_records_page(world):
    page = Client().get(world.space("records/"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Sesiones" in body or "Sessions" in body
    assert f'href="/c/{world.token}/records/download.pdf"' in body
    assert "Ben" not in body


def test_it_downloads_everything_held_about_them_as_json(world):
    response = Client().get(world.space("records/download.json"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    document = json.loads(response.content)
    assert set(document) == {
        "format",
        "generated_at",
        "organization",
        "participant",
        "retention",
        "sections",
        "not_included",
    }
    sections = document["sections"]
    assert {
        "participants.identity",
        "participants.support_people",
        "participants.consents",
        "participants.record_requests",
        "compliance.client_data_forms",
        "safety.intakes",
        "safety.screenings",
        "safety.adverse_events",
        "safety.alerts",
        "programs.enrolments",
        "programs.sessions",
        "programs.doses",
        "programs.vitals",
        "programs.facilitator_notes",
        "outcomes.questionnaires",
        "community.circles",
        "community.pods",
        "community.pod_check_ins",
        "community.preferences",
        "community.referrals",
        "community.reflections",
        "community.links",
    } <= set(sections)
    assert sections["participants.identity"][0]["display_name"] == "Marisol Quispe"
    assert sections["participants.identity"][0]["accessibility_needs"] == "Letra grande"
    assert sections["participants.support_people"][0]["name"] == "Tomás Quispe"
    assert sections["participants.consents"][0]["typed_name"]
    assert sections["safety.intakes"][0]["answers"]["phq9_item9"] == "0"
    assert sections["safety.screenings"][0]["outcome"]
    assert [s["session"] for s in sections["programs.sessions"]].count("Sesión de grupo") == 1
    assert sections["programs.doses"] == [
        {
            "session": "Sesión de grupo",
            "taken_at": sections["programs.doses"][0]["taken_at"],
            "product": "P. cubensis, whole",
            "unique_id": f"LOT-{world.marisol.pk}",
            "amount_mg": "20.00",
            "kind": sections["programs.doses"][0]["kind"],
        }
    ]
    assert sections["programs.facilitator_notes"][0]["note"] == "Marisol habló de su abuela."
    answered = [q for q in sections["outcomes.questionnaires"] if q["submitted_at"]]
    assert answered[0]["answers"]["1"] == 1 and answered[0]["score"] == 8
    assert sections["safety.adverse_events"][0]["description"] == "Ansiedad breve; se calmó con apoyo."
    assert sections["community.reflections"][0]["reflection"] == "Me sentí en paz junto al río."
    assert document["retention"]["until"] == add_years(TODAY(), 5).isoformat()
    text = response.content.decode()
    for other in ("Ben", f"LOT-{world.ben.pk}", world.ben.pseudonym, "private worry"):
        assert other not in text
    entry = _audits("participants.records.downloaded").get()
    assert entry.data["format"] == "json" and entry.object_id == str(world.marisol.pk)
    assert "Marisol" not in json.dumps(entry.data)


def test_it_downloads_a_pdf_in_their_language(world):
    response = Client().get(world.space("records/download.pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = _pdf_text(response.content)
    assert "Marisol Quispe" in text and "Tomás Quispe" in text and "Me sentí en paz junto al río." in text
    assert "Ben" not in text
    assert _audits("participants.records.downloaded").get().data["format"] == "pdf"


def test_without_dejavu_the_pdf_uses_a_core_font_that_still_writes_spanish(world, monkeypatch):
    monkeypatch.setattr(records_pdf, "FONT_CANDIDATES", ())
    response = Client().get(world.space("records/download.pdf"))
    assert response.content.startswith(b"%PDF") and b"DejaVu" not in response.content
    text = _pdf_text(response.content)
    assert "Marisol Quispe" in text and "Tomás" in text and "río" in text
    assert records_pdf.latin1("Nguyễn Łukasz ✓") == "Nguyen Lukasz ?"


def test_an_expired_or_revoked_link_gets_no_record(world, alice):
    link = CommunityLink.objects.get(participant=world.marisol)
    community_link_revoke(link=link, actor=alice)
    for rest in ("records/", "records/download.json", "records/download.pdf"):
        response = Client().get(world.space(rest))
        assert response.status_code == 410 and b"Marisol" not in response.content
    _link, token = community_link_create(participant=world.marisol, actor=alice)
    CommunityLink.objects.filter(participant=world.marisol, revoked_at__isnull=True).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert Client().get(f"/c/{token}/records/download.json").status_code == 410
    assert Client().get(f"/c/{token[:-2]}xx/records/download.json").status_code == 404
    assert not _audits("participants.records.downloaded").exists()


# --- corrections ----------------------------------------------------------------------------------


def test_an_accepted_correction_adds_an_addendum_and_changes_nothing_recorded(world, alice_client):
    sent = Client().post(world.space("records/corrections/"), {"text": "Mi abuela se llamaba Rosa, no Rosalía."})
    assert sent.status_code == 302
    request = RecordRequest.objects.get()
    assert request.via == "link" and request.status == "open" and request.kind == "correction"
    queue = alice_client.get(reverse("participants:record_requests")).content.decode()
    assert "Marisol Quispe" in queue
    decided = alice_client.post(
        reverse("participants:record_request_decide", args=[world.marisol.pk, request.pk]),
        {"decision": "accept", "note": "Añadido."},
    )
    assert decided.status_code == 302
    request.refresh_from_db()
    assert request.status == "accepted" and request.decided_by.email == "alice@cascadia.example"
    assert RecordAddendum.objects.get().text == "Mi abuela se llamaba Rosa, no Rosalía."
    assert FacilitatorNote.objects.get(participant=world.marisol).body == "Marisol habló de su abuela."  # original
    page = Client().get(world.space("records/")).content.decode()
    assert "Mi abuela se llamaba Rosa" in page and "Añadido." in page
    document = json.loads(Client().get(world.space("records/download.json")).content)
    assert document["sections"]["participants.record_requests"][0]["addendum"].startswith("Mi abuela")
    for action in ("created", "accepted"):
        assert _audits(f"participants.record_request.{action}").count() == 1
    assert _audits("participants.record_addendum.added").count() == 1
    assert "Rosa" not in json.dumps(list(AuditEntry.objects.values_list("data", flat=True)))


def test_a_correction_is_declined_only_with_a_reason_the_participant_reads(world, alice, alice_client):
    request = record_request_create(participant=world.marisol, kind="correction", text="Quiten la nota de la sesión.")
    url = reverse("participants:record_request_decide", args=[world.marisol.pk, request.pk])
    assert alice_client.post(url, {"decision": "decline"}).status_code == 400
    alice_client.post(url, {"decision": "decline", "note": "La nota es de la facilitadora; añadimos su versión."})
    request.refresh_from_db()
    assert request.status == "declined" and not RecordAddendum.objects.exists()
    assert "añadimos su versión" in Client().get(world.space("records/")).content.decode()
    assert _audits("participants.record_request.declined").count() == 1
    with pytest.raises(RecordRequestError):
        record_request_decide(request=request, actor=alice, accept=True)


def test_staff_record_a_request_on_the_participants_behalf(world, alice_client):
    url = reverse("participants:record_request_add", args=[world.marisol.pk])
    response = alice_client.post(url, {"kind": "correction", "text": "Pidió por teléfono corregir su nombre legal."})
    assert response.status_code == 302
    request = RecordRequest.objects.get()
    assert request.via == "staff" and request.requested_by.email == "alice@cascadia.example"


# --- destruction ----------------------------------------------------------------------------------


def test_destruction_is_refused_while_the_retention_period_runs(world, alice, alice_client):
    response = Client().post(world.space("records/destruction/"), {"confirm": "on"})
    assert response.status_code == 400
    assert add_years(TODAY(), 5).isoformat() in response.content.decode()
    assert not RecordRequest.objects.exists()
    assert _audits("participants.record_request.refused").get().data["reason"] == "retention_running"
    staff = alice_client.post(
        reverse("participants:record_request_add", args=[world.marisol.pk]), {"kind": "destruction"}
    )
    assert staff.status_code == 400 and not RecordRequest.objects.exists()
    # a request made once the period ended is checked again when a coordinator confirms it
    request = record_request_create(
        participant=world.marisol, kind="destruction", today=_after_retention(world.marisol)
    )
    with pytest.raises(RecordRequestError) as refused:
        record_destroy(request=request, actor=alice, today=TODAY())
    assert refused.value.code == "retention_running"
    assert _audits("participants.records.destruction_refused").count() == 1
    assert Participant.objects.get(pk=world.marisol.pk).display_name == "Marisol Quispe"


def test_destruction_is_refused_when_no_retention_period_is_known(other_org):
    other_org.jurisdiction = "US-CO"
    other_org.save(update_fields=["jurisdiction"])
    person = ParticipantFactory(organization=other_org)
    with pytest.raises(RecordRequestError) as refused:
        record_request_create(participant=person, kind="destruction", today=TODAY() + datetime.timedelta(days=99999))
    assert refused.value.code == "retention_unknown" and "US-CO" in str(refused.value)


def test_an_open_safety_alert_blocks_destruction(world, alice):
    later = _after_retention(world.marisol)
    request = record_request_create(participant=world.marisol, kind="destruction", today=later)
    alert = safety_alert_raise(participant=world.marisol, flag="test_flag", summary="Needs a call", source=request)
    with pytest.raises(RecordRequestError) as refused:
        record_destroy(request=request, actor=alice, today=later)
    assert refused.value.code == "blocked" and "safety alert" in str(refused.value)
    safety_alert_acknowledge(alert=alert, actor=alice, note="Called her; she is fine.")
    record_destroy(request=request, actor=alice, today=later)
    assert RecordRequest.objects.get().status == "done"


def test_after_the_retention_period_a_destruction_erases_the_person_and_keeps_the_counts(world, alice):
    marisol, later = world.marisol, _after_retention(world.marisol)
    record_request_create(participant=marisol, kind="correction", text="Una corrección pendiente.")
    request = record_request_create(participant=marisol, kind="destruction", text="Por favor.", today=later)
    counts = record_destroy(request=request, actor=alice, today=later)
    assert counts["participants.identity"] >= 1 and counts["community.reflections"] == 1

    gone = Participant.objects.get(pk=marisol.pk)
    assert gone.archived_at is not None and gone.display_name == gone.pseudonym
    assert (gone.email, gone.phone, gone.legal_name, gone.accessibility_needs, gone.date_of_birth) == (
        "",
        "",
        "",
        "",
        None,
    )
    assert not gone.search_tokens.exists() and not SupportPerson.objects.filter(participant=marisol).exists()
    assert all(s.typed_name == "" for s in ConsentSignature.objects.filter(participant=marisol))
    assert all(i.answers == {} for i in Intake.objects.filter(participant=marisol))
    assert all(s.reasons == [] for s in Screening.objects.filter(participant=marisol))
    assert AdverseEvent.objects.get(participant=marisol).description == ""
    assert not FacilitatorNote.objects.filter(participant=marisol).exists()
    assert not VitalSigns.objects.filter(participant=marisol).exists()
    assert not Reflection.objects.filter(participant=marisol).exists()
    assert not Response.objects.filter(participant=marisol).exists()
    assert not Assessment.objects.filter(participant=marisol).exists()
    assert all(r.text == "" for r in RecordRequest.objects.filter(participant=marisol))
    # what regulators count stays, pseudonymous
    assert Attendance.objects.filter(participant=marisol, status="attended").count() == 1
    assert DoseRecord.objects.filter(participant=marisol).count() == 1
    assert AdverseEvent.objects.get(participant=marisol).severity == "mild"
    # nobody else's record changed
    assert FacilitatorNote.objects.get(participant=world.ben).body == "Ben's private worry about work."
    assert Reflection.objects.get(participant=world.ben).body == "Ben's own reflection."
    # who and when
    request.refresh_from_db()
    assert request.status == "done" and request.decided_by == alice and request.decided_at is not None
    assert RecordRequest.objects.get(kind="correction").status == "declined"
    entry = _audits("participants.records.destroyed").get()
    assert entry.actor_id == alice.pk and entry.data["request"] == request.pk
    # the link closes, and the database holds no trace of the name
    assert Client().get(world.space("records/")).status_code == 410
    with connection.cursor() as cursor:
        cursor.execute("SELECT display_name FROM participants_participant WHERE id = %s", [marisol.pk])
        assert "Marisol" not in cursor.fetchone()[0]


def test_staff_confirm_destruction_from_the_records_page(world, alice_client, alice, monkeypatch):
    later = _after_retention(world.marisol)
    request = record_request_create(participant=world.marisol, kind="destruction", today=later)
    url = reverse("participants:record_destroy", args=[world.marisol.pk, request.pk])
    refused = alice_client.post(url)
    assert refused.status_code == 400 and add_years(TODAY(), 5).isoformat() in refused.content.decode()
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: later)
    assert alice_client.post(url).status_code == 302
    assert RecordRequest.objects.get().status == "done"
    assert alice_client.get(reverse("participants:detail", args=[world.marisol.pk])).status_code == 404


# --- roles and tenancy ----------------------------------------------------------------------------


def test_roles_decide_what_staff_may_do(world, org, bob_client, rita_client):
    request = record_request_create(participant=world.marisol, kind="correction", text="Corregir mi fecha.")
    records_url = reverse("participants:records", args=[world.marisol.pk])
    decide = reverse("participants:record_request_decide", args=[world.marisol.pk, request.pk])
    assert bob_client.get(records_url).status_code == 200  # facilitators read it
    assert bob_client.post(decide, {"decision": "accept"}).status_code == 403
    assert bob_client.get(reverse("participants:record_requests")).status_code == 403
    assert rita_client.get(records_url).status_code == 403  # researchers see no identified records

    clinician = make_user(org, Role.FACILITATOR, email="dr.lee@cascadia.example")
    Membership.objects.filter(user=clinician).update(is_clinician=True)
    client = Client()
    client.force_login(clinician)
    assert client.post(decide, {"decision": "accept"}).status_code == 302
    destruction = record_request_create(
        participant=world.marisol, kind="destruction", today=_after_retention(world.marisol)
    )
    destroy = reverse("participants:record_destroy", args=[world.marisol.pk, destruction.pk])
    assert client.post(destroy).status_code == 403  # only coordinators and administrators destroy
    assert RecordRequest.objects.get(pk=destruction.pk).status == "open"


def test_another_organization_gets_404_for_everything(world, charlie_client, charlie):
    request = record_request_create(participant=world.marisol, kind="correction", text="Corregir mi fecha.")
    pk = world.marisol.pk
    assert charlie_client.get(reverse("participants:records", args=[pk])).status_code == 404
    for name in ("record_request_decide", "record_destroy"):
        assert (
            charlie_client.post(
                reverse(f"participants:{name}", args=[pk, request.pk]), {"decision": "accept"}
            ).status_code
            == 404
        )
    assert (
        charlie_client.post(reverse("participants:record_request_add", args=[pk]), {"kind": "correction"}).status_code
        == 404
    )
    assert "Marisol" not in charlie_client.get(reverse("participants:record_requests")).content.decode()
    with pytest.raises(PermissionDenied):
        record_request_decide(request=request, actor=charlie, accept=True)
    assert RecordRequest.objects.get().status == "open"
