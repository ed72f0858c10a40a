"""Tasks the task-queue tests enqueue by import path (the worker imports ``task_path``)."""

from django_tasks import task

from communitas.core.tasks_retry import retried

# How many more attempts of ``flaky`` fail; the tests set it. A module-level counter works because
# the tests run the worker in their own process.
FAILURES_LEFT = {"flaky": 0}


class MailServerDown(Exception):
    pass


@task()
@retried(attempts=3, backoff_seconds=0)
def flaky(key: str) -> str:
    if FAILURES_LEFT["flaky"] > 0:
        FAILURES_LEFT["flaky"] -= 1
        raise MailServerDown(f"attempt for {key} failed")
    return f"done {key}"
