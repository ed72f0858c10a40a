"""``communitas seed-scale --participants N``: a realistic organization at scale for load tests."""

import json
import os
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from communitas.demo.scale import DEFAULT_NAME, ScaleRefused, seed_scale, summary_lines
from communitas.demo.scale_writer import Progress


class _Stream:
    """Lets the progress bar redraw one line through Django's output wrapper."""

    def __init__(self, out):
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text, ending="")

    def flush(self) -> None:
        self.out.flush()

    def isatty(self) -> bool:
        return self.out.isatty()


class Command(BaseCommand):
    help = (
        "Generate one organization at scale (participants, circles of about 100, retreats, sessions, "
        "attendance, about 20 scored questionnaires per person) in bulk, in one transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument("--participants", type=int, required=True, help="how many participants (at least 1)")
        parser.add_argument("--organization-name", default=DEFAULT_NAME, help=f"default {DEFAULT_NAME!r}")
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0): same seed, same data")
        parser.add_argument("--manifest", type=Path, help="write a JSON manifest for the load benchmark here")
        parser.add_argument("--migrate", action="store_true", help="run migrations first")

    def handle(self, *args, participants, organization_name, seed, manifest, migrate, **options):
        if migrate:
            call_command("migrate", interactive=False, verbosity=0)
        elif _unapplied_migrations():
            raise CommandError("the database has unapplied migrations: run `communitas migrate` or pass --migrate")
        progress = Progress(_Stream(self.stderr), enabled=options["verbosity"] > 0)
        try:
            result = seed_scale(
                participants=participants, organization_name=organization_name, seed=seed, progress=progress
            )
        except ScaleRefused as exc:
            raise CommandError(str(exc)) from exc
        # Millions of new rows: give the query planner their sizes now, not when autovacuum gets to it.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        if manifest is not None:
            _write_manifest(manifest, result)
        if options["verbosity"] > 0:
            for line in summary_lines(result):
                self.stdout.write(line)
            if manifest is not None:
                self.stdout.write(f"Manifest: {manifest}")


def _unapplied_migrations() -> int:
    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def _write_manifest(path: Path, manifest: dict) -> None:
    """The manifest holds working participant links: readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=2)
        fh.write("\n")
