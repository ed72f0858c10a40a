from django.core.management.base import BaseCommand

from communitas.outcomes.services import assessments_needing_reminders
from communitas.outcomes.tasks import send_assessment_reminder


class Command(BaseCommand):
    help = "Queue a reminder for every open, unanswered assessment not reminded in the last 3 days (run daily)."

    def handle(self, *args, **options):
        queued = 0
        for assessment_id in assessments_needing_reminders().iterator():
            send_assessment_reminder.enqueue(assessment_id)
            queued += 1
        self.stdout.write(f"queued {queued} reminders")
