"""An organization's data as one FHIR R4 (R4B) ``collection`` Bundle, and the import of a Bundle
of QuestionnaireResponses.

Export: Organization; Patient (identified by pseudonym in this deployment's pseudonym system;
name, telecom, birth date and language only in an identified export, which only
``IDENTIFIED_EXPORT_ROLES`` may make); Group (one per circle, members as Patient references);
Encounter (one per session, its subject the circle's Group when it has one, plus one per
attendance with the Patient as subject and ``partOf`` the session's Encounter: R4 Encounter
participants are practitioners, not patients); Questionnaire (those answered),
QuestionnaireResponse and Observation (the builders in ``fhir.py``); AdverseEvent (codes only);
Consent (one per decision on a scope: ``active`` while it stands, ``inactive`` once withdrawn or
superseded; a ``permit`` or ``deny`` provision). Archived participants and everything about them
are left out; free text (session titles and places, event descriptions, notes, typed signature
names) never leaves. Resources validate against ``fhir.resources.R4B`` (tests).

Import: a Bundle (collection, transaction or batch) whose QuestionnaireResponses name a Patient
by identifier in this organization's pseudonym system, directly or through a Patient entry of
the bundle, and a Questionnaire canonical URL of an instrument the organization has. Responses
attach only to scheduled assessments, so each is matched to the participant's open assessment of
that instrument whose window contains the authored date (the nearest due date wins) and
submitted through ``outcomes.services.response_submit`` (scored, flags raising alerts). Other
resource types are ignored and counted. All or nothing: every entry is checked first, and if any
fails nothing is saved and each problem is listed with its entry index.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Prefetch
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from communitas.accounts.models import Membership, Organization, User
from communitas.core.audit import audit_record
from communitas.interop import fhir
from communitas.interop.models import ExportLog
from communitas.interop.permissions import can_file_reports
from communitas.interop.services import export_log_record
from communitas.outcomes.definitions import Instrument
from communitas.outcomes.models import Assessment, Response, Score
from communitas.outcomes.permissions import can_manage_assessments
from communitas.outcomes.registry import instruments_for
from communitas.outcomes.scoring import ScoringError, validate
from communitas.outcomes.services import response_submit
from communitas.participants.models import ConsentDecision, ConsentScope, Participant
from communitas.programs.models import Attendance, Circle, Session
from communitas.safety.models import AdverseEvent

Role = Membership.Role
IDENTIFIED_EXPORT_ROLES = frozenset({Role.ADMIN})
CODES = "https://communitas.example/fhir/CodeSystem/"
IDS = "https://communitas.example/fhir/sid/"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBSERVATION_VALUE = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
AE_SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
AE_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
AE_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
ENCOUNTER_STATUS = {
    Session.Status.PLANNED: "planned",
    Session.Status.IN_PROGRESS: "in-progress",
    Session.Status.COMPLETED: "finished",
    Session.Status.CANCELLED: "cancelled",
}
SCOPE_KIND = {  # our consent scopes in the R4 consent-scope value set
    ConsentScope.PARTICIPATION: "treatment",
    ConsentScope.SUPPORTIVE_TOUCH: "treatment",
    ConsentScope.RESEARCH: "research",
}
AE_OUTCOMES = {
    AdverseEvent.Outcome.RESOLVED: "resolved",
    AdverseEvent.Outcome.RESOLVING: "recovering",
    AdverseEvent.Outcome.NOT_RESOLVED: "ongoing",
    AdverseEvent.Outcome.SEQUELAE: "resolvedWithSequelae",
    AdverseEvent.Outcome.FATAL: "fatal",
    AdverseEvent.Outcome.UNKNOWN: "unknown",
}
IMPORT_TYPES = frozenset({"collection", "transaction", "batch"})


def api_base_url() -> str:
    """Where the FHIR API lives; Questionnaire canonicals and entry URLs are under it."""
    return settings.COMMUNITAS_BASE_URL.rstrip("/") + "/api/v1"


def pseudonym_system(organization_id: int) -> str:
    """The identifier system of one organization's pseudonyms in this deployment."""
    return f"{settings.COMMUNITAS_BASE_URL.rstrip('/')}/fhir/sid/pseudonym/{organization_id}"


# Pure builders (plain data in, FHIR JSON out)


def _ref(kind: str, id: object) -> dict:
    return {"reference": f"{kind}/{id}"}


