"""A participant's record as a whole: what the organization holds about one person, how long it
is kept, and how it is destroyed on their request (OAR 333-333-4820, research/regulatory.md §1.7).

Parts of the record live in apps above ``participants`` (safety, programs, community, outcomes),
which this app may not import (docs/ARCHITECTURE.md). So every app registers its parts here as
``RecordSection``s, from a ``records`` module of its own that this module imports on first use
(the way Django's admin discovers ``admin`` modules). A section says:

- ``collect``: its rows about the person, decrypted, as plain JSON values (the download);
- ``last_service``: the latest date it recorded a service for them (retention runs from the
  latest date any section gives);
- ``jurisdictions``: whose retention rules apply (the organization's, each program's);
- ``blocks_destruction``: a reason the record may not be destroyed now (an open safety alert);
- ``erase``: how its part is destroyed (``record_services.record_destroy``), returning how many
  rows it changed or deleted.

What a destruction keeps is decided per section, written next to its ``erase`` and shown to
staff from its ``keeps`` (on the participant's record page). In short: the audit trail is never
touched; identity, contact details, support people, free text (answers, notes, reflections,
descriptions) are deleted or blanked; pseudonymous rows that regulator reports count (sessions
attended, doses, screening outcomes, adverse events by severity, enrolments) stay, so filed
reports stay reproducible. Rows are kept rather than deleted where other tables protect them
(every foreign key to a participant is ``PROTECT``); the participant row itself stays, archived,
holding only its pseudonym, preferred language and dates.
"""

from __future__ import annotations

import datetime
import decimal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from django.apps import apps
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.module_loading import module_has_submodule
from django.utils.translation import gettext_lazy as _

from communitas.participants import retention as retention_rules
from communitas.participants.models import (
    ConsentDecision,
    ConsentSignature,
    Participant,
    ParticipantSearchToken,
    RecordAddendum,
    RecordRequest,
    SupportPerson,
)

FORMAT = "communitas.record/1"
Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class RecordSection:
    key: str  # "<app>.<part>", also the key in the JSON download
    title: str | Promise
    fields: tuple[tuple[str, str | Promise], ...]  # the keys of each row, with their labels
    collect: Callable[[Participant], Rows]
    order: int = 100
    last_service: Callable[[Participant], datetime.date | None] | None = None
    jurisdictions: Callable[[Participant], set[str]] | None = None
    blocks_destruction: Callable[[Participant], str | Promise | None] | None = None
    erase: Callable[[Participant], int] | None = None
    keeps: str | Promise = ""  # what a destruction leaves in this part, for staff


_sections: dict[str, RecordSection] = {}
_discovered = False
_lock = threading.Lock()


def register(section: RecordSection) -> RecordSection:
    _sections[section.key] = section
    return section


def _discover() -> None:
    global _discovered
    with _lock:
        if _discovered:
            return
        for config in apps.get_app_configs():
            if config.name.startswith("communitas.") and module_has_submodule(config.module, "records"):
                import_module(f"{config.name}.records")
        _discovered = True


def sections() -> list[RecordSection]:
    _discover()
    return sorted(_sections.values(), key=lambda s: (s.order, s.key))


# --- plain values -----------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """A JSON value for ``value``: dates and times as ISO 8601 (times in the local zone)."""
    if isinstance(value, datetime.datetime):
        return (
            timezone.localtime(value).isoformat(timespec="seconds") if timezone.is_aware(value) else value.isoformat()
        )
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    if isinstance(value, Promise):
        return str(value)
    return value


def row(**values: Any) -> dict[str, Any]:
    return {key: plain(value) for key, value in values.items()}


def day(value: datetime.datetime | datetime.date | None) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def latest(*values: datetime.datetime | datetime.date | None) -> datetime.date | None:
    days = [d for d in (day(v) for v in values) if d is not None]
    return max(days) if days else None


# --- the whole record ---------------------------------------------------------------------------


def last_service(participant: Participant, today: datetime.date | None = None) -> datetime.date | None:
    """The latest date any part of the record gives, up to ``today`` (a planned date, such as a
    future administration date, has not happened yet; retention is worked out again whenever it
    is asked for)."""
    today = today or timezone.localdate()
    days = (s.last_service(participant) for s in sections() if s.last_service)
    return latest(*(d for d in days if d is not None and d <= today))


def jurisdictions(participant: Participant) -> set[str]:
    found: set[str] = set()
    for section in sections():
        if section.jurisdictions:
            found |= {code for code in section.jurisdictions(participant) if code}
    return found


