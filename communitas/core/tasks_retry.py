"""Retries for background tasks.

django-tasks runs a task once: an exception marks that result FAILED and nothing more happens.
A reminder that hit a mail server's bad minute, or an analysis that met a database restart, should
try again. ``@retried(...)`` wraps a task function so that a failed attempt enqueues the next one
with exponential backoff (on a backend that can defer: the database queue) and then re-raises, so every attempt keeps
its own result row: FAILED with its exception, and the last one SUCCESSFUL or FAILED for good. Site
operators see them at ``/ops/tasks/`` (``core.ops_views``).

Use it under ``@task``::

    @task()
    @retried(attempts=5)
    def send_assessment_reminder(assessment_id: int) -> str: ...

Tasks must stay idempotent (they take primary keys and call one service), since an attempt may have
done part of its work before it failed. The attempt number travels as the keyword ``attempt``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

DEFAULT_ATTEMPTS = 5
DEFAULT_BACKOFF_SECONDS = 30


def backoff_delay(attempt: int, base_seconds: float) -> timedelta:
    """Wait before attempt ``attempt + 1``: base, 2x base, 4x base, ... capped at one hour."""
    return timedelta(seconds=min(base_seconds * 2 ** (attempt - 1), 3600))


def retried(*, attempts: int = DEFAULT_ATTEMPTS, backoff_seconds: float = DEFAULT_BACKOFF_SECONDS) -> Callable:
    if attempts < 1:
        raise ValueError("attempts must be at least 1")

    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def run(*args: Any, attempt: int = 1, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except Exception:
                if attempt < attempts:
                    _enqueue_next(run, args, kwargs, attempt, backoff_seconds)
                else:
                    logger.error("task %s failed for good after %d attempts", _path(run), attempt)
                raise

        run.max_attempts = attempts  # type: ignore[attr-defined]
        return run

    return decorate


def _path(func: Callable) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def _enqueue_next(func: Callable, args: tuple, kwargs: dict, attempt: int, backoff_seconds: float) -> None:
    # The Task object is the module attribute that @task made of ``func``.
    task = import_string(_path(func))
    if not task.get_backend().supports_defer:
        # The immediate and thread backends cannot wait: a retry would run at once, inside the
        # request that queued the task (a participant's submit waiting on a mail server). Only a
        # queue retries; here the failure is logged and stays failed.
        logger.error("task %s failed; this task backend cannot retry later", _path(func))
        return
    task = task.using(run_after=timezone.now() + backoff_delay(attempt, backoff_seconds))
    logger.warning("task %s attempt %d failed; attempt %d queued", _path(func), attempt, attempt + 1)
    task.enqueue(*args, attempt=attempt + 1, **kwargs)
