"""Writes about a participant's record as a whole (OAR 333-333-4820, research/regulatory.md
§1.7): the participant asks for a correction (an addendum) or for destruction after the
retention period; named staff decide; a coordinator or administrator destroys. Every step is
audited with ids and codes only; a download is audited too.

Destruction is refused while the retention period runs or is unknown (``retention.py``), and
while anything blocks it (an open safety alert). It blanks or deletes each part of the record
as its section says (``records.py``), archives the participant, and closes the request with who
and when. The audit trail is never touched.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communitas.accounts.models import Membership, User
from communitas.core.audit import audit_record
from communitas.participants import records
from communitas.participants.models import Participant, RecordAddendum, RecordRequest
from communitas.participants.permissions import can_decide_record_requests, can_destroy_records

Kind, Status = RecordRequest.Kind, RecordRequest.Status
MAX_TEXT = 4000
MAX_OPEN_CORRECTIONS = 10


class RecordRequestError(ValueError):
    """A request that cannot be made or decided; the message is for the person asking."""

    def __init__(self, message: str, code: str = "invalid"):
        super().__init__(message)
        self.code = code


def destruction_refusal(participant: Participant, *, today: datetime.date | None = None) -> tuple[str, str] | None:
    """``(code, message)`` when the record may not be destroyed on ``today``, else ``None``."""
    today = today or timezone.localdate()
    kept = records.retention_of(participant, today)
    if kept.until is None:
        places = ", ".join(code for code in kept.unknown if code) or _("no jurisdiction recorded")
        return "retention_unknown", _(
            "No retention period is known for this record (%(places)s), so it has no automatic end and cannot be "
            "destroyed on request."
        ) % {"places": places}
    if not kept.ended(today):
        return "retention_running", _(
            "This record must be kept until %(date)s (%(years)s years from the last service, %(rules)s). It can be "
            "destroyed on request after that date."
        ) % {
            "date": kept.until.isoformat(),
            "years": kept.years,
            "rules": "; ".join(rule.citation for rule in kept.rules if rule.years),
        }
    blockers = records.destruction_blockers(participant)
    if blockers:
        return "blocked", blockers[0]
    return None


def _membership(actor: User, organization_id: int) -> Membership | None:
    return Membership.objects.filter(user=actor, organization_id=organization_id, is_active=True).first()


def _require(predicate, actor: User | None, organization_id: int) -> None:
    if actor is None or not predicate(_membership(actor, organization_id)):
        raise PermissionDenied


def _audit(action: str, actor: User | None, obj, **data) -> None:
    audit_record(action=action, actor=actor, organization_id=obj.organization_id, obj=obj, data=data)


def _clean_text(kind: str, text: str) -> str:
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise RecordRequestError(_("Please keep it under %(n)s characters.") % {"n": MAX_TEXT})
    if kind == Kind.CORRECTION and len(text) < 5:
        raise RecordRequestError(_("Say what is wrong or missing, and what it should say."))
    return text


def record_request_create(
    *,
    participant: Participant,
    kind: str,
    text: str = "",
    actor: User | None = None,
    today: datetime.date | None = None,
) -> RecordRequest:
    """The participant's request (``actor`` is ``None`` through their link, or the staff member
    making it on their behalf). A destruction request made too early is refused, and audited."""
    if kind not in Kind.values:
        raise RecordRequestError(_("Unknown kind of request."))
    via = RecordRequest.Via.STAFF if actor is not None else RecordRequest.Via.LINK
    if actor is not None:
        _require(can_decide_record_requests, actor, participant.organization_id)
    if kind == Kind.DESTRUCTION:
        refusal = destruction_refusal(participant, today=today)
        if refusal is not None:
            _audit("participants.record_request.refused", actor, participant, kind=kind, via=via, reason=refusal[0])
            raise RecordRequestError(refusal[1], code=refusal[0])
    return _request_create(participant=participant, kind=kind, text=_clean_text(kind, text), actor=actor, via=via)


@transaction.atomic
def _request_create(*, participant: Participant, kind: str, text: str, actor: User | None, via: str) -> RecordRequest:
    locked = Participant.objects.select_for_update().get(pk=participant.pk)
    if locked.archived_at is not None:
        raise RecordRequestError(_("This record is closed."))
    open_requests = RecordRequest.objects.filter(participant=locked, kind=kind, status=Status.OPEN)
    if kind == Kind.DESTRUCTION and open_requests.exists():
        raise RecordRequestError(_("A request to destroy this record is already open."), code="already_open")
    if kind == Kind.CORRECTION and open_requests.count() >= MAX_OPEN_CORRECTIONS:
        raise RecordRequestError(_("Several corrections are already waiting; please wait for an answer."))
    request = RecordRequest(
        organization_id=locked.organization_id,
        participant=locked,
        kind=kind,
        text=text,
        via=via,
        requested_by=actor,
    )
    request.full_clean()
    request.save()
    _audit("participants.record_request.created", actor, request, kind=kind, via=via, participant=locked.pseudonym)
    return request


def _locked_open(request: RecordRequest) -> RecordRequest:
    locked = RecordRequest.objects.select_for_update().select_related("participant").get(pk=request.pk)
    if locked.status != Status.OPEN:
        raise RecordRequestError(_("This request has already been decided."), code="decided")
    return locked


@transaction.atomic
def record_request_decide(
    *, request: RecordRequest, actor: User, accept: bool, note: str = "", addendum: str = ""
) -> RecordRequest:
    """Accept a correction (its addendum joins the record; nothing recorded is overwritten) or
    decline a correction or a destruction request with a reason the participant will read.
    A destruction is accepted only by ``record_destroy``."""
    _require(can_decide_record_requests, actor, request.organization_id)
    locked = _locked_open(request)
    note = (note or "").strip()[:MAX_TEXT]
    if accept and locked.kind != Kind.CORRECTION:
        raise RecordRequestError(_("A destruction is confirmed with the destroy action."))
    if not accept and not note:
        raise RecordRequestError(_("Give the reason for declining: the participant will read it."))
    locked.status = Status.ACCEPTED if accept else Status.DECLINED
    locked.decided_by, locked.decided_at, locked.decision_note = actor, timezone.now(), note
    locked.full_clean()
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
    _audit(f"participants.record_request.{locked.status}", actor, locked, kind=locked.kind)
    if accept:
        added = RecordAddendum(
            organization_id=locked.organization_id,
            participant=locked.participant,
            request=locked,
            text=_clean_text(Kind.CORRECTION, addendum or locked.text),
            added_by=actor,
        )
        added.full_clean()
        added.save()
        _audit("participants.record_addendum.added", actor, added, request=locked.pk)
    return locked


def record_destroy(*, request: RecordRequest, actor: User, today: datetime.date | None = None) -> dict[str, int]:
    """Destroy the record a destruction request is about; returns the rows changed per part."""
    _require(can_destroy_records, actor, request.organization_id)
    if request.kind != Kind.DESTRUCTION:
        raise RecordRequestError(_("Only a destruction request destroys a record."))
    refusal = destruction_refusal(request.participant, today=today)
    if refusal is not None:
        _audit("participants.records.destruction_refused", actor, request, reason=refusal[0])
        raise RecordRequestError(refusal[1], code=refusal[0])
    return _destroy(request=request, actor=actor, today=today)


@transaction.atomic
def _destroy(*, request: RecordRequest, actor: User, today: datetime.date | None) -> dict[str, int]:
    participant = Participant.objects.select_for_update().get(pk=request.participant_id)
    locked = _locked_open(request)
    refusal = destruction_refusal(participant, today=today)  # again, under the lock
    if refusal is not None:
        raise RecordRequestError(refusal[1], code=refusal[0])
    now = timezone.now()
    counts = records.record_erase(participant)
    participant.archived_at = participant.archived_at or now
    participant.save(update_fields=["archived_at", "updated_at"])
    RecordRequest.objects.filter(participant=participant, status=Status.OPEN).exclude(pk=locked.pk).update(
        status=Status.DECLINED, decided_by=actor, decided_at=now, updated_at=now
    )
    locked.status, locked.decided_by, locked.decided_at = Status.DONE, actor, now
    locked.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    _audit("participants.records.destroyed", actor, participant, request=locked.pk, parts=counts)
    return counts


def record_download_log(*, participant: Participant, fmt: str, link_id: int | None = None) -> None:
    """A participant downloaded their record through their link (``fmt``: json or pdf)."""
    _audit("participants.records.downloaded", None, participant, format=fmt, via="link", link=link_id)
