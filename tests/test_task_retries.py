"""Failed background tasks are retried, and the attempts stay visible to site operators.

Runs on the production queue: django-tasks-db's DatabaseBackend, drained by its ``db_worker``
command in this process (``--batch`` stops when nothing is ready). The worker closes its database
connections after each task, as a long-running worker should, so these tests run outside a wrapping
transaction (``transaction=True``).
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from communitas.core.tasks_retry import backoff_delay, retried
from communitas.safety.models import SafetyAlert
from communitas.safety.tasks import notify_safety_alert
from tests import task_fixtures
from tests.factories import make_user

DB_QUEUE = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend"},
    "analysis": {"BACKEND": "django_tasks_db.DatabaseBackend"},
}


@pytest.fixture
def queue(settings):
    settings.TASKS = DB_QUEUE
    yield
    task_fixtures.FAILURES_LEFT["flaky"] = 0


def _drain():
    call_command("db_worker", batch=True, no_startup_delay=True, interval=0, verbosity=0)


def _attempts(path_suffix):
    return list(DBTaskResult.objects.filter(task_path__endswith=path_suffix).order_by("enqueued_at", "id"))


@pytest.mark.django_db(transaction=True)
def test_a_task_that_fails_twice_is_retried_and_then_succeeds(queue):
    task_fixtures.FAILURES_LEFT["flaky"] = 2
    task_fixtures.flaky.enqueue("reminder-7")

    _drain()

    attempts = _attempts("task_fixtures.flaky")
    assert [a.status for a in attempts] == ["FAILED", "FAILED", "SUCCESSFUL"]
    assert [a.args_kwargs["kwargs"].get("attempt", 1) for a in attempts] == [1, 2, 3]
    assert attempts[0].exception_class_path.endswith("MailServerDown")
    assert attempts[-1].return_value == "done reminder-7"


@pytest.mark.django_db(transaction=True)
def test_a_task_that_keeps_failing_stops_at_its_limit(queue):
    task_fixtures.FAILURES_LEFT["flaky"] = 99
    task_fixtures.flaky.enqueue("reminder-8")

    _drain()

    attempts = _attempts("task_fixtures.flaky")
    assert [a.status for a in attempts] == ["FAILED"] * 3
    assert not DBTaskResult.objects.filter(status="READY").exists()


@pytest.mark.django_db
def test_a_retry_waits_longer_each_time():
    assert [backoff_delay(n, 30) for n in (1, 2, 3)] == [timedelta(seconds=s) for s in (30, 60, 120)]
    assert backoff_delay(20, 30) == timedelta(hours=1)
    with pytest.raises(ValueError):
        retried(attempts=0)


@pytest.fixture
def broken_mail(settings):
    settings.EMAIL_BACKEND = "tests.test_task_retries.BrokenMailBackend"


class BrokenMailBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


@pytest.mark.django_db(transaction=True)
def test_a_safety_page_that_cannot_be_sent_is_queued_again_later(queue, broken_mail, org, alice, participant):
    alert = SafetyAlert.objects.create(
        organization=org,
        participant=participant,
        flag="phq9_item9_positive",
        summary="item 9",
        source_type="tests.probe",
        source_id="1",
        assigned_to=alice,
    )
    before = timezone.now()
    notify_safety_alert.enqueue(alert.pk)

    _drain()

    first, second = _attempts("safety.tasks.notify_safety_alert")
    assert first.status == "FAILED" and first.exception_class_path.endswith("ConnectionRefusedError")
    # the next attempt waits (30 s backoff), so this batch run left it queued
    assert second.status == "READY"
    assert second.run_after >= before + timedelta(seconds=30)
    assert second.args_kwargs["kwargs"] == {"attempt": 2}
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_site_operators_see_failed_attempts_and_nobody_else_does(queue, client, org, alice, alice_client):
    task_fixtures.FAILURES_LEFT["flaky"] = 99
    task_fixtures.flaky.enqueue("reminder-9")
    _drain()
    operator = make_user(org, email="ops@example.org")
    operator.is_staff = True
    operator.save(update_fields=["is_staff"])
    client.force_login(operator)

    page = client.get("/ops/tasks/?status=FAILED")

    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-status="FAILED"') == 3
    assert "MailServerDown" in html
    assert "attempt for reminder-9 failed" not in html  # messages stay in the database
    assert client.get("/ops/tasks/?status=SUCCESSFUL").content.decode().count("data-status=") == 0
    assert alice_client.get("/ops/tasks/").status_code == 403


def test_without_a_queue_a_failed_task_is_not_retried_inside_the_request(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    task_fixtures.FAILURES_LEFT["flaky"] = 99
    try:
        result = task_fixtures.flaky.enqueue("reminder-10")
    finally:
        left = task_fixtures.FAILURES_LEFT["flaky"]
        task_fixtures.FAILURES_LEFT["flaky"] = 0
    assert result.status == "FAILED"
    assert left == 98  # one attempt, not three
