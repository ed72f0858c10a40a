import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from communitas.accounts.models import Organization, User
from communitas.outcomes.definitions import InstrumentError
from communitas.outcomes.services import custom_instrument_add


class Command(BaseCommand):
    help = "Add an organization's own instrument or translation (JSON in the shipped schema)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--organization", required=True, help="organization slug")
        parser.add_argument("--by", required=True, help="email of the staff member adding it (audited)")

    def handle(self, *args, file: Path, organization: str, by: str, **options):
        org = Organization.objects.filter(slug=organization).first()
        actor = User.objects.filter(email=by.lower(), memberships__organization=org).first() if org else None
        if org is None or actor is None:
            raise CommandError("unknown organization, or that person is not a member of it", returncode=2)
        try:
            definition = json.loads(file.read_text(encoding="utf-8"))
            row = custom_instrument_add(organization=org, definition=definition, actor=actor)
        except (OSError, json.JSONDecodeError, InstrumentError) as exc:
            raise CommandError(str(exc), returncode=2) from exc
        self.stdout.write(f"added {row.code} {row.version} for {org.slug}")
