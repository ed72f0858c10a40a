"""``communitas staff-add``: give someone a role in an organization, creating their account if new.

    communitas staff-add --organization cascadia --email maya@cascadia.example --role admin \\
        --name "Maya Ortiz"

A new account's password is asked for twice on the terminal, or read from the environment variable
named by ``--password-env`` (never from an argument, which would land in the shell history); it
must pass the password rules. An existing account keeps its password and gets the new membership.
"""

import getpass
import os

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from communitas.accounts import services
from communitas.accounts.models import Membership, Organization, User


class Command(BaseCommand):
    help = "Add a staff member to an organization (creating their account when it is new)."

    def add_arguments(self, parser):
        parser.add_argument("--organization", required=True, help="the organization's slug")
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", required=True, choices=Membership.Role.values)
        parser.add_argument("--name", default="", help="full name, for a new account")
        parser.add_argument("--password-env", help="environment variable holding a new account's password")

    def handle(self, *args, organization, email, role, name, password_env, **options):
        org = Organization.objects.filter(slug=organization).first()
        if org is None:
            raise CommandError(f"No organization with slug {organization!r}.")
        email = email.strip().lower()
        try:
            validate_email(email)
        except ValidationError as exc:
            raise CommandError(f"--email {email!r} is not an email address.") from exc
        user = User.objects.filter(email__iexact=email).first()
        if user is not None and Membership.objects.filter(user=user, organization=org).exists():
            raise CommandError(f"{email} is already a member of {org.slug}; nothing was changed.")
        created = user is None
        # asked before the transaction: no database lock is held while someone types
        password = self._password(password_env, email, name) if created else ""
        with transaction.atomic():
            if user is None:
                user = services.user_create(email=email, password=password, full_name=name.strip())
            services.membership_create(user=user, organization=org, role=role)
        what = "Created the account and added" if created else "Added"
        self.stdout.write(f"{what} {email} to {org.slug} as {role}.")

    def _password(self, password_env, email, name) -> str:
        if password_env:
            password = os.environ.get(password_env, "")
            if not password:
                raise CommandError(f"${password_env} is empty or not set.")
        else:
            password = getpass.getpass(f"Password for {email}: ")
            if password != getpass.getpass("Again: "):
                raise CommandError("The passwords differ; nothing was created.")
        try:
            validate_password(password, User(email=email, full_name=name))
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        return password