def _coding(system: str, code: str, display: str = "") -> dict:
    return {"system": system, "code": code, **({"display": display} if display else {})}


def _concept(system: str, code: str, display: str = "") -> dict:
    return {"coding": [_coding(system, code, display)], **({"text": display} if display else {})}


def _instant(moment: datetime.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def organization_resource(organization: Organization) -> dict:
    return {
        "resourceType": "Organization",
        "id": str(organization.pk),
        "identifier": [{"system": f"{IDS}organization", "value": organization.slug}],
        "active": True,
        "name": organization.name,
    }


def patient_resource(row: dict, *, organization_id: int, identity: dict | None = None) -> dict:
    """``row``: pseudonym. ``identity`` (identified exports only): display_name, legal_name, email,
    phone, date_of_birth, preferred_language."""
    out: dict = {
        "resourceType": "Patient",
        "id": row["pseudonym"],
        "identifier": [{"system": pseudonym_system(organization_id), "value": row["pseudonym"]}],
        "active": True,
        "managingOrganization": _ref("Organization", organization_id),
    }
    if identity is None:
        return out
    names = [{"use": "usual", "text": identity["display_name"]}]
    if identity["legal_name"]:
        names.append({"use": "official", "text": identity["legal_name"]})
    out["name"] = names
    telecom = [{"system": s, "value": identity[k]} for s, k in (("email", "email"), ("phone", "phone")) if identity[k]]
    if telecom:
        out["telecom"] = telecom
    if identity["date_of_birth"]:
        out["birthDate"] = identity["date_of_birth"].isoformat()
    language = identity["preferred_language"]
    out["communication"] = [{"language": _concept("urn:ietf:bcp:47", language), "preferred": True}]
    return out


def group_resource(row: dict, *, organization_id: int) -> dict:
    """``row``: id, name, members (pseudonyms)."""
    return {
        "resourceType": "Group",
        "id": f"circle-{row['id']}",
        "identifier": [{"system": f"{IDS}circle", "value": str(row["id"])}],
        "active": True,
        "type": "person",
        "actual": True,
        "code": _concept(f"{CODES}group-kind", "circle", "Circle"),
        "name": row["name"],
        "quantity": len(row["members"]),
        "managingEntity": _ref("Organization", organization_id),
        "member": [{"entity": _ref("Patient", p)} for p in row["members"]],
    }


def _period(row: dict) -> dict:
    start, end = row["started_at"] or row["planned_start"], row["ended_at"] or row["planned_end"]
    return {"start": _instant(start), "end": _instant(end)} if end and end >= start else {"start": _instant(start)}


def session_encounter(row: dict, *, organization_id: int) -> dict:
    """``row``: id, kind, kind_label, status, circle_id, planned_start/end, started_at, ended_at."""
    out: dict = {
        "resourceType": "Encounter",
        "id": f"session-{row['id']}",
        "status": ENCOUNTER_STATUS.get(row["status"], "unknown"),
        "class": _coding(ACT_CODE, "AMB", "ambulatory"),
        "type": [_concept(f"{CODES}session-kind", row["kind"], row["kind_label"])],
        "period": _period(row),
        "serviceProvider": _ref("Organization", organization_id),
    }
    if row["circle_id"]:
        out["subject"] = _ref("Group", f"circle-{row['circle_id']}")
    return out


def attendance_encounter(row: dict, session: dict) -> dict:
    """One participant's part in a session. ``row``: id, status, status_label, pseudonym."""
    status = ENCOUNTER_STATUS.get(session["status"], "unknown")
    if row["status"] == Attendance.Status.ABSENT:
        status = "cancelled"
    return {
        "resourceType": "Encounter",
        "id": f"attendance-{row['id']}",
        "status": status,
        "class": _coding(ACT_CODE, "AMB", "ambulatory"),
        "type": [
            _concept(f"{CODES}session-kind", session["kind"], session["kind_label"]),
            _concept(f"{CODES}attendance", row["status"], row["status_label"]),
        ],
        "subject": _ref("Patient", row["pseudonym"]),
        "period": _period(session),
        "partOf": _ref("Encounter", f"session-{session['id']}"),
    }


def _seriousness(row: dict) -> dict:
    if row["outcome"] == AdverseEvent.Outcome.FATAL:
        return _concept(AE_SERIOUSNESS, "SeriousResultsInDeath", "Results in death")
    if row["severity"] == AdverseEvent.Severity.LIFE_THREATENING:
        return _concept(AE_SERIOUSNESS, "SeriousIsLifeThreatening", "Is Life-threatening")
    if row["serious"]:
        return _concept(AE_SERIOUSNESS, "Serious", "Serious")
    return _concept(AE_SERIOUSNESS, "Non-serious", "Non-serious")


def adverse_event_resource(row: dict) -> dict:
    """Codes only (the description is free text and stays home). ``row``: id, kind, kind_label,
    onset_at, created_at, severity, serious, outcome, during_administration, regulator_category,
    pseudonym. Relatedness is not sent: R4 carries causality only against a suspect entity
    (a substance resource this export does not have)."""
    severity = "severe" if row["severity"] == AdverseEvent.Severity.LIFE_THREATENING else row["severity"]
    category = [_concept(f"{CODES}adverse-event-kind", row["kind"], row["kind_label"])]
    if row["regulator_category"]:
        category.append(_concept(f"{CODES}regulator-category", row["regulator_category"]))
    if row["during_administration"]:
        category.append(_concept(f"{CODES}adverse-event-timing", "during_administration"))
    return {
        "resourceType": "AdverseEvent",
        "id": f"ae-{row['id']}",
        "actuality": "actual",
        "category": category,
        "event": _concept(f"{CODES}adverse-event-kind", row["kind"], row["kind_label"]),
        "subject": _ref("Patient", row["pseudonym"]),
        "date": _instant(row["onset_at"]),
        "recordedDate": _instant(row["created_at"]),
        "seriousness": _seriousness(row),
        "severity": _concept(AE_SEVERITY, severity, severity.capitalize()),
        "outcome": _concept(AE_OUTCOME, AE_OUTCOMES.get(row["outcome"], "unknown")),
    }


def consent_resource(row: dict, *, organization_id: int) -> dict:
    """``row``: id, scope, scope_label, granted, withdrawn_at, signed_at, current, pseudonym."""
    kind = SCOPE_KIND.get(row["scope"], "patient-privacy")
    period = {"start": _instant(row["signed_at"])}
    if row["withdrawn_at"]:
        period["end"] = _instant(row["withdrawn_at"])
    provision: dict = {"type": "permit" if row["granted"] else "deny", "period": period}
    if row["scope"] == ConsentScope.RESEARCH:
        provision["purpose"] = [_coding("http://terminology.hl7.org/CodeSystem/v3-ActReason", "HRESCH")]
    active = row["current"] and row["withdrawn_at"] is None
    return {
        "resourceType": "Consent",
        "id": f"consent-{row['id']}",
        "status": "active" if active else "inactive",
        "scope": _concept(CONSENT_SCOPE, kind),
        "category": [
            {"coding": [{"system": fhir.LOINC, "code": "59284-0"}]},
            _concept(f"{CODES}consent-scope", row["scope"], row["scope_label"]),
        ],
        "patient": _ref("Patient", row["pseudonym"]),
        "dateTime": _instant(row["signed_at"]),
        "organization": [_ref("Organization", organization_id)],
        "policyRule": _concept(ACT_CODE, "OPTIN" if row["granted"] else "OPTOUT"),
        "provision": provision,
    }


# Reads (archived participants never appear)


def _patients(organization_id: int, *, identified: bool) -> list[dict]:
    people = Participant.objects.filter(organization_id=organization_id, archived_at__isnull=True).order_by("pseudonym")
    if not identified:
        return [{"pseudonym": p, "identity": None} for p in people.values_list("pseudonym", flat=True)]
    keys = ("display_name", "legal_name", "email", "phone", "date_of_birth", "preferred_language")
    return [{"pseudonym": p.pseudonym, "identity": {k: getattr(p, k) for k in keys}} for p in people]


def _circles(organization_id: int) -> list[dict]:
    live = Participant.objects.filter(archived_at__isnull=True).order_by("pseudonym").only("pseudonym")
    circles = Circle.objects.filter(organization_id=organization_id).prefetch_related(Prefetch("members", live))
    return [
        {"id": c.pk, "name": c.name, "members": [m.pseudonym for m in c.members.all()]} for c in circles.order_by("pk")
    ]


def _sessions(organization_id: int) -> list[dict]:
    fields = ("id", "kind", "status", "circle_id", "planned_start", "planned_end", "started_at", "ended_at")
    rows = list(Session.objects.filter(organization_id=organization_id).order_by("planned_start", "pk").values(*fields))
    labels = dict(Session.Kind.choices)
    return [{**row, "kind_label": str(labels.get(row["kind"], row["kind"]))} for row in rows]


def _attendances(organization_id: int) -> list[dict]:
    rows = Attendance.objects.filter(organization_id=organization_id, participant__archived_at__isnull=True)
    labels = dict(Attendance.Status.choices)
    values = rows.order_by("session_id", "pk").values(
        "id", "session_id", "status", pseudonym=F("participant__pseudonym")
    )
    return [{**row, "status_label": str(labels.get(row["status"], row["status"]))} for row in values]


def _adverse_events(organization_id: int) -> list[dict]:
    fields = ("id", "kind", "onset_at", "created_at", "severity", "serious", "outcome")
    rows = AdverseEvent.objects.filter(organization_id=organization_id, participant__archived_at__isnull=True)
    values = rows.order_by("onset_at", "pk").values(
        *fields, "during_administration", "regulator_category", pseudonym=F("participant__pseudonym")
    )
    labels = dict(AdverseEvent.Kind.choices)
    return [{**row, "kind_label": str(labels.get(row["kind"], row["kind"]))} for row in values]


def _consents(organization_id: int) -> list[dict]:
    rows = ConsentDecision.objects.filter(organization_id=organization_id, participant__archived_at__isnull=True)
    values = list(
        rows.order_by("created_at", "pk").values(
            "id",
            "scope",
            "granted",
            "withdrawn_at",
            "participant_id",
            signed_at=F("signature__signed_at"),
            pseudonym=F("participant__pseudonym"),
        )
    )
    newest = {(row["participant_id"], row["scope"]): row["id"] for row in values}  # ordered: the last wins
    labels = dict(ConsentScope.choices)
    return [
        {
            **row,
            "scope_label": str(labels.get(row["scope"], row["scope"])),
            "current": newest[(row["participant_id"], row["scope"])] == row["id"],
        }
        for row in values
    ]


def _responses(organization_id: int) -> list[dict]:
    rows = Response.objects.filter(organization_id=organization_id, participant__archived_at__isnull=True)
    return [
        dict(row)
        for row in rows.order_by("submitted_at", "pk").values(
            "id",
            "answers",
            instrument=F("instrument_code"),
            version=F("instrument_version"),
            authored=F("submitted_at"),
            patient=F("participant__pseudonym"),
        )
    ]


def _scores(organization_id: int) -> list[dict]:
    rows = Score.objects.filter(organization_id=organization_id, response__participant__archived_at__isnull=True)
    return [
        dict(row)
        for row in rows.order_by("response__submitted_at", "pk").values(
            "id",
            "total",
            "band",
            "response_id",
            instrument=F("instrument_code"),
            effective=F("response__submitted_at"),
            patient=F("response__participant__pseudonym"),
        )
    ]


# The export


def _require_exporter(*, organization: Organization, actor: User | None, membership: Membership | None, via: str):
    if via not in ExportLog.Via.values:
        raise ValueError(f"unknown channel {via!r}")
    if membership is None and actor is None and via == ExportLog.Via.CLI:
        return  # the deployment's operator, at its command line (pseudonymous only)
    if membership is None or actor is None or not actor.is_active:
        raise PermissionDenied
    if membership.organization_id != organization.pk or membership.user_id != actor.pk:
        raise PermissionDenied
    if not can_file_reports(membership):
        raise PermissionDenied


def _outcome_resources(organization_id: int, base_url: str) -> list[dict]:
    instruments = instruments_for(organization_id)
    responses = [r for r in _responses(organization_id) if r["instrument"] in instruments]
    used = sorted({r["instrument"] for r in responses})
    out = [fhir.questionnaire(instruments[code], base_url) for code in used]
    out += [fhir.questionnaire_response(r, instruments[r["instrument"]], base_url) for r in responses]
    scores = [s for s in _scores(organization_id) if s["instrument"] in instruments]
    return out + [fhir.observation(s, instruments[s["instrument"]]) for s in scores]


def _resources(organization: Organization, *, identified: bool, base_url: str) -> list[dict]:
    org_id = organization.pk
    out = [organization_resource(organization)]
    out += [
        patient_resource(p, organization_id=org_id, identity=p["identity"])
        for p in _patients(org_id, identified=identified)
    ]
    out += [group_resource(c, organization_id=org_id) for c in _circles(org_id)]
    sessions = {s["id"]: s for s in _sessions(org_id)}
    out += [session_encounter(s, organization_id=org_id) for s in sessions.values()]
    out += [attendance_encounter(a, sessions[a["session_id"]]) for a in _attendances(org_id)]
    out += _outcome_resources(org_id, base_url)
    out += [adverse_event_resource(e) for e in _adverse_events(org_id)]
    return out + [consent_resource(c, organization_id=org_id) for c in _consents(org_id)]


def _counts(resources: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for resource in resources:
        counts[resource["resourceType"]] = counts.get(resource["resourceType"], 0) + 1
    return dict(sorted(counts.items()))


def canonical_json(data: dict) -> str:
    """Compact JSON with sorted keys: what the export log's SHA-256 is taken of."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@transaction.atomic
def fhir_export(
    *,
    organization: Organization,
    actor: User | None,
    membership: Membership | None,
    identified: bool = False,
    via: str,
) -> dict:
    """The organization's FHIR Bundle (see the module docstring), logged and audited. Allowed to
    coordinators and administrators (and to the command line, pseudonymous only); ``identified``
    only to ``IDENTIFIED_EXPORT_ROLES``."""
    _require_exporter(organization=organization, actor=actor, membership=membership, via=via)
    if identified and (membership is None or membership.role not in IDENTIFIED_EXPORT_ROLES):
        raise PermissionDenied
    base_url = api_base_url()
    resources = _resources(organization, identified=identified, base_url=base_url)
    bundle = fhir.bundle(resources, "collection", base_url=base_url)
    label = _coding(OBSERVATION_VALUE, "PSEUDED", "pseudonymized") if not identified else None
    bundle = {
        "resourceType": "Bundle",
        "id": uuid.uuid4().hex,
        **({"meta": {"security": [label]}} if label else {}),
        "type": "collection",
        "timestamp": timezone.now().isoformat(),
        "entry": bundle["entry"],
    }
    counts = _counts(resources)
    export_log_record(
        organization_id=organization.pk,
        kind=ExportLog.Kind.FHIR,
        via=via,
        actor=actor,
        fields=list(counts),
        rows=len(resources),
        content=canonical_json(bundle),
        parameters={"identified": identified, "counts": counts, "bundle": bundle["id"]},
    )
    return bundle


# The import


@dataclass(frozen=True)
class Problem:
    index: int | None  # the entry's position in Bundle.entry; None for the bundle itself
    reason: str


@dataclass
class ImportResult:
    saved: list[int] = field(default_factory=list)  # ids of the responses created
    problems: list[Problem] = field(default_factory=list)
    ignored: dict[str, int] = field(default_factory=dict)  # resource type -> entries not imported
    log: ExportLog | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class _Planned:
    index: int
    assessment: Assessment
    answers: dict[str, float]
    authored: datetime.datetime
    language: str


class _Refused(Exception):
    pass


def _parse(bundle) -> tuple[dict | None, list[Problem]]:
    if isinstance(bundle, bytes | str):
        try:
            bundle = json.loads(bundle)
        except ValueError as exc:
            return None, [Problem(None, f"not JSON: {exc}")]
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return None, [Problem(None, "not a FHIR Bundle (resourceType must be Bundle)")]
    try:
        get_fhir_model_class("Bundle").model_validate(bundle)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return None, [Problem(None, f"not a valid FHIR R4B Bundle: {where}: {first['msg']}")]
    except (ValueError, TypeError, KeyError, LookupError) as exc:
        return None, [Problem(None, f"not a valid FHIR R4B Bundle: {exc}")]
    if bundle.get("type") not in IMPORT_TYPES:
        return None, [Problem(None, f"bundle type must be one of {', '.join(sorted(IMPORT_TYPES))}")]
    return bundle, []


def _bundle_patients(entries: list[dict], system: str) -> dict[str, str | None]:
    """Patient entries by fullUrl and by ``Patient/<id>`` -> their pseudonym in ``system`` ("" when
    they are identified only in other systems, None when not identified at all)."""
    found: dict[str, str | None] = {}
    for entry in entries:
        resource = entry.get("resource") or {}
        if resource.get("resourceType") != "Patient":
            continue
        identifiers = [i for i in resource.get("identifier") or [] if isinstance(i, dict)]
        ours = [str(i.get("value") or "") for i in identifiers if i.get("system") == system]
        pseudonym = ours[0] if ours else ("" if identifiers else None)  # "": someone else's patient
        for key in (entry.get("fullUrl"), f"Patient/{resource.get('id')}" if resource.get("id") else None):
            if key:
                found[key] = pseudonym
    return found


def _pseudonym(subject, patients: dict[str, str | None], system: str) -> str:
    if not isinstance(subject, dict):
        raise _Refused("the response names no subject")
    identifier = subject.get("identifier")
    if isinstance(identifier, dict) and identifier.get("value"):
        if identifier.get("system") != system:
            raise _Refused("unknown patient")
        return str(identifier["value"])
    reference = subject.get("reference")
    if reference not in patients:
        raise _Refused(f"the subject must be a Patient identifier in {system} or a Patient entry of the bundle")
    pseudonym = patients[reference]
    if pseudonym is None:
        raise _Refused(f"the subject's Patient entry has no identifier in {system}")
    if not pseudonym:
        raise _Refused("unknown patient")
    return pseudonym


def _authored(value) -> datetime.datetime:
    text = str(value or "")
    try:
        if len(text) == 10:
            day = datetime.date.fromisoformat(text)
            moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
        else:
            moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise _Refused("authored must be a full date or date and time") from None
    if timezone.is_naive(moment):
        raise _Refused("authored needs a time zone")
    if moment > timezone.now() + datetime.timedelta(minutes=5):
        raise _Refused("authored is in the future")
    return moment


def _flat_items(items) -> list[dict]:
    out = []
    for item in items or []:
        if isinstance(item, dict):
            out += ([item] if "answer" in item else []) + _flat_items(item.get("item"))
    return out


def _answers(instrument: Instrument, resource: dict) -> dict[str, float]:
    items = {i.id: i for i in instrument.items}
    answers: dict[str, float] = {}
    for entry in _flat_items(resource.get("item")):
        item = items.get(str(entry.get("linkId")))
        if item is None:
            raise _Refused(f"{instrument.code} has no item {entry.get('linkId')!r}")
        given = entry.get("answer") or []
        if len(given) != 1 or not isinstance(given[0], dict):
            raise _Refused(f"item {item.id} needs exactly one answer")
        try:
            answers[item.id] = fhir.answer_value(instrument, item, given[0])
        except ValueError as exc:
            raise _Refused(str(exc)) from None
    try:
        validate(instrument, answers)
    except ScoringError as exc:
        raise _Refused(str(exc)) from None
    missing = [i.id for i in instrument.items if i.required and i.id not in answers]
    if missing:
        raise _Refused(f"unanswered required items: {', '.join(missing)}")
    return answers


def _instrument(resource: dict, available: dict[str, Instrument], base_url: str) -> Instrument:
    parsed = fhir.questionnaire_code(str(resource.get("questionnaire") or ""), base_url)
    instrument = available.get(parsed[0]) if parsed else None
    if instrument is None or parsed is None:
        raise _Refused(f"unknown questionnaire {resource.get('questionnaire')!r}")
    if parsed[1] and parsed[1] != instrument.version:
        raise _Refused(f"{instrument.code} version {parsed[1]} is not the version in use ({instrument.version})")
    return instrument


def _assessment(organization_id: int, participant: Participant, code: str, day: datetime.date, taken: set[int]):
    window = Assessment.objects.filter(
        organization_id=organization_id,
        participant=participant,
        instrument_code=code,
        cancelled_at__isnull=True,
        opens_on__lte=day,
        closes_on__gte=day,
    )
    open_ = [a for a in window.filter(response__isnull=True).order_by("due_on", "pk") if a.pk not in taken]
    if open_:
        return min(open_, key=lambda a: abs((a.due_on - day).days))
    if window.filter(response__isnull=False).exists():
        raise _Refused(f"the {code} assessment due around {day.isoformat()} is already answered")
    if window.exists():
        raise _Refused(f"another entry of this bundle already answers the {code} assessment for that date")
    raise _Refused(f"no open {code} assessment for this patient whose window contains {day.isoformat()}")


def _plan(organization: Organization, index: int, resource: dict, context: dict) -> _Planned:
    if resource.get("status") not in ("completed", "amended"):
        raise _Refused("only completed responses can be imported")
    pseudonym = _pseudonym(resource.get("subject"), context["patients"], context["system"])
    participant = Participant.objects.filter(
        organization=organization, pseudonym=pseudonym, archived_at__isnull=True
    ).first()
    if participant is None:
        raise _Refused("unknown patient")
    instrument = _instrument(resource, context["instruments"], context["base_url"])
    answers = _answers(instrument, resource)
    authored = _authored(resource.get("authored"))
    day = timezone.localtime(authored).date()
    assessment = _assessment(organization.pk, participant, instrument.code, day, context["taken"])
    context["taken"].add(assessment.pk)
    language = resource.get("language") if resource.get("language") in instrument.languages else "en"
    return _Planned(index, assessment, answers, authored, str(language))


def _require_importer(organization: Organization, actor: User | None, via: str) -> None:
    if via not in ExportLog.Via.values:
        raise ValueError(f"unknown channel {via!r}")
    membership = actor.memberships.filter(organization=organization).first() if actor else None
    if actor is None or not actor.is_active or not can_manage_assessments(membership):
        raise PermissionDenied


def _check(organization: Organization, bundle: dict, result: ImportResult) -> list[_Planned]:
    entries = bundle.get("entry") or []
    system = pseudonym_system(organization.pk)
    context = {
        "system": system,
        "patients": _bundle_patients(entries, system),
        "instruments": instruments_for(organization.pk),
        "base_url": api_base_url(),
        "taken": set(),
    }
    planned = []
    for index, entry in enumerate(entries):
        resource = entry.get("resource") or {}
        kind = str(resource.get("resourceType") or "")
        if kind != "QuestionnaireResponse":
            result.ignored[kind] = result.ignored.get(kind, 0) + 1
            continue
        try:
            planned.append(_plan(organization, index, resource, context))
        except _Refused as exc:
            result.problems.append(Problem(index, str(exc)))
    if not planned and not result.problems:
        result.problems.append(Problem(None, "the bundle holds no QuestionnaireResponse"))
    return planned


def _save(planned: list[_Planned], actor: User, result: ImportResult) -> None:
    try:
        with transaction.atomic():
            for plan in planned:
                try:
                    response, created = response_submit(
                        assessment=plan.assessment,
                        answers=plan.answers,
                        language=plan.language,
                        source=Response.Source.IMPORT,
                        entered_by=actor,
                        submitted_at=plan.authored,
                    )
                except ScoringError as exc:
                    result.problems.append(Problem(plan.index, str(exc)))
                    raise _Refused from exc
                if not created:
                    result.problems.append(Problem(plan.index, "the assessment was answered meanwhile"))
                    raise _Refused
                result.saved.append(response.pk)
    except _Refused:
        result.saved.clear()


def fhir_import(*, organization: Organization, bundle: dict | str | bytes, actor: User, via: str) -> ImportResult:
    """Import the bundle's QuestionnaireResponses, all or nothing (see the module docstring).
    Allowed to those who manage assessments (coordinators, administrators). A refused import
    saves nothing, not even a log entry, and lists its problems."""
    _require_importer(organization, actor, via)
    parsed, problems = _parse(bundle)
    result = ImportResult(problems=problems)
    if parsed is None:
        return result
    with transaction.atomic():
        planned = _check(organization, parsed, result)
        if result.problems:
            return result
        _save(planned, actor, result)
        if result.problems:
            return result
        by_instrument: dict[str, int] = {}
        for plan in planned:
            code = plan.assessment.instrument_code
            by_instrument[code] = by_instrument.get(code, 0) + 1
        result.log = ExportLog.objects.create(
            organization=organization,
            kind=ExportLog.Kind.FHIR_IMPORT,
            via=via,
            actor=actor,
            fields=["QuestionnaireResponse"],
            rows=len(result.saved),
            parameters={"instruments": by_instrument, "ignored": result.ignored},
            sha256=hashlib.sha256(canonical_json(parsed).encode()).hexdigest(),
        )
        audit_record(
            action="interop.fhir.imported",
            actor=actor,
            organization_id=organization.pk,
            obj=result.log,
            data={"via": via, "responses": len(result.saved), "instruments": by_instrument, "ignored": result.ignored},
        )
    return result
