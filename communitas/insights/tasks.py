"""Background work for insights: tasks take primary keys, call one service, are idempotent.

Analyses go to the ``analysis`` task backend: a worker thread in the web process by default
(``core.tasks_thread.ThreadBackend``), so a fit never holds a request; a deployment with a queue
sets ``COMMUNITAS_ANALYSIS_TASKS_BACKEND``.
"""

from django_tasks import task

from communitas.insights import services
from communitas.insights.models import AnalysisRun


@task(backend="analysis")
def run_analysis(run_id: int) -> str:
    run = AnalysisRun.objects.select_related("program").filter(pk=run_id).first()
    if run is None:
        return "skipped: no such analysis"
    return services.analysis_run_execute(run).status


@task(backend="analysis")
def refresh_dashboards() -> int:
    """Recompute every program's dashboard figures (``insights.snapshots``)."""
    from communitas.insights import snapshots

    return snapshots.refresh_all()
