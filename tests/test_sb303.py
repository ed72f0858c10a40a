"""Oregon SB 303 quarterly report: who counts, the client data tables, the center counts and
averages, opt-out scopes, small cells, the CSV and JSON, the command and the page."""

import datetime
import json
import random
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from communitas.compliance.models import ClientDataForm
from communitas.compliance.sb303 import ClientDataError
from communitas.compliance.services import client_data_record, reporting_settings_set
from communitas.core.models import AuditEntry
from communitas.interop.models import ExportLog
from communitas.interop.sb303 import Quarter, ReportError, as_csv, as_json, as_rows, sb303_build
from communitas.programs.models import Attendance, DoseRecord, Session
from communitas.programs.services import program_create
from communitas.safety.models import AdverseEvent
from tests.factories import ParticipantFactory

pytestmark = pytest.mark.django_db
Q3 = Quarter(2026, 3)
ANSWERS = {
    "race": ["white"],
    "ethnicity": "not_hispanic_latino",
    "spoken_language": "en",
    "written_language": "en",
    "disability": "no",
    "sexual_orientation": "straight",
    "gender_identity": "woman",
    "income": "50k_75k",
    "county": "multnomah",
    "reasons": ["health_wellness", "depression"],
    "veteran": "no",
}


def _moment(day: datetime.date, hour=10):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _session(program, day, people, *, status="attended"):
    row = Session.objects.create(
        organization_id=program.organization_id,
        program=program,
        kind=Session.Kind.ADMINISTRATION,
        title="Administration",
        planned_start=_moment(day),
        planned_end=_moment(day, 16),
        status=Session.Status.COMPLETED,
    )
    for person in people:
        Attendance.objects.create(
            organization_id=program.organization_id, session=row, participant=person, status=status
        )
    return row


def _dose(session, person, user, mg):
    DoseRecord.objects.create(
        organization_id=session.organization_id,
        session=session,
        participant=person,
        product="Psilocybin mushrooms (demo)",
        unique_id="LOT-1",
        amount_mg=Decimal(mg),
        kind="initial",
        taken_at=session.planned_start,
        recorded_by=user,
    )


def _adverse(person, kind, severity, day):
    from communitas.accounts.models import User

    AdverseEvent.objects.create(
        reported_by=User.objects.filter(memberships__organization_id=person.organization_id).first(),
        organization_id=person.organization_id,
        participant=person,
        kind=kind,
        onset_at=_moment(day, 12),
        description="Described in the record.",
        severity=severity,
        relatedness="possible",
    )


@pytest.fixture
def center(org, alice):
    """30 clients served in 2026Q3 (24 in group sessions of 6, 6 alone), 2 of them withheld their
    data, one served only in Q2; forms for most, doses for everyone, adverse reactions."""
    program = program_create(organization=org, actor=alice, name="Q3", substance="psilocybin", jurisdiction="US-OR")
    born = datetime.date(1980, 5, 5)
    people = [ParticipantFactory(organization=org, date_of_birth=born) for _ in range(30)]
    earlier = ParticipantFactory(organization=org, date_of_birth=born)
    for n, person in enumerate(people[:27]):
        client_data_record(
            participant=person,
            answers={**ANSWERS, "county": "multnomah" if n % 3 else "lane"},
            withheld=False,
            actor=alice,
        )
    for person in people[27:29]:
        client_data_record(participant=person, answers={}, withheld=True, actor=alice)
    # people[29] has no form on file
    groups = [_session(program, datetime.date(2026, 7, 10 + g), people[6 * g : 6 * g + 6]) for g in range(4)]
    alone = [_session(program, datetime.date(2026, 8, 1 + i), [person]) for i, person in enumerate(people[24:])]
    _session(program, datetime.date(2026, 6, 20), [earlier])  # Q2: not this quarter
    _session(program, datetime.date(2026, 9, 1), [people[0]], status="absent")  # not present: not served
    for session in groups + alone:
        for attendance in session.attendance.all():
            _dose(session, attendance.participant, alice, "25")
    for person in people[:12]:
        _adverse(person, "behavioral", "mild", datetime.date(2026, 7, 11))
    _adverse(people[13], "medical", "severe", datetime.date(2026, 8, 2))
    _adverse(people[28], "behavioral", "moderate", datetime.date(2026, 8, 3))  # a withheld client
    return program, people


