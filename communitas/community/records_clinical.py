"""The clinical parts of a participant's record (``participants.records``): the 303 Client Data
Form (compliance), intake, screenings, adverse events and safety alerts (safety), enrolments,
sessions, doses, vitals and facilitator notes (programs).

They are registered from ``community`` because ``participants`` may not import these apps and
``community`` is the lowest app above all three; the participant reads them through their
community-space link. ``outcomes`` registers its own part (it sits above ``community``).

What a destruction keeps, and why: rows that Oregon's SB 303 center counts and Colorado's
per-session export read (``interop.sb303``, ``interop.colorado``: sessions attended, doses,
screening outcomes and rule ids, adverse events by kind and severity) stay, pseudonymous, with
every free text blanked, so reports already filed stay reproducible. Rows nothing counts
(vitals, facilitator notes) are deleted. Oregon's rule on facilitator records
(OAR 333-333-4820, research/regulatory.md §1.7) counts notes "created by facilitators" as client
records that "current and former clients may examine": the download therefore includes the
facilitators' notes about this person (never notes about anyone else).
"""

from __future__ import annotations

import datetime

from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from communitas.compliance.models import ClientDataForm
from communitas.participants.models import Participant
from communitas.participants.records import RecordSection, Rows, day, latest, register, row
from communitas.programs.models import (
    Attendance,
    DoseRecord,
    Enrollment,
    FacilitatorNote,
    Invitation,
    ParticipantDocument,
    VitalSigns,
)
from communitas.safety.models import AdverseEvent, FollowUpTask, Intake, SafetyAlert, Screening, ScreeningDecision


def _newest(qs, field: str) -> datetime.date | None:
    return day(qs.aggregate(newest=Max(field))["newest"])


def _blank(qs, **blanks) -> int:
    """Blank encrypted fields row by row (an encrypted column cannot be bulk-updated by value)."""
    rows = list(qs)
    for obj in rows:
        for name, value in blanks.items():
            setattr(obj, name, value)
        obj.save(update_fields=[*blanks, "updated_at"])
    return len(rows)


# --- compliance: Oregon's 303 Client Data Form ----------------------------------------------------


def _client_data(participant: Participant) -> Rows:
    forms = ClientDataForm.objects.filter(participant=participant).order_by("collected_on", "pk")
    return [row(collected_on=f.collected_on, withheld=f.withheld, via=f.via, answers=f.answers) for f in forms]


register(
    RecordSection(
        key="compliance.client_data_forms",
        title=_("Oregon 303 Client Data Form"),
        fields=(
            ("collected_on", _("Collected")),
            ("withheld", _("You asked not to share it")),
            ("via", _("How")),
            ("answers", _("Answers")),
        ),
        collect=_client_data,
        order=20,
        last_service=lambda p: _newest(ClientDataForm.objects.filter(participant=p), "collected_on"),
        erase=lambda p: _blank(ClientDataForm.objects.filter(participant=p), answers={}),
        keeps=_("The date and the opt-out box; the answers are blanked."),
    )
)


# --- safety ----------------------------------------------------------------------------------------


def _intakes(participant: Participant) -> Rows:
    intakes = Intake.objects.filter(participant=participant).order_by("created_at", "pk")
    return [
        row(
            substance=i.substance,
            jurisdiction=i.jurisdiction,
            status=i.get_status_display(),
            submitted_at=i.submitted_at,
            answers=i.answers,
        )
        for i in intakes
    ]


register(
    RecordSection(
        key="safety.intakes",
        title=_("Your intake (health and history)"),
        fields=(
            ("substance", _("Substance")),
            ("jurisdiction", _("Jurisdiction")),
            ("status", _("Status")),
            ("submitted_at", _("Submitted")),
            ("answers", _("Answers")),
        ),
        collect=_intakes,
        order=30,
        last_service=lambda p: _newest(Intake.objects.filter(participant=p), "submitted_at"),
        erase=lambda p: _blank(Intake.objects.filter(participant=p), answers={}),
        keeps=_("Substance, jurisdiction and dates; the answers are blanked."),
    )
)


