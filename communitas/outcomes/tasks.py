"""Background work for outcomes: tasks take primary keys, call one service, are idempotent."""

from django_tasks import task

from communitas.core.tasks_retry import retried
from communitas.outcomes import services
from communitas.outcomes.models import Assessment


@task()
@retried()
def send_assessment_reminder(assessment_id: int) -> str:
    assessment = Assessment.objects.select_related("participant").filter(pk=assessment_id).first()
    if assessment is None:
        return "skipped: no such assessment"
    return services.assessment_remind(assessment=assessment)