def _field(report, code):
    return next(t for t in report.client_data if t.code == code)


def test_clients_served_sessions_and_averages_of_the_quarter(org, center):
    report = sb303_build(org, Q3)
    # scope "everything" (default): the 2 who withheld are out of every count
    assert report.clients_served == 28 and report.quarter == "2026Q3" and report.due == datetime.date(2026, 10, 15)
    assert report.clients_withheld is None  # 2: a small cell
    assert report.sessions == {"individual": None, "group": None, "total": None}  # 4 group + 4 alone (2 withheld)
    assert report.averages["sessions_per_client"] == 1.0
    assert report.averages["analyte_mg_per_client_session"] == 25.0
    assert report.averages["clients_per_group_session"] is None  # 4 group sessions: too few to average
    # 12 mild behavioral, 1 severe medical: the 1 is hidden, and so is what would give it away
    assert report.adverse["medical"]["severe"] is None and report.adverse["medical"]["*"] is None
    assert report.adverse["behavioral"]["mild"] in (None, 12) and report.adverse["*"]["*"] in (None, 13)
    assert report.adverse["behavioral"]["mild"] is None or report.adverse["*"]["*"] is None
    assert report.adverse["behavioral"]["moderate"] == 0  # the withheld client's reaction is left out


def test_client_data_tables_leave_out_who_withheld_and_count_who_has_no_form(org, center):
    report = sb303_build(org, Q3)
    county = dict((code, n) for code, _label, n in _field(report, "county").rows)
    assert county["multnomah"] == 18 and county["lane"] is None and county["no_form"] is None  # 9 and 1
    assert county["baker"] == 0 and _field(report, "county").total == 28
    reasons = _field(report, "reasons")
    assert reasons.multiple and reasons.total is None
    assert dict((c, n) for c, _l, n in reasons.rows)["depression"] == 27
    age = dict((c, n) for c, _l, n in _field(report, "age").rows)
    assert age["45-54"] == 28  # born 1980-05-05, aged 46 at the quarter's end
    for table in report.client_data:  # no shown number between 1 and 10 anywhere
        assert all(n is None or n == 0 or n >= 11 for _c, _l, n in table.rows)


def test_opting_out_of_the_client_data_only_keeps_them_in_the_counts(org, alice, center):
    reporting_settings_set(organization=org, actor=alice, opt_out_scope="demographics", threshold=11)
    report = sb303_build(org, Q3)
    assert report.clients_served == 30 or report.clients_served is None
    assert report.adverse["behavioral"]["moderate"] is None  # now counted (1): a small cell
    # served = with data + withheld, and withheld (2) is small: the totals must not give it away
    shown_total = _field(report, "county").total
    assert report.clients_withheld is None
    assert shown_total is None or report.clients_served is None


@pytest.mark.parametrize("seed", range(8))
def test_no_reported_number_lies_between_1_and_k_minus_1(org, alice, seed):
    rng = random.Random(seed)
    k = rng.choice([3, 5, 11])
    reporting_settings_set(
        organization=org, actor=alice, opt_out_scope=rng.choice(["everything", "demographics"]), threshold=k
    )
    program = program_create(organization=org, actor=alice, name="R", substance="psilocybin", jurisdiction="US-OR")
    people = [
        ParticipantFactory(organization=org, date_of_birth=datetime.date(rng.randint(1940, 2004), 1, 1))
        for _ in range(rng.randint(5, 40))
    ]
    for person in people:
        if rng.random() < 0.1:
            client_data_record(participant=person, answers={}, withheld=True, actor=alice)
        elif rng.random() < 0.9:
            answers = {
                "county": rng.choice(["multnomah", "lane", "marion", "out_of_state"]),
                "gender_identity": rng.choice(["woman", "man", "nonbinary"]),
                "reasons": rng.sample(["health_wellness", "depression", "anxiety"], rng.randint(1, 2)),
            }
            client_data_record(participant=person, answers=answers, withheld=False, actor=alice)
        _session(program, datetime.date(2026, 7, rng.randint(1, 28)), [person])
        if rng.random() < 0.3:
            _adverse(
                person,
                rng.choice(["behavioral", "medical"]),
                rng.choice(["mild", "moderate"]),
                datetime.date(2026, 8, 1),
            )
    counts = [row[3] for row in as_rows(sb303_build(org, Q3)) if row[3].isdigit()]
    assert all(int(n) == 0 or int(n) >= k for n in counts), (k, counts)


