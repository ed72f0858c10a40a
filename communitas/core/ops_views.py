"""Pages for the people who run a deployment (``user.is_staff``), not for an organization.

``/ops/tasks/`` lists background task attempts from the database queue (django-tasks-db): what is
waiting, running, failed and done, so a failed reminder or safety notification is seen and not
silently dropped. Task arguments are primary keys; tracebacks stay in the database (they may quote
data) and the page shows only the exception's class.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import render
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

PAGE_SIZE = 50


def can_operate_site(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active and user.is_staff


@login_required
def task_list(request):
    if not can_operate_site(request.user):
        raise PermissionDenied
    status = request.GET.get("status", "")
    if status not in TaskResultStatus.values:
        status = ""
    results = DBTaskResult.objects.order_by("-enqueued_at", "-id")
    if status:
        results = results.filter(status=status)
    page = Paginator(
        results.only(
            "id",
            "status",
            "task_path",
            "args_kwargs",
            "queue_name",
            "enqueued_at",
            "started_at",
            "finished_at",
            "run_after",
            "exception_class_path",
        ),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    rows = [
        {
            "id": r.id,
            "status": r.status,
            "status_label": TaskResultStatus(r.status).label,
            "task": r.task_path.rsplit(".", 1)[-1],
            "task_path": r.task_path,
            "attempt": (r.args_kwargs or {}).get("kwargs", {}).get("attempt", 1),
            "queue": r.queue_name,
            "enqueued_at": r.enqueued_at,
            "finished_at": r.finished_at,
            "exception": r.exception_class_path.rsplit(".", 1)[-1] if r.exception_class_path else "",
        }
        for r in page
    ]
    counts = dict(DBTaskResult.objects.order_by().values_list("status").annotate(n=Count("id")))
    context = {
        "page": page,
        "rows": rows,
        "status": status,
        "statuses": [(s, TaskResultStatus(s).label, counts.get(s, 0)) for s in TaskResultStatus.values],
    }
    return render(request, "core/ops_tasks.html", context)
