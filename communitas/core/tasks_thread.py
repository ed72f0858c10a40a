"""A django-tasks backend that runs each task on a worker thread of the current process.

For work that must not hold a web request (a model fit) on a deployment without a task queue: the
request enqueues and returns, the thread runs the task with its own database connection and closes
it afterwards. One worker per process keeps the database quiet; tasks queue behind each other.
Tasks are lost if the process stops, so a task must record its own progress and the caller must
treat long-silent work as interrupted (see ``insights.models.AnalysisRun.stale``).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connections
from django_tasks.backends.immediate import ImmediateBackend
from django_tasks.base import TaskResult

logger = logging.getLogger(__name__)
_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="communitas-task")
        return _executor


class ThreadBackend(ImmediateBackend):
    supports_async_task = False

    def _run(self, task_result: TaskResult) -> None:
        try:
            super()._execute_task(task_result)
        except Exception:  # ImmediateBackend records task errors; this guards the worker itself
            logger.exception("task %s crashed its worker", task_result.id)
        finally:
            connections.close_all()

    def _execute_task(self, task_result: TaskResult) -> None:
        _pool().submit(self._run, task_result)
