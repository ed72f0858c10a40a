"""``communitas refresh-dashboards``: recompute the programs' dashboard figures and the outcomes
home page's assessment counts now.

Run it from a timer every few minutes in production (docs/deploy.md) so no reader waits for a
program's aggregates; ``--program`` limits it to one program id."""

import time

from django.core.management.base import BaseCommand, CommandError

from communitas.insights import snapshots
from communitas.outcomes.services import program_counts_refresh
from communitas.programs.models import Program


class Command(BaseCommand):
    help = "Recompute the program dashboards' precomputed figures."

    def add_arguments(self, parser):
        parser.add_argument("--program", type=int, help="only this program id")

    def handle(self, *args, program=None, **options):
        programs = Program.objects.all()
        if program is not None:
            programs = programs.filter(pk=program)
            if not programs.exists():
                raise CommandError(f"No program with id {program}.")
        started = time.perf_counter()
        count = snapshots.refresh_all(programs)
        organizations = sorted(set(programs.values_list("organization_id", flat=True)))
        for organization_id in organizations:  # the outcomes home page's worklist counts
            program_counts_refresh(organization_id)
        self.stdout.write(
            f"Refreshed {count} dashboard snapshots and the assessment counts of {len(organizations)} "
            f"organizations in {time.perf_counter() - started:.1f} s."
        )