def _screenings(participant: Participant) -> Rows:
    decisions: dict[int, list[dict]] = {}
    for d in ScreeningDecision.objects.filter(screening__participant=participant).order_by("created_at", "pk"):
        decisions.setdefault(d.screening_id, []).append(
            row(decided_at=d.created_at, decision=d.get_decision_display(), rule_ids=d.rule_ids, reason=d.reason)
        )
    screenings = Screening.objects.filter(participant=participant).order_by("created_at", "pk")
    return [
        row(
            screened_at=s.created_at,
            substance=s.substance,
            jurisdiction=s.jurisdiction,
            outcome=s.get_outcome_display(),
            reasons=s.reasons,
            rules_version=s.rules_version,
            clinician_decisions=decisions.get(s.pk, []),
        )
        for s in screenings
    ]


def _erase_screenings(participant: Participant) -> int:
    decisions = ScreeningDecision.objects.filter(screening__participant=participant)
    return _blank(Screening.objects.filter(participant=participant), reasons=[]) + _blank(decisions, reason="")


register(
    RecordSection(
        key="safety.screenings",
        title=_("Screenings: outcome and reasons"),
        fields=(
            ("screened_at", _("Screened")),
            ("substance", _("Substance")),
            ("jurisdiction", _("Jurisdiction")),
            ("outcome", _("Outcome")),
            ("reasons", _("Reasons")),
            ("rules_version", _("Rules version")),
            ("clinician_decisions", _("Clinicians' decisions")),
        ),
        collect=_screenings,
        order=31,
        last_service=lambda p: latest(
            _newest(Screening.objects.filter(participant=p), "created_at"),
            _newest(ScreeningDecision.objects.filter(screening__participant=p), "created_at"),
        ),
        erase=_erase_screenings,
        keeps=_("Outcome, rule ids and dates (Oregon counts denials with their reasons); explanations are blanked."),
    )
)


def _adverse_events(participant: Participant) -> Rows:
    follow_ups: dict[int, list[dict]] = {}
    for t in FollowUpTask.objects.filter(adverse_event__participant=participant).order_by("due_on", "pk"):
        follow_ups.setdefault(t.adverse_event_id, []).append(
            row(title=t.title, due_on=t.due_on, done_at=t.done_at, note=t.note)
        )
    events = AdverseEvent.objects.filter(participant=participant).order_by("onset_at", "pk")
    return [
        row(
            onset_at=e.onset_at,
            kind=e.get_kind_display(),
            severity=e.get_severity_display(),
            serious=e.serious,
            during_administration=e.during_administration,
            description=e.description,
            emergency_services=e.emergency_services,
            medical_care=e.medical_care,
            hospital_transport=e.hospital_transport,
            outcome=e.get_outcome_display(),
            relatedness=e.get_relatedness_display(),
            follow_ups=follow_ups.get(e.pk, []),
        )
        for e in events
    ]


def _erase_adverse_events(participant: Participant) -> int:
    tasks = FollowUpTask.objects.filter(adverse_event__participant=participant)
    return _blank(AdverseEvent.objects.filter(participant=participant), description="") + _blank(tasks, note="")


register(
    RecordSection(
        key="safety.adverse_events",
        title=_("Adverse events"),
        fields=(
            ("onset_at", _("Onset")),
            ("kind", _("Kind")),
            ("severity", _("Severity")),
            ("serious", _("Serious")),
            ("during_administration", _("During an administration session")),
            ("description", _("What happened")),
            ("emergency_services", _("Emergency services contacted")),
            ("medical_care", _("Care from a medical provider needed")),
            ("hospital_transport", _("Taken to hospital")),
            ("outcome", _("Outcome")),
            ("relatedness", _("Relatedness")),
            ("follow_ups", _("Follow-up")),
        ),
        collect=_adverse_events,
        order=32,
        last_service=lambda p: _newest(AdverseEvent.objects.filter(participant=p), "onset_at"),
        erase=_erase_adverse_events,
        keeps=_("Kind, severity, outcome and dates (regulators count them); descriptions and notes are blanked."),
    )
)


