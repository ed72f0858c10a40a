"""The thread task backend: enqueue returns at once, the task runs on the worker thread, a failing
task is recorded and does not kill the worker."""

import threading

import pytest
from django_tasks import task

from communitas.core import tasks_thread

seen: list[tuple[str, int]] = []
gate = threading.Event()


@task()
def remember(value: int) -> int:
    gate.wait(timeout=30)
    seen.append((threading.current_thread().name, value))
    return value * 2


@task()
def explode() -> None:
    raise RuntimeError("boom")


@pytest.fixture
def thread_backend(settings):
    settings.TASKS = {
        "default": {"BACKEND": "communitas.core.tasks_thread.ThreadBackend"},
    }
    seen.clear()
    gate.clear()
    yield
    gate.set()


def _drain():
    tasks_thread._pool().submit(lambda: None).result(timeout=60)  # one worker: everything before has run


def test_enqueue_returns_before_the_task_runs_and_the_worker_thread_runs_it(thread_backend):
    result = remember.enqueue(21)
    assert seen == []  # the task is blocked on the gate, yet enqueue has returned
    gate.set()
    _drain()
    assert seen == [(seen[0][0], 21)] and seen[0][0].startswith("communitas-task")
    assert seen[0][0] != threading.current_thread().name
    assert result.status == "SUCCESSFUL" and result.return_value == 42


def test_a_failing_task_is_recorded_and_the_worker_goes_on(thread_backend):
    gate.set()
    failed = explode.enqueue()
    after = remember.enqueue(1)
    _drain()
    assert failed.status == "FAILED" and "RuntimeError" in failed.errors[0].exception_class_path
    assert after.status == "SUCCESSFUL" and seen[-1][1] == 1