def retention_of(participant: Participant, today: datetime.date | None = None) -> retention_rules.Retention:
    return retention_rules.retention_for(jurisdictions(participant), last_service(participant, today))


def retention_until(participant: Participant, today: datetime.date | None = None) -> datetime.date | None:
    """The last day the record must be kept, as things stand on ``today``; ``None`` when no
    period is known (no automatic end)."""
    return retention_of(participant, today).until


def destruction_blockers(participant: Participant) -> list[str]:
    reasons = (s.blocks_destruction(participant) for s in sections() if s.blocks_destruction)
    return [str(reason) for reason in reasons if reason]


NOT_INCLUDED = (
    _("Anything about other participants, including what other members of your circles and pods wrote."),
    _("Staff records that two people should not be grouped together: they name someone else."),
    _("The audit trail of who changed your record and when (it holds no personal details)."),
)


def record_document(participant: Participant) -> dict[str, Any]:
    """Everything the organization holds about ``participant``, decrypted, as JSON values."""
    kept = retention_of(participant)
    organization = participant.organization
    return {
        "format": FORMAT,
        "generated_at": plain(timezone.now()),
        "organization": {"name": organization.name, "jurisdiction": organization.jurisdiction},
        "participant": {"pseudonym": participant.pseudonym},
        "retention": retention_summary(kept),
        "sections": {section.key: section.collect(participant) for section in sections()},
        "not_included": [str(text) for text in NOT_INCLUDED],
    }


def retention_summary(kept: retention_rules.Retention) -> dict[str, Any]:
    return row(
        years=kept.years,
        last_service=kept.last_service,
        until=kept.until,
        unknown_jurisdictions=[code for code in kept.unknown if code],
        rules=[
            {"jurisdiction": r.jurisdiction, "years": r.years, "citation": r.citation, "url": r.url} for r in kept.rules
        ],
    )


@dataclass
class SectionView:
    section: RecordSection
    rows: Rows = field(default_factory=list)


def record_views(document: dict[str, Any]) -> list[SectionView]:
    """The document's sections in order, each with its labels (for the page and the PDF)."""
    return [SectionView(section, document["sections"].get(section.key, [])) for section in sections()]


def record_erase(participant: Participant) -> dict[str, int]:
    """Run every section's ``erase`` (inside ``record_destroy``'s transaction); rows touched per part."""
    return {section.key: section.erase(participant) for section in sections() if section.erase}


# --- this app's parts of the record -------------------------------------------------------------

IDENTITY_FIELDS = (
    ("pseudonym", _("Pseudonym")),
    ("display_name", _("Name used in the program")),
    ("legal_name", _("Legal name")),
    ("pronouns", _("Pronouns")),
    ("email", _("Email")),
    ("phone", _("Phone")),
    ("date_of_birth", _("Date of birth")),
    ("preferred_language", _("Preferred language")),
    ("cultural_background", _("Cultural or spiritual background")),
    ("accessibility_needs", _("Accessibility needs")),
    ("created_at", _("Record opened")),
)


def _identity(participant: Participant) -> Rows:
    return [row(**{key: getattr(participant, key) for key, _label in IDENTITY_FIELDS})]


def _erase_identity(participant: Participant) -> int:
    """Identity and free text go; the pseudonym stays (it names the kept, pseudonymous rows).
    The name used becomes the pseudonym, so nothing that prints a name prints a person."""
    participant.display_name = participant.pseudonym
    for name in ("legal_name", "email", "phone", "pronouns", "cultural_background", "accessibility_needs"):
        setattr(participant, name, "")
    participant.date_of_birth = None
    participant.save(
        update_fields=[
            "display_name",
            "legal_name",
            "email",
            "phone",
            "pronouns",
            "cultural_background",
            "accessibility_needs",
            "date_of_birth",
            "updated_at",
        ]
    )
    deleted, _counts = ParticipantSearchToken.objects.filter(participant=participant).delete()
    return 1 + deleted


def _organization_jurisdiction(participant: Participant) -> set[str]:
    return {participant.organization.jurisdiction}


register(
    RecordSection(
        key="participants.identity",
        title=_("Who you are"),
        fields=IDENTITY_FIELDS,
        collect=_identity,
        order=10,
        last_service=lambda p: day(p.created_at),
        jurisdictions=_organization_jurisdiction,
        erase=_erase_identity,
        keeps=_("The pseudonym and the preferred language; everything else is blanked."),
    )
)