def _alerts(participant: Participant) -> Rows:
    alerts = SafetyAlert.objects.filter(participant=participant).order_by("created_at", "pk")
    return [
        row(
            raised_at=a.created_at,
            flag=a.flag,
            summary=a.summary,
            acknowledged_at=a.acknowledged_at,
            acknowledgement_note=a.acknowledgement_note,
        )
        for a in alerts
    ]


def _open_alert(participant: Participant) -> str | None:
    if SafetyAlert.objects.filter(participant=participant, acknowledged_at__isnull=True).exists():
        return str(_("A safety alert for this person is still open: a staff member must close it first."))
    return None


register(
    RecordSection(
        key="safety.alerts",
        title=_("Safety alerts"),
        fields=(
            ("raised_at", _("Raised")),
            ("flag", _("Flag")),
            ("summary", _("Summary")),
            ("acknowledged_at", _("Acknowledged")),
            ("acknowledgement_note", _("What was done")),
        ),
        collect=_alerts,
        order=33,
        last_service=lambda p: _newest(SafetyAlert.objects.filter(participant=p), "created_at"),
        blocks_destruction=_open_alert,
        erase=lambda p: _blank(SafetyAlert.objects.filter(participant=p), acknowledgement_note=""),
        keeps=_("Flag, summary and dates; what staff wrote is blanked."),
    )
)


# --- programs --------------------------------------------------------------------------------------


def _enrolments(participant: Participant) -> Rows:
    documents: dict[int, list[dict]] = {}
    for d in ParticipantDocument.objects.filter(enrollment__participant=participant).order_by("completed_at"):
        documents.setdefault(d.enrollment_id, []).append(row(kind=d.kind, completed_at=d.completed_at))
    enrolments = Enrollment.objects.filter(participant=participant).select_related("program", "retreat")
    return [
        row(
            program=e.program.name,
            jurisdiction=e.program.jurisdiction,
            status=e.get_status_display(),
            enrolled_at=e.created_at,
            administration_date=e.administration_date,
            retreat=e.retreat.name if e.retreat else "",
            documents=documents.get(e.pk, []),
        )
        for e in enrolments.order_by("created_at", "pk")
    ]


def _enrolments_last(participant: Participant) -> datetime.date | None:
    """An enrolment has no end date: its last change (completion, withdrawal) stands for it."""
    enrolments = Enrollment.objects.filter(participant=participant)
    return latest(
        _newest(enrolments, "updated_at"),
        _newest(enrolments, "administration_date"),
        _newest(ParticipantDocument.objects.filter(enrollment__participant=participant), "completed_at"),
    )


def _revoke_invitations(participant: Participant) -> int:
    from django.utils import timezone

    return Invitation.objects.filter(participant=participant, revoked_at__isnull=True).update(revoked_at=timezone.now())


register(
    RecordSection(
        key="programs.enrolments",
        title=_("Programs you enrolled in"),
        fields=(
            ("program", _("Program")),
            ("jurisdiction", _("Jurisdiction")),
            ("status", _("Status")),
            ("enrolled_at", _("Enrolled")),
            ("administration_date", _("Administration session date")),
            ("retreat", _("Retreat")),
            ("documents", _("Documents completed")),
        ),
        collect=_enrolments,
        order=40,
        last_service=_enrolments_last,
        jurisdictions=lambda p: set(
            Enrollment.objects.filter(participant=p).values_list("program__jurisdiction", flat=True)
        ),
        erase=_revoke_invitations,
        keeps=_("Everything (programs, statuses and dates hold no free text); open invitations are revoked."),
    )
)

PRESENT = (Attendance.Status.ATTENDED, Attendance.Status.LEFT_EARLY)


def _sessions(participant: Participant) -> Rows:
    rows = Attendance.objects.filter(participant=participant).select_related("session", "session__program")
    return [
        row(
            session=a.session.title,
            program=a.session.program.name,
            kind=a.session.get_kind_display(),
            planned_start=a.session.planned_start,
            planned_end=a.session.planned_end,
            started_at=a.session.started_at,
            ended_at=a.session.ended_at,
            attendance=a.get_status_display(),
            agreed_dose_mg=a.planned_dose_mg,
        )
        for a in rows.order_by("session__planned_start", "pk")
    ]


