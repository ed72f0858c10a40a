import base64
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from communitas.core.keys import field_key_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field under the newest field key. With --new-key, first generate a "
        "key and put it at the front of <data dir>/field_keys (older keys stay, so reads never fail)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--new-key", action="store_true", help="generate and install a new newest key first")

    def handle(self, *args, new_key: bool, **options):
        if new_key:
            self._install_new_key()
        counts = field_key_rotate()
        total = sum(counts.values())
        self.stdout.write(f"re-encrypted {total} rows under key list head ({len(settings.FIELD_ENCRYPTION_KEYS)} keys)")
        for label, n in sorted(counts.items()):
            self.stdout.write(f"  {label}: {n}")

    def _install_new_key(self) -> None:
        import os

        if os.environ.get("COMMUNITAS_FIELD_KEYS"):
            raise CommandError("keys come from COMMUNITAS_FIELD_KEYS: put the new key first there instead")
        key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        path = settings.DATA_DIR / "field_keys"
        keys = [key, *settings.FIELD_ENCRYPTION_KEYS]
        tmp = path.with_suffix(".new")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write("\n".join(keys) + "\n")
        os.replace(tmp, path)
        settings.FIELD_ENCRYPTION_KEYS = keys