SUPPORT_FIELDS = (
    ("name", _("Name")),
    ("relationship", _("Relationship")),
    ("email", _("Email")),
    ("phone", _("Phone")),
    ("may_contact", _("May be contacted")),
    ("notes", _("Notes")),
    ("removed_at", _("Removed")),
)


def _support_people(participant: Participant) -> Rows:
    people = SupportPerson.objects.filter(participant=participant).order_by("created_at", "pk")
    return [
        row(
            name=p.name,
            relationship=p.get_relationship_display(),
            email=p.email,
            phone=p.phone,
            may_contact=p.may_contact,
            notes=p.notes,
            removed_at=p.archived_at,
        )
        for p in people
    ]


def _erase_support_people(participant: Participant) -> int:
    deleted, _counts = SupportPerson.objects.filter(participant=participant).delete()
    return deleted


register(
    RecordSection(
        key="participants.support_people",
        title=_("Your support people"),
        fields=SUPPORT_FIELDS,
        collect=_support_people,
        order=11,
        erase=_erase_support_people,
        keeps=_("Nothing: support people are deleted."),
    )
)

CONSENT_FIELDS = (
    ("document", _("Document")),
    ("signed_at", _("Signed")),
    ("typed_name", _("Typed name")),
    ("via", _("How")),
    ("document_hash", _("SHA-256 of the text signed")),
    ("decisions", _("Answers")),
)


def _consents(participant: Participant) -> Rows:
    signatures = ConsentSignature.objects.filter(participant=participant).select_related("document")
    decisions: dict[int, list[dict]] = {}
    for d in ConsentDecision.objects.filter(participant=participant).order_by("created_at", "pk"):
        decisions.setdefault(d.signature_id, []).append(
            row(scope=d.get_scope_display(), granted=d.granted, withdrawn_at=d.withdrawn_at)
        )
    return [
        row(
            document=str(s.document),
            signed_at=s.signed_at,
            typed_name=s.typed_name,
            via=s.via,
            document_hash=s.document_hash,
            decisions=decisions.get(s.pk, []),
        )
        for s in signatures.order_by("signed_at", "pk")
    ]


def _consents_last(participant: Participant) -> datetime.date | None:
    newest = ConsentSignature.objects.filter(participant=participant).order_by("-signed_at").first()
    return day(newest.signed_at) if newest else None


def _erase_consents(participant: Participant) -> int:
    signatures = list(ConsentSignature.objects.filter(participant=participant))
    for signature in signatures:
        signature.typed_name = ""
        signature.save(update_fields=["typed_name", "updated_at"])
    return len(signatures)


register(
    RecordSection(
        key="participants.consents",
        title=_("Your consents and decisions"),
        fields=CONSENT_FIELDS,
        collect=_consents,
        order=12,
        last_service=_consents_last,
        erase=_erase_consents,
        keeps=_("Which document was signed when, its hash, and each yes or no; the typed name is blanked."),
    )
)

REQUEST_FIELDS = (
    ("kind", _("Request")),
    ("created_at", _("Made")),
    ("text", _("What was asked")),
    ("status", _("Status")),
    ("decided_at", _("Decided")),
    ("decision_note", _("Reason or note")),
    ("addendum", _("Addendum added to your record")),
)


def _requests(participant: Participant) -> Rows:
    addenda = {a.request_id: a.text for a in RecordAddendum.objects.filter(participant=participant)}
    requests = RecordRequest.objects.filter(participant=participant).order_by("created_at", "pk")
    return [
        row(
            kind=r.get_kind_display(),
            created_at=r.created_at,
            text=r.text,
            status=r.get_status_display(),
            decided_at=r.decided_at,
            decision_note=r.decision_note,
            addendum=addenda.get(r.pk, ""),
        )
        for r in requests
    ]


def _erase_requests(participant: Participant) -> int:
    touched = 0
    for addendum in RecordAddendum.objects.filter(participant=participant):
        addendum.text = ""
        addendum.save(update_fields=["text", "updated_at"])
        touched += 1
    for request in RecordRequest.objects.filter(participant=participant):
        request.text, request.decision_note = "", ""
        request.save(update_fields=["text", "decision_note", "updated_at"])
        touched += 1
    return touched


register(
    RecordSection(
        key="participants.record_requests",
        title=_("Your requests about this record, and addenda"),
        fields=REQUEST_FIELDS,
        collect=_requests,
        order=13,
        erase=_erase_requests,
        keeps=_("Each request's kind, status, dates and who decided it; the texts are blanked."),
    )
)
