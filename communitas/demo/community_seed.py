"""Demo community: partners (with one referral and one partner contribution awaiting approval),
the retreat circle's agreement and fortnightly integration meetings that run past the retreat,
peer-support preferences, pods proposed and sent, and one group-formation run."""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from communitas.accounts.models import Membership, Organization
from communitas.community import circle_services, formation_services, partner_services, pod_services
from communitas.community.models import PodPreference
from communitas.programs.models import Circle, Retreat

PARTNERS = [
    {
        "name": "988 Suicide & Crisis Lifeline",
        "kind": "crisis_line",
        "description": "Call or text 988, any hour, in English and Spanish.",
        "public_phone": "988",
        "languages": ["en", "es"],
        "services": ["crisis support", "text line"],
    },
    {
        "name": "Riverside Integration Circle",
        "kind": "peer_group",
        "description": "A volunteer-run monthly peer circle for people after a psychedelic experience (demo).",
        "contact_name": "Jordan Hale",
        "contact_email": "jordan@riverside-circle.example",
        "languages": ["en"],
        "services": ["peer circle", "buddy calls"],
    },
    {
        "name": "Medicine Wheel Elders Council",
        "kind": "indigenous_wisdom_keepers",
        "description": "Elders who share teachings with participants who ask, on the council's terms (demo).",
        "languages": ["en"],
        "services": ["talking circle", "teachings"],
    },
]
AGREEMENT = (
    "What is said here stays here. We speak from our own experience and listen without fixing. "
    "Anyone may pass. We arrive on time, or send word. We do not use substances before a circle."
)


def seed_community(org: Organization, rng: random.Random) -> None:
    coordinator = Membership.objects.filter(organization=org, role="coordinator").select_related("user").first()
    circle = Circle.objects.filter(organization=org, retreat__isnull=False).select_related("retreat").first()
    if coordinator is None or circle is None:
        return
    actor = coordinator.user
    partners = [partner_services.partner_create(organization=org, actor=actor, **spec) for spec in PARTNERS]
    members = list(circle.members.order_by("pk"))
    if members:
        partner_services.referral_create(participant=members[0], partner=partners[1], actor=actor, status="made")
    partner_services.contribution_create(
        partner=partners[2],
        actor=actor,
        title="Talking-circle teaching",
        kind="knowledge",
        description="A teaching on listening in circle, shared for this retreat only.",
        requires_partner_approval=True,
        governance_note="The council approves each reuse (CARE: authority to control).",
    )
    circle_services.agreement_publish(circle=circle, actor=actor, body=AGREEMENT)
    retreat: Retreat = circle.retreat  # type: ignore[assignment]
    if members and circle.facilitators.exists():
        circle_services.series_create(
            circle=circle,
            actor=actor,
            title=f"{circle.name}: integration",
            mode="online",
            meeting_link="https://meet.example/cedar-integration",
            weekday=rng.choice([1, 2, 3]),
            start_time=datetime.time(18, 30),
            duration_minutes=90,
            time_zone="America/Los_Angeles" if org.jurisdiction.startswith("US-OR") else "America/Denver",
            starts_on=retreat.ends_on + datetime.timedelta(days=3),
            cadence="biweekly",
            meeting_count=6,
        )
    people = list(retreat.enrollments.select_related("participant").order_by("pk"))
    for n, enrollment in enumerate(people):
        PodPreference.objects.get_or_create(
            participant=enrollment.participant,
            defaults={
                "organization_id": org.pk,
                "languages": [enrollment.participant.preferred_language],
                "availability": rng.sample(["weekday_evening", "weekend_morning", "weekend_afternoon"], 2),
                "veteran": org.slug == "stillwater" or n % 4 == 0,
            },
        )
    if len(people) >= 3:
        pod_services.pods_propose(retreat=retreat, actor=actor, today=timezone.localdate())
        pod_services.pods_send(retreat=retreat, actor=actor)
    if members:
        formation_services.formation_run_create(
            retreat=retreat,
            actor=actor,
            time_limit_s=5,
            min_sizes={circle.pk: 1},
            balance=["age_band"],
            max_circles_per_facilitator=2,
        )
