"""Colorado per-session records: date, times, products with unique id and amount, one dose or
several, the day's adverse health events; only the three session kinds, only this organization."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from communitas.interop.colorado import COLUMNS, ColoradoExportError, colorado_export, session_rows
from communitas.interop.models import ExportLog
from communitas.programs.models import Attendance, DoseRecord, Session
from communitas.programs.services import program_create
from communitas.safety.models import AdverseEvent
from tests.factories import ParticipantFactory

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 9, 12)


def _at(day, hour, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _session(program, kind, day, people, *, status=Session.Status.COMPLETED, ran=True):
    session = Session.objects.create(
        organization_id=program.organization_id,
        program=program,
        kind=kind,
        title=kind,
        planned_start=_at(day, 9),
        planned_end=_at(day, 15),
        started_at=_at(day, 9, 12) if ran else None,
        ended_at=_at(day, 15, 40) if ran else None,
        status=status,
    )
    for person in people:
        Attendance.objects.create(
            organization_id=program.organization_id, session=session, participant=person, status="attended"
        )
    return session


def _dose(session, person, user, mg, *, kind="initial", lot="CO-LOT-7", product="Psilocybin (Colorado, demo)"):
    DoseRecord.objects.create(
        organization_id=session.organization_id,
        session=session,
        participant=person,
        product=product,
        unique_id=lot,
        amount_mg=Decimal(mg),
        kind=kind,
        taken_at=session.planned_start,
        recorded_by=user,
    )


@pytest.fixture
def healing_center(other_org, charlie):
    program = program_create(
        organization=other_org, actor=charlie, name="CO", substance="psilocybin", jurisdiction="US-CO"
    )
    ana, ben = ParticipantFactory(organization=other_org), ParticipantFactory(organization=other_org)
    prep = _session(program, Session.Kind.PREPARATION, DAY - datetime.timedelta(days=7), [ana, ben], ran=False)
    admin = _session(program, Session.Kind.ADMINISTRATION, DAY, [ana, ben])
    _session(program, Session.Kind.INTEGRATION, DAY + datetime.timedelta(days=2), [ana])
    _session(program, Session.Kind.CIRCLE_MEETING, DAY, [ana])  # not one of the three kinds
    _session(program, Session.Kind.ADMINISTRATION, DAY, [ben], status=Session.Status.CANCELLED)
    _dose(admin, ana, charlie, "10")
    _dose(admin, ana, charlie, "5", kind="secondary")
    _dose(admin, ben, charlie, "20")
    AdverseEvent.objects.create(
        organization_id=other_org.pk,
        participant=ben,
        kind="medical",
        onset_at=_at(DAY, 11),
        description="Vomiting, treated on site.",
        severity="moderate",
        relatedness="probable",
        medical_care=True,
        reported_by=charlie,
    )
    return program, ana, ben, prep


def test_each_session_and_participant_with_products_doses_and_adverse_events(other_org, healing_center):
    _program, ana, ben, _prep = healing_center
    rows = session_rows(other_org, DAY - datetime.timedelta(days=30), DAY + datetime.timedelta(days=30))
    kinds = [(r["session_kind"], r["participant"]) for r in rows]
    both = sorted([ana.pseudonym, ben.pseudonym])  # by time, then pseudonym
    assert kinds == [
        *[("preparation", p) for p in both],
        *[("administration", p) for p in both],
        ("integration", ana.pseudonym),
    ]
    admin = {r["participant"]: r for r in rows if r["session_kind"] == "administration"}
    assert admin[ana.pseudonym]["amount_mg"] == "15.00" and admin[ana.pseudonym]["doses"] == "multiple"
    assert admin[ben.pseudonym]["doses"] == "single" and admin[ben.pseudonym]["product_unique_id"] == "CO-LOT-7"
    assert admin[ben.pseudonym]["adverse_health_events"] == 1 and admin[ben.pseudonym]["most_severe"] == "moderate"
    assert (
        admin[ben.pseudonym]["medical_care_or_emergency"] is True and admin[ana.pseudonym]["adverse_health_events"] == 0
    )
    assert admin[ana.pseudonym]["start_time"] == "09:12" and admin[ana.pseudonym]["time_source"] == "recorded"
    prep = next(r for r in rows if r["session_kind"] == "preparation")
    assert prep["time_source"] == "planned" and prep["start_time"] == "09:00" and prep["product"] == ""


def test_the_export_is_a_csv_with_the_documented_columns_and_is_logged(other_org, charlie, healing_center, org):
    content, log = colorado_export(organization=other_org, start=DAY, end=DAY, actor=charlie, via="web")
    table = list(csv.DictReader(io.StringIO(content)))
    assert list(table[0]) == COLUMNS and len(table) == 2 and log.rows == 2 and log.kind == "colorado_sessions"
    assert session_rows(org, DAY, DAY) == []  # another organization's sessions never appear
    assert ExportLog.objects.filter(organization=org).count() == 0


def test_a_period_that_ends_before_it_starts_is_refused(other_org):
    with pytest.raises(ColoradoExportError):
        session_rows(other_org, DAY, DAY - datetime.timedelta(days=1))
