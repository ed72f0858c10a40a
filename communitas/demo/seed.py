"""Builds the demo community: two organizations, their staff and 130 participants with support
networks. Everything goes through the services, so the audit chain is real."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.test.utils import override_settings

from communitas.accounts import services as accounts
from communitas.accounts.models import ApiToken, Membership, Organization, User
from communitas.demo import people
from communitas.demo.community_seed import seed_community
from communitas.demo.insights_seed import assign_circle_facilitators, seed_analyses, seed_integration_circles
from communitas.demo.journey_seed import seed_journeys
from communitas.demo.outcomes_seed import seed_outcomes
from communitas.demo.reports_seed import seed_administration_history, seed_client_data, seed_reports
from communitas.demo.sessions_seed import seed_sessions
from communitas.participants import services as participants
from communitas.participants.models import SupportPerson

PASSWORD = "communitas-demo"
TOKEN_NAME = "Demo token"
Role = Membership.Role

ORGANIZATIONS: list[dict[str, Any]] = [
    {
        "slug": "cascadia",
        "name": "Cascadia Community Psilocybin Service Center",
        "kind": Organization.Kind.SERVICE_CENTER,
        "jurisdiction": "US-OR",
        "participants": 75,
        "staff": [
            ("maya.coordinator@cascadia.example", "Maya Lindqvist", Role.COORDINATOR),
            ("andre.facilitator@cascadia.example", "André Okafor", Role.FACILITATOR),
            ("nora.clinician@cascadia.example", "Dr. Nora Castellanos", Role.FACILITATOR),
            ("lucia.facilitator@cascadia.example", "Lucía Villaseñor", Role.FACILITATOR),
            ("kai.peer@cascadia.example", "Kai Begay", Role.PEER_SUPPORTER),
            ("ruth.research@cascadia.example", "Ruth Adeyemi", Role.RESEARCHER),
            ("admin@cascadia.example", "Pat Morgan", Role.ADMIN),
            ("sam.okafor@communitas.example", "Sam Okafor", Role.COORDINATOR),
        ],
    },
    {
        "slug": "stillwater",
        "name": "Stillwater Veterans Healing Retreats",
        "kind": Organization.Kind.RETREAT_CENTER,
        "jurisdiction": "US-CO",
        "participants": 55,
        "staff": [
            ("dana.coordinator@stillwater.example", "Dana Whitcomb", Role.COORDINATOR),
            ("marcus.facilitator@stillwater.example", "Marcus Holloway", Role.FACILITATOR),
            ("winona.guide@stillwater.example", "Winona Sandoval", Role.CEREMONIAL_GUIDE),
            ("theo.clinician@stillwater.example", "Dr. Theo Brandt", Role.FACILITATOR),
            ("rae.hospitality@stillwater.example", "Rae Kimura", Role.HOSPITALITY),
            ("ibrahim.research@stillwater.example", "Ibrahim Farah", Role.RESEARCHER),
            ("sam.okafor@communitas.example", "Sam Okafor", Role.COORDINATOR),
        ],
    },
]


@dataclass
class SeededOrganization:
    slug: str
    name: str
    users: list[dict] = field(default_factory=list)


def _user(email: str, full_name: str) -> User:
    existing = User.objects.filter(email=email).first()
    return existing or accounts.user_create(email=email, password=PASSWORD, full_name=full_name)


def _participant_fields(rng: random.Random, slug: str, n: int) -> dict:
    community = rng.choice(list(people.FIRST_NAMES))
    first, last = rng.choice(people.FIRST_NAMES[community]), rng.choice(people.SURNAMES[community])
    age_days = rng.randint(21 * 365 + 10, 74 * 365)
    veteran = slug == "stillwater"
    background = rng.choice(people.VETERAN_BACKGROUNDS if veteran else people.BACKGROUNDS[community])
    return {
        "display_name": f"{first} {last}",
        "legal_name": f"{first} {rng.choice('ABCDEFGHJKLMNPRSTW')}. {last}" if rng.random() < 0.4 else "",
        "email": f"{_ascii(first)}.{_ascii(last)}{n}@example.{rng.choice(['net', 'org', 'com'])}",
        "phone": f"+1 {rng.choice(people.AREA_CODES[slug])} 555 01{rng.randint(0, 99):02d}",
        "date_of_birth": date(2026, 11, 1) - timedelta(days=age_days),
        "preferred_language": rng.choice(people.LANGUAGES.get(community, ["en"])),
        "pronouns": rng.choice(people.PRONOUNS),
        "cultural_background": background if rng.random() < 0.85 else "",
        "accessibility_needs": rng.choice(people.ACCESSIBILITY),
    }


def _ascii(text: str) -> str:
    from communitas.core.crypto import normalize_term

    folded = normalize_term(text).replace("đ", "d")
    return "".join(c for c in folded if c.isascii() and c.isalnum())


def _support_people(rng: random.Random, participant, slug: str) -> None:
    for _ in range(rng.choice([1, 1, 2, 2, 2, 3])):
        community = rng.choice(list(people.FIRST_NAMES))
        name = f"{rng.choice(people.FIRST_NAMES[community])} {rng.choice(people.SURNAMES[community])}"
        participants.support_person_create(
            participant=participant,
            actor=None,
            name=name,
            relationship=rng.choice(people.SUPPORT_RELATIONSHIPS),
            email=f"{_ascii(name.split()[0])}{rng.randint(10, 99)}@example.org" if rng.random() < 0.7 else "",
            phone=f"+1 {rng.choice(people.AREA_CODES[slug])} 555 01{rng.randint(0, 99):02d}",
            may_contact=rng.random() < 0.65,
            notes=rng.choice(people.SUPPORT_NOTES),
        )


@transaction.atomic
def _seed_organization(spec: dict, rng: random.Random) -> Organization:
    org = Organization.objects.filter(slug=spec["slug"]).first()
    if org is not None:
        return org
    org = accounts.organization_create(
        name=spec["name"], slug=spec["slug"], kind=spec["kind"], jurisdiction=spec["jurisdiction"]
    )
    for email, full_name, role in spec["staff"]:
        membership = accounts.membership_create(user=_user(email, full_name), organization=org, role=role)
        if ".clinician@" in email:
            Membership.objects.filter(pk=membership.pk).update(is_clinician=True)
    for n in range(spec["participants"]):
        person = participants.participant_create(
            organization=org, actor=None, **_participant_fields(rng, spec["slug"], n)
        )
        _support_people(rng, person, spec["slug"])
    plan = seed_outcomes(org, rng)
    seed_integration_circles(org, plan)  # before the retreat circle: each member's first circle
    seed_journeys(org, rng)
    seed_sessions(org)
    assign_circle_facilitators(org, plan)  # once the facilitator profiles exist
    seed_community(org, rng)
    seed_analyses(org)
    seed_administration_history(org, rng)
    seed_client_data(org, rng)
    seed_reports(org)
    return org


def _fresh_demo_token(user: User, org: Organization) -> str:
    for old in ApiToken.objects.filter(user=user, organization=org, name=TOKEN_NAME, revoked_at__isnull=True):
        accounts.api_token_revoke(token=old, actor=user)
    _token, raw = accounts.api_token_create(user=user, organization=org, name=TOKEN_NAME, days=30)
    return raw


def seed_demo(seed: int = 2026) -> list[SeededOrganization]:
    """Create the demo data unless present; always issue fresh demo API tokens."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not security
    result = []
    for spec in ORGANIZATIONS:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            org = _seed_organization(spec, rng)  # demo safety alerts email nobody
        seeded = SeededOrganization(slug=org.slug, name=org.name)
        for email, _name, role in spec["staff"]:
            user = User.objects.get(email=email)
            seeded.users.append(
                {"email": email, "password": PASSWORD, "role": str(role), "api_token": _fresh_demo_token(user, org)}
            )
        result.append(seeded)
    return result


def demo_counts() -> dict:
    from communitas.participants.models import Participant

    return {
        "participants": Participant.objects.filter(organization__slug__in=[o["slug"] for o in ORGANIZATIONS]).count(),
        "support_persons": SupportPerson.objects.filter(
            organization__slug__in=[o["slug"] for o in ORGANIZATIONS]
        ).count(),
    }
