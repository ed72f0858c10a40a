"""The FHIR resources a data-sharing agreement lets cross: the builders of ``fhir_bundle`` over
reads limited to the participants the gate (``sharing.shared_participants``) let through, each
scope bringing its own resource types (``SHARED_RESOURCES``).

Always: the owner's Organization, a pseudonymous Patient per shared participant (the owner's
pseudonym in the owner's pseudonym system; never a name, contact or birth date) and the Consent
each scope was shared on (the participant's current decision, a ``permit``).

- ``participation`` (taking part in the program): the participant's own Encounters (one per
  attendance, with the session's kind, status and period) and AdverseEvents (codes only). Session
  Encounters and circle Groups are not sent: they list other people. ``partOf`` is dropped, as the
  session it points to stays home.
- ``research`` (use of de-identified data for research): the Questionnaires answered, the
  QuestionnaireResponses and the Observations (scores).

Other scopes (state reporting, recording, supportive touch, contacting support people, sharing
reflections) are about something else than handing data to another organization and bring no
resources, so agreements cannot name them. Free text (titles, places, descriptions, notes) never
crosses, as in every FHIR export. Pure reads and builders: logging is the caller's.
"""

from __future__ import annotations

from django.db.models import F

from communitas.accounts.models import Organization
from communitas.interop import fhir
from communitas.interop.fhir_bundle import (
    adverse_event_resource,
    attendance_encounter,
    consent_resource,
    organization_resource,
    patient_resource,
)
from communitas.outcomes.models import Response, Score
from communitas.outcomes.registry import instruments_for
from communitas.participants.models import ConsentDecision, ConsentScope, Participant
from communitas.programs.models import Attendance, Session
from communitas.safety.models import AdverseEvent

SHARED_RESOURCES: dict[str, tuple[str, ...]] = {
    ConsentScope.PARTICIPATION.value: ("Encounter", "AdverseEvent"),
    ConsentScope.RESEARCH.value: ("Questionnaire", "QuestionnaireResponse", "Observation"),
}
ALWAYS_SHARED = ("Organization", "Patient", "Consent")


def _consents(owner_id: int, scope: str, ids: list[int]) -> list[dict]:
    rows = ConsentDecision.objects.filter(organization_id=owner_id, participant_id__in=ids, scope=scope)
    values = rows.order_by("created_at", "pk").values(
        "id",
        "scope",
        "granted",
        "withdrawn_at",
        "participant_id",
        signed_at=F("signature__signed_at"),
        pseudonym=F("participant__pseudonym"),
    )
    newest = {row["participant_id"]: row for row in values}  # ordered: the last wins
    label = str(ConsentScope(scope).label)
    return [{**row, "scope_label": label, "current": True} for row in newest.values()]


def _encounters(owner_id: int, ids: list[int]) -> list[dict]:
    rows = Attendance.objects.filter(organization_id=owner_id, participant_id__in=ids).order_by(
        "session__planned_start", "pk"
    )
    values = rows.values(
        "id",
        "status",
        "session_id",
        pseudonym=F("participant__pseudonym"),
        kind=F("session__kind"),
        session_status=F("session__status"),
        planned_start=F("session__planned_start"),
        planned_end=F("session__planned_end"),
        started_at=F("session__started_at"),
        ended_at=F("session__ended_at"),
    )
    statuses, kinds = dict(Attendance.Status.choices), dict(Session.Kind.choices)
    out = []
    for row in values:
        session = {
            "id": row["session_id"],
            "kind": row["kind"],
            "kind_label": str(kinds.get(row["kind"], row["kind"])),
            "status": row["session_status"],
            **{k: row[k] for k in ("planned_start", "planned_end", "started_at", "ended_at")},
        }
        attendance = {**row, "status_label": str(statuses.get(row["status"], row["status"]))}
        encounter = attendance_encounter(attendance, session)
        encounter.pop("partOf")  # the session's Encounter (and its circle) stays home
        out.append(encounter)
    return out


def _adverse_events(owner_id: int, ids: list[int]) -> list[dict]:
    rows = AdverseEvent.objects.filter(organization_id=owner_id, participant_id__in=ids).order_by("onset_at", "pk")
    values = rows.values(
        "id",
        "kind",
        "onset_at",
        "created_at",
        "severity",
        "serious",
        "outcome",
        "during_administration",
        "regulator_category",
        pseudonym=F("participant__pseudonym"),
    )
    labels = dict(AdverseEvent.Kind.choices)
    return [adverse_event_resource({**row, "kind_label": str(labels.get(row["kind"], row["kind"]))}) for row in values]


def _outcomes(owner_id: int, ids: list[int], base_url: str) -> list[dict]:
    instruments = instruments_for(owner_id)
    responses = Response.objects.filter(organization_id=owner_id, participant_id__in=ids).order_by("submitted_at", "pk")
    response_rows: list[dict] = [
        dict(r)
        for r in responses.values(
            "id",
            "answers",
            instrument=F("instrument_code"),
            version=F("instrument_version"),
            authored=F("submitted_at"),
            patient=F("participant__pseudonym"),
        )
        if r["instrument"] in instruments
    ]
    scores = Score.objects.filter(organization_id=owner_id, response__participant_id__in=ids)
    score_rows: list[dict] = [
        dict(s)
        for s in scores.order_by("response__submitted_at", "pk").values(
            "id",
            "total",
            "band",
            "response_id",
            instrument=F("instrument_code"),
            effective=F("response__submitted_at"),
            patient=F("response__participant__pseudonym"),
        )
        if s["instrument"] in instruments
    ]
    out = [fhir.questionnaire(instruments[code], base_url) for code in sorted({r["instrument"] for r in response_rows})]
    out += [fhir.questionnaire_response(r, instruments[r["instrument"]], base_url) for r in response_rows]
    return out + [fhir.observation(s, instruments[s["instrument"]]) for s in score_rows]


def shared_resources(owner: Organization, shared: dict[str, list[int]], base_url: str) -> list[dict]:
    """``shared``: scope -> ids of the owner's participants the gate lets through for it."""
    everyone = sorted({pk for ids in shared.values() for pk in ids})
    pseudonyms = Participant.objects.filter(organization=owner, archived_at__isnull=True, pk__in=everyone)
    out = [organization_resource(owner)]
    out += [
        patient_resource({"pseudonym": p}, organization_id=owner.pk)
        for p in pseudonyms.order_by("pseudonym").values_list("pseudonym", flat=True)
    ]
    for scope in sorted(shared):
        out += [consent_resource(row, organization_id=owner.pk) for row in _consents(owner.pk, scope, shared[scope])]
    participation = shared.get(ConsentScope.PARTICIPATION.value) or []
    if participation:
        out += _encounters(owner.pk, participation) + _adverse_events(owner.pk, participation)
    research = shared.get(ConsentScope.RESEARCH.value) or []
    if research:
        out += _outcomes(owner.pk, research, base_url)
    return out
