"""``communitas organization-create``: a new organization, recorded in the audit trail.

    communitas organization-create --name "Cascadia Community Psilocybin" --slug cascadia \\
        --kind service_center --jurisdiction US-OR
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_slug
from django.db import transaction

from communitas.accounts import services
from communitas.accounts.models import Organization


class Command(BaseCommand):
    help = "Create an organization (the tenant every participant, program and staff member belongs to)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug", required=True, help="short unique name used in commands and exports")
        parser.add_argument("--kind", required=True, choices=Organization.Kind.values)
        parser.add_argument("--jurisdiction", default="", help="e.g. US-OR, US-CO")

    def handle(self, *args, name, slug, kind, jurisdiction, **options):
        name = name.strip()
        if not name:
            raise CommandError("--name is empty.")
        try:
            validate_slug(slug)
        except ValidationError as exc:
            raise CommandError(f"--slug {slug!r}: {' '.join(exc.messages)}") from exc
        if Organization.objects.filter(slug=slug).exists():
            raise CommandError(f"An organization with slug {slug!r} exists already; nothing was created.")
        org = Organization(name=name, slug=slug, kind=kind, jurisdiction=jurisdiction.strip())
        try:
            org.full_clean()
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        with transaction.atomic():
            org = services.organization_create(name=name, slug=slug, kind=kind, jurisdiction=org.jurisdiction)
        self.stdout.write(f"Created organization {org.name} (slug {org.slug}, id {org.pk}).")