def test_the_csv_and_json_say_suppressed_and_carry_no_identity(org, center):
    _program, people = center
    report = sb303_build(org, Q3)
    text = as_csv(report)
    assert text.splitlines()[0] == "section,item,category,value"
    assert "client_data,county,multnomah,18" in text and "client_data,county,lane,suppressed" in text
    data = json.dumps(as_json(report))
    for person in people:
        assert person.display_name not in text and person.pseudonym not in text and person.pseudonym not in data


def test_answers_outside_the_form_are_refused_and_nothing_is_saved(org, alice):
    person = ParticipantFactory(organization=org)
    for bad in ({"county": "atlantis"}, {"shoe_size": "9"}, {"reasons": "depression"}, {"race": ["white", "declined"]}):
        with pytest.raises(ClientDataError):
            client_data_record(participant=person, answers=bad, withheld=False, actor=alice)
    assert not ClientDataForm.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="compliance.client").exists()
    withheld = client_data_record(participant=person, answers={"county": "lane"}, withheld=True, actor=alice)
    assert withheld.answers == {}  # a client who withholds keeps nothing on file


def test_a_malformed_quarter_is_refused():
    for bad in ("2026Q5", "Q3 2026", "2026-3", ""):
        with pytest.raises(ReportError, match="2026Q3"):
            Quarter.parse(bad)
    assert (
        Quarter.parse("2026q4").end == datetime.date(2026, 12, 31)
        and Quarter.parse("2027Q1").previous().label == "2026Q4"
    )


def test_the_command_prints_the_report_and_logs_the_export(org, center, capsys):
    call_command("report", "sb303", "--organization", org.slug, "--quarter", "2026Q3", "--format", "json")
    data = json.loads(capsys.readouterr().out)
    assert data["quarter"] == "2026Q3" and data["clients_served"] == 28
    log = ExportLog.objects.get(kind="sb303")
    assert log.via == "cli" and log.parameters["quarter"] == "2026Q3" and log.rows > 0


def test_reminders_go_from_a_week_before_the_due_date_until_the_report_is_generated(org, alice, mailoutbox, capsys):
    org.jurisdiction = "US-OR"
    org.save()
    call_command("report", "reminders", "--today", "2026-10-07")  # due 2026-10-15: too early
    assert mailoutbox == []
    call_command("report", "reminders", "--today", "2026-10-08")
    assert len(mailoutbox) == 1 and "2026Q3 is due on 2026-10-15" in mailoutbox[0].subject
    assert mailoutbox[0].to == ["alice@cascadia.example"] and "/reports/sb303/2026Q3/" in mailoutbox[0].body
    call_command("report", "reminders", "--today", "2026-10-20")
    assert "overdue" in mailoutbox[-1].subject
    call_command("report", "sb303", "--organization", org.slug, "--quarter", "2026Q3")
    sent = len(mailoutbox)
    call_command("report", "reminders", "--today", "2026-10-21")
    assert len(mailoutbox) == sent  # generated: no more reminders
    assert "cascadia: 2026Q3 overdue 2026-10-15" in capsys.readouterr().out


def test_the_command_refuses_bad_input_with_exit_2(org, capsys):
    for argv in (
        ["report", "sb303", "--organization", "nobody", "--quarter", "2026Q3"],
        ["report", "sb303", "--organization", org.slug, "--quarter", "Q3"],
        ["report", "reminders", "--today", "yesterday"],
    ):
        with pytest.raises(SystemExit) as exit_:
            call_command(*argv)
        assert exit_.value.code == 2
    assert "error:" in capsys.readouterr().err and not ExportLog.objects.exists()


def test_the_service_itself_refuses_a_future_date_and_staff_who_may_not_see_the_client(org, alice, rita):
    from django.core.exceptions import PermissionDenied

    person = ParticipantFactory(organization=org)
    with pytest.raises(ClientDataError, match="future"):
        client_data_record(
            participant=person,
            answers={},
            withheld=True,
            actor=alice,
            collected_on=datetime.date.today() + datetime.timedelta(days=1),
        )
    with pytest.raises(PermissionDenied):
        client_data_record(participant=person, answers={"county": "lane"}, withheld=False, actor=rita)
    assert not ClientDataForm.objects.exists()
