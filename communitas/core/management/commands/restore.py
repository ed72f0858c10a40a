from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from communitas.core.backup import (
    DEFAULT_PASSPHRASE_ENV,
    BackupError,
    RestoreMismatch,
    backup_restore,
    passphrase_from_env,
)


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # no URL conf or analysis imports: a database job only
    help = (
        "Load a `communitas backup` archive into an empty, migrated database in one transaction, then check "
        "every table's row count and rows and the audit chains; anything wrong rolls it all back. "
        "Exit 2: archive or target refused, nothing written; exit 1: verification failed, rolled back."
    )

    def add_arguments(self, parser):
        parser.add_argument("--in", dest="source", required=True, type=Path, help="archive to restore")
        parser.add_argument(
            "--passphrase-env",
            default=DEFAULT_PASSPHRASE_ENV,
            metavar="VAR",
            help=f"environment variable holding the passphrase (default {DEFAULT_PASSPHRASE_ENV})",
        )

    def handle(self, *args, source: Path, passphrase_env: str, **options):
        try:
            passphrase = passphrase_from_env(passphrase_env, for_writing=False)
            summary = backup_restore(source=source, passphrase=passphrase)
        except BackupError as exc:
            raise CommandError(f"{exc}; nothing was written", returncode=2) from exc
        except RestoreMismatch as exc:
            raise CommandError(str(exc), returncode=1) from exc
        self.stdout.write(
            f"restored {summary.rows} rows of {summary.models} tables from {source} (made {summary.created_at} "
            f"by Communitas {summary.communitas_version} on {summary.source_database})"
        )
        self.stdout.write(
            f"row counts and rows match the manifest; audit chain intact: {summary.audit_entries} entries verified"
        )
        if summary.keys_installed:
            self.stdout.write(f"installed from the archive: {', '.join(summary.keys_installed)}")
        for warning in summary.warnings:
            self.stderr.write(f"warning: {warning}")
