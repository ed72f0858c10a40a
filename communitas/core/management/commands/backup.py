from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from communitas.core.backup import DEFAULT_PASSPHRASE_ENV, BackupError, backup_create, passphrase_from_env


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # no URL conf or analysis imports: a database job only
    help = (
        "Write one encrypted archive of the whole database (every table but sessions; encrypted columns stay "
        "ciphertext). The passphrase comes from an environment variable. Field keys are left out unless "
        "--include-keys: keep them elsewhere."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, type=Path, help="archive to write (never overwritten)")
        parser.add_argument(
            "--passphrase-env",
            default=DEFAULT_PASSPHRASE_ENV,
            metavar="VAR",
            help=f"environment variable holding the passphrase (default {DEFAULT_PASSPHRASE_ENV})",
        )
        parser.add_argument(
            "--include-keys",
            action="store_true",
            help="also store the field keys, search key and secret key (the archive alone then reveals everything)",
        )

    def handle(self, *args, out: Path, passphrase_env: str, include_keys: bool, **options):
        try:
            passphrase = passphrase_from_env(passphrase_env, for_writing=True)
            summary = backup_create(out=out, passphrase=passphrase, include_keys=include_keys)
        except BackupError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        self.stdout.write(
            f"wrote {summary.path}: {summary.rows} rows of {summary.models} tables, {summary.size} bytes, "
            f"SHA-256 {summary.sha256}"
        )
        if summary.keys_included:
            self.stdout.write("the archive holds the field keys: anyone with it and the passphrase reads everything")
        else:
            self.stdout.write("field keys not included: a restore needs field_keys, search_key and secret_key too")
