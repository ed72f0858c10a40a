"""Background work for safety: tasks take primary keys, call one service, are idempotent."""

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django_tasks import task

from communitas.core.tasks_retry import retried
from communitas.safety.models import SafetyAlert


@task()
@retried()
def notify_safety_alert(alert_id: int) -> bool:
    """Email the assigned staff member. The message carries no PHI: only a link to sign in."""
    alert = SafetyAlert.objects.select_related("assigned_to").filter(pk=alert_id).first()
    if alert is None or alert.acknowledged_at is not None or alert.assigned_to is None:
        return False
    url = settings.COMMUNITAS_BASE_URL.rstrip("/") + reverse("safety:alert", args=[alert.pk])
    send_mail(
        subject="Communitas: a safety alert needs your review today",
        message=f"A participant's answers raised a safety flag. Review and acknowledge it here:\n\n{url}\n",
        from_email=None,
        recipient_list=[alert.assigned_to.email],
    )
    return True
