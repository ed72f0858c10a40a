from django.core.management.base import BaseCommand, CommandError

from communitas.core.audit import audit_verify


class Command(BaseCommand):
    help = "Recompute every link of the audit chains; exit 1 naming the first broken entry."

    def handle(self, *args, **options):
        checked, broken = audit_verify()
        if broken is not None:
            raise CommandError(str(broken), returncode=1)
        self.stdout.write(f"audit chain intact: {checked} entries verified")
