"""Reminders: sent while a window is open, at most every three days, without PHI."""

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from communitas.core.models import AuditEntry
from communitas.outcomes.models import Assessment
from communitas.outcomes.notify import LocmemSmsBackend
from communitas.outcomes.services import assessment_remind, response_submit
from communitas.participants.services import participant_update
from tests.outcomes_helpers import enrolled_with_schedule


@pytest.fixture
def open_baseline(org, participant):
    _program, _enrollment, assessments = enrolled_with_schedule(org, participant)
    return next(a for a in assessments if a.timepoint == "baseline")


def test_it_emails_a_working_link_in_the_participants_language(open_baseline, client):
    assert assessment_remind(assessment=open_baseline) == "email"
    message = mail.outbox[0]
    assert message.to == ["marisol@example.net"]
    assert "cuestionario" in message.body.lower()
    for secret in ("Marisol", "psilocybin", "PHQ", "Cascadia", "depress"):
        assert secret.lower() not in (message.subject + message.body).lower()
    url = message.body.split(": ", 1)[1].strip()
    assert client.get(url.replace("http://127.0.0.1:8000", "")).status_code == 200
    assert AuditEntry.objects.filter(action="outcomes.reminder.sent", data__channel="email").exists()


def test_it_texts_when_there_is_no_email(open_baseline, participant, settings):
    settings.COMMUNITAS_SMS_BACKEND = "communitas.outcomes.notify.LocmemSmsBackend"
    LocmemSmsBackend.outbox.clear()
    participant_update(participant=participant, actor=None, email="")
    assert assessment_remind(assessment=open_baseline) == "sms"
    assert LocmemSmsBackend.outbox[0]["to"] == "+1 503 555 0147"


def test_it_does_not_remind_twice_within_three_days(open_baseline):
    assert assessment_remind(assessment=open_baseline) == "email"
    assert assessment_remind(assessment=open_baseline).startswith("skipped")
    Assessment.objects.filter(pk=open_baseline.pk).update(last_reminded_at=timezone.now() - datetime.timedelta(days=4))
    assert assessment_remind(assessment=open_baseline) == "email"


def test_it_skips_answered_and_not_yet_open_assessments(open_baseline, org, participant):
    later = Assessment.objects.get(enrollment=open_baseline.enrollment, timepoint="month_3")
    assert assessment_remind(assessment=later) == "skipped: window not open"
    response_submit(assessment=open_baseline, answers={str(n): 0 for n in range(1, 10)}, language="es", source="staff")
    assert assessment_remind(assessment=open_baseline) == "skipped: answered or cancelled"
    assert mail.outbox == []


def test_the_daily_command_queues_only_what_is_due(open_baseline, capsys):
    call_command("send_reminders")
    assert "queued 1 reminders" in capsys.readouterr().out
    assert len(mail.outbox) == 1
    call_command("send_reminders")
    assert "queued 0 reminders" in capsys.readouterr().out