def _sessions_last(participant: Participant) -> datetime.date | None:
    """A session attended counts from when it ended (else started, else was planned to end)."""
    present = Attendance.objects.filter(participant=participant, status__in=PRESENT).select_related("session")
    return latest(*(a.session.ended_at or a.session.started_at or a.session.planned_end for a in present))


register(
    RecordSection(
        key="programs.sessions",
        title=_("Sessions"),
        fields=(
            ("session", _("Session")),
            ("program", _("Program")),
            ("kind", _("Kind")),
            ("planned_start", _("Planned start")),
            ("planned_end", _("Planned end")),
            ("started_at", _("Started")),
            ("ended_at", _("Ended")),
            ("attendance", _("Attendance")),
            ("agreed_dose_mg", _("Agreed estimated total dose (mg)")),
        ),
        collect=_sessions,
        order=41,
        last_service=_sessions_last,
        keeps=_("Everything: who attended which session is what Oregon's quarterly counts are made of."),
    )
)


def _doses(participant: Participant) -> Rows:
    doses = DoseRecord.objects.filter(participant=participant).select_related("session")
    return [
        row(
            session=d.session.title,
            taken_at=d.taken_at,
            product=d.product,
            unique_id=d.unique_id,
            amount_mg=d.amount_mg,
            kind=d.get_kind_display(),
        )
        for d in doses.order_by("taken_at", "pk")
    ]


register(
    RecordSection(
        key="programs.doses",
        title=_("Doses"),
        fields=(
            ("session", _("Session")),
            ("taken_at", _("Taken at")),
            ("product", _("Product")),
            ("unique_id", _("Lot or unique id")),
            ("amount_mg", _("Amount (mg)")),
            ("kind", _("Dose")),
        ),
        collect=_doses,
        order=42,
        last_service=lambda p: _newest(DoseRecord.objects.filter(participant=p), "taken_at"),
        keeps=_("Everything: product, amount and time per session are regulator records (Oregon and Colorado)."),
    )
)


def _vitals(participant: Participant) -> Rows:
    vitals = VitalSigns.objects.filter(participant=participant).select_related("session")
    return [
        row(
            session=v.session.title,
            taken_at=v.taken_at,
            systolic=v.systolic,
            diastolic=v.diastolic,
            heart_rate=v.heart_rate,
            temperature_c=v.temperature_c,
            spo2=v.spo2,
        )
        for v in vitals.order_by("taken_at", "pk")
    ]


def _erase_vitals(participant: Participant) -> int:
    deleted, _counts = VitalSigns.objects.filter(participant=participant).delete()
    return deleted


register(
    RecordSection(
        key="programs.vitals",
        title=_("Vital signs"),
        fields=(
            ("session", _("Session")),
            ("taken_at", _("Taken at")),
            ("systolic", _("Systolic")),
            ("diastolic", _("Diastolic")),
            ("heart_rate", _("Heart rate")),
            ("temperature_c", _("Temperature (°C)")),
            ("spo2", _("SpO2 (%)")),
        ),
        collect=_vitals,
        order=43,
        last_service=lambda p: _newest(VitalSigns.objects.filter(participant=p), "taken_at"),
        erase=_erase_vitals,
        keeps=_("Nothing: vital signs are deleted."),
    )
)


def _notes(participant: Participant) -> Rows:
    notes = FacilitatorNote.objects.filter(participant=participant).select_related("session", "author")
    return [
        row(
            written_at=n.created_at,
            session=n.session.title if n.session else "",
            author=str(n.author),
            note=n.body,
        )
        for n in notes.order_by("created_at", "pk")
    ]


def _erase_notes(participant: Participant) -> int:
    deleted, _counts = FacilitatorNote.objects.filter(participant=participant).delete()
    return deleted


register(
    RecordSection(
        key="programs.facilitator_notes",
        title=_("Facilitators' notes about you"),
        fields=(
            ("written_at", _("Written")),
            ("session", _("Session")),
            ("author", _("Written by")),
            ("note", _("Note")),
        ),
        collect=_notes,
        order=44,
        last_service=lambda p: _newest(FacilitatorNote.objects.filter(participant=p), "created_at"),
        erase=_erase_notes,
        keeps=_("Nothing: the notes are deleted."),
    )
)
