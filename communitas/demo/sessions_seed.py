"""Demo facilitators with credentials, a retreat with a circle, and sessions: one administration
session already run (doses, vital signs) and an integration circle meeting ahead."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from communitas.accounts.models import Membership, Organization, User
from communitas.compliance.rulepacks import has_shipped_pack
from communitas.compliance.services import organization_rule_pack_add
from communitas.facilitators import services as facilitators
from communitas.programs import session_services as sessions
from communitas.programs.models import Program
from communitas.programs.selectors import roster

STAFF = {
    "cascadia": [
        ("andre.facilitator@cascadia.example", ["en", "fr"], [("oregon_facilitator_license", "US-OR", 400)]),
        ("lucia.facilitator@cascadia.example", ["es", "en"], [("oregon_facilitator_license", "US-OR", 25)]),
        (
            "nora.clinician@cascadia.example",
            ["en", "es"],
            [("oregon_facilitator_license", "US-OR", 300), ("physician", "US-OR", 700)],
        ),
    ],
    "stillwater": [
        (
            "marcus.facilitator@stillwater.example",
            ["en"],
            [("colorado_facilitator", "US-CO", 200), ("bls_cpr", "US", 300)],
        ),
        ("winona.guide@stillwater.example", ["en", "nv"], [("ceremonial_lineage", "US", 3000)]),
        (
            "theo.clinician@stillwater.example",
            ["en", "de"],
            [("colorado_clinical_facilitator", "US-CO", 500), ("bls_cpr", "US", 300)],
        ),
    ],
}


def _own_rule_pack(org: Organization, actor: User) -> None:
    """Colorado's rules set no group ratio (regulatory.md 2), so a Colorado center writes its own."""
    if has_shipped_pack(org.jurisdiction):
        return
    dated = {"source": "POLICY", "effective_from": "2025-06-01"}
    organization_rule_pack_add(
        actor=actor,
        organization=org,
        data={
            "jurisdiction": org.jurisdiction,
            "name": f"{org.name} staffing policy",
            "substance": "psilocybin",
            "unit": "mg psilocin, total per client per session",
            "effective_from": "2025-06-01",
            "sources": {"POLICY": "Demo: the center's written staffing policy, board-approved 2025-05-20 (fictional)"},
            "group_ratio": {
                "rule": "POLICY-RATIO",
                "bands": [
                    {"min_mg": 0, "max_mg": 10, "clients_per_facilitator": 6, **dated},
                    {"min_mg": 10, "max_mg": 25, "clients_per_facilitator": 4, **dated},
                    {"min_mg": 25, "clients_per_facilitator": 2, **dated},
                ],
            },
            "group_cap": {"rule": "POLICY-CAP", "max_clients": 12, **dated},
            "preparation_window": {"rule": "POLICY-PREP", "min_hours": 24, "max_days": 60, **dated},
            "documents": [],
        },
    )


def seed_sessions(org: Organization) -> None:
    coordinator = Membership.objects.filter(organization=org, role="coordinator").select_related("user").first()
    if coordinator is None:
        return
    actor = coordinator.user
    _own_rule_pack(org, actor)
    profiles = [_profile(org, actor, *spec) for spec in STAFF[org.slug]]
    program = Program.objects.get(organization=org)
    today = timezone.localdate()
    retreat = sessions.retreat_create(
        program=program,
        actor=actor,
        name="Spring retreat" if org.slug == "cascadia" else "Veterans' spring retreat",
        starts_on=today - datetime.timedelta(days=6),
        ends_on=today + datetime.timedelta(days=8),
        venue="Hood River lodge" if org.slug == "cascadia" else "Buena Vista ranch",
        capacity=16,
        rooms=["Cedar room", "Juniper room"],
    )
    ready = [e.participant for e, status in roster(program) if status == "ready"]
    speakers = {lang for p in profiles for lang in p.languages}
    members = [p for p in ready if p.preferred_language.split("-")[0] in speakers][:6]
    for person in members:
        sessions.retreat_enroll(retreat=retreat, participant=person, actor=actor)
    circle = sessions.circle_create(
        program=program,
        retreat=retreat,
        actor=actor,
        name="Cedar circle" if org.slug == "cascadia" else "Eagle circle",
        affinity="" if org.slug == "cascadia" else "veterans",
        capacity=8,
    )
    sessions.circle_set_members(circle=circle, actor=actor, participants=members, facilitators=profiles[:2])
    if org.slug == "cascadia" and members:
        _administration(program, retreat, circle, actor, profiles, members)
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + datetime.timedelta(days=2)
    sessions.session_plan(
        program=program,
        actor=actor,
        kind="circle_meeting",
        title=f"{circle.name}: integration circle",
        planned_start=start,
        planned_end=start + datetime.timedelta(hours=2),
        facilitators=profiles[:2],
        participants=members,
        circle=circle,
        retreat=retreat,
        location="Juniper room",
    )


def _profile(org: Organization, actor: User, email: str, languages: list[str], credentials: list):
    user = User.objects.get(email=email)
    profile = facilitators.profile_create(
        organization=org, actor=actor, user=user, display_name=user.full_name, languages=languages
    )
    today = timezone.localdate()
    for kind, jurisdiction, days_left in credentials:
        facilitators.credential_add(
            profile=profile,
            actor=actor,
            kind=kind,
            number=f"{kind[:3].upper()}-{user.pk:05d}",
            issuing_jurisdiction=jurisdiction,
            valid_from=today - datetime.timedelta(days=200),
            valid_to=today + datetime.timedelta(days=days_left),
        )
    return profile


def _administration(program, retreat, circle, actor, profiles, members) -> None:
    prepared = timezone.now().replace(minute=0, second=0, microsecond=0) - datetime.timedelta(days=3)
    sessions.session_plan(
        program=program,
        actor=actor,
        kind="preparation",
        title=f"{circle.name}: preparation",
        planned_start=prepared,
        planned_end=prepared + datetime.timedelta(hours=2),
        facilitators=profiles,
        participants=members,
        circle=circle,
        retreat=retreat,
        location="Juniper room",
    )
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + datetime.timedelta(hours=1)
    doses = {p.pk: Decimal("15") if n % 2 else Decimal("20") for n, p in enumerate(members)}
    session = sessions.session_plan(
        program=program,
        actor=actor,
        kind="administration",
        title=f"{circle.name}: administration session",
        planned_start=start,
        planned_end=start + datetime.timedelta(hours=6),
        facilitators=profiles,
        participants=members,
        planned_doses=doses,
        circle=circle,
        retreat=retreat,
        location="Cedar room",
    )
    session = sessions.session_start(session=session, actor=actor)
    started_at = session.started_at or timezone.now()
    for person in members:
        sessions.dose_record(
            session=session,
            participant=person,
            actor=actor,
            product="P. cubensis, dried whole",
            unique_id="OR-LOT-2026-0412",
            amount_mg=doses[person.pk],
            kind="initial",
            taken_at=started_at,
        )
        sessions.vitals_record(
            session=session,
            participant=person,
            actor=actor,
            taken_at=started_at,
            systolic=124,
            diastolic=80,
            heart_rate=74,
        )
