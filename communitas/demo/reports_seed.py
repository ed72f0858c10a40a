"""Demo history for reports and exports: the administration sessions behind each enrolment's
administration date (small groups on the same week, some alone) with dose records, Oregon 303
client data forms (a few clients withhold theirs), a research project, and one SB 303 report
already generated, so the reports page shows both a generated and a due quarter.

Historical rows are written directly (services refuse to schedule in the past); every row
carries its organization.
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from decimal import Decimal

from django.utils import timezone

from communitas.accounts.models import Organization, User
from communitas.compliance.sb303 import definition
from communitas.compliance.services import client_data_record
from communitas.interop.models import ResearchProject
from communitas.interop.research_export import project_create
from communitas.interop.sb303 import Quarter, sb303_report
from communitas.programs.models import Attendance, DoseRecord, Enrollment, Session

PRODUCTS = {
    "US-OR": ("Psilocybe cubensis, whole dried fungi (demo lot)", "OR-PSI-2026-{n:03d}"),
    "US-CO": ("Psilocybin capsules, regulated product (demo lot)", "CO-NM-2026-{n:03d}"),
}
WEIGHTS = {  # rough shape of who uses Oregon services (regulatory.md §1.8 [R27][R28]); fictional
    "race": {
        "white": 70,
        "asian": 6,
        "black_african_american": 4,
        "american_indian_alaska_native": 3,
        "other": 5,
        "declined": 6,
    },
    "ethnicity": {"not_hispanic_latino": 80, "hispanic_latino": 12, "declined": 8},
    "disability": {"no": 72, "yes": 20, "declined": 8},
    "sexual_orientation": {"straight": 60, "gay_lesbian": 10, "bisexual_pansexual": 14, "queer": 6, "declined": 10},
    "gender_identity": {"woman": 48, "man": 42, "nonbinary": 6, "declined": 4},
    "income": {"50k_75k": 15, "75k_100k": 18, "100k_150k": 25, "150k_200k": 17, "200k_plus": 15, "declined": 10},
    "county": {
        "multnomah": 40,
        "washington": 15,
        "clackamas": 12,
        "lane": 10,
        "marion": 6,
        "out_of_state": 12,
        "declined": 5,
    },
    "veteran": {"no": 88, "yes": 9, "declined": 3},
}
REASONS = ["health_wellness", "perspective", "consciousness", "depression", "anxiety", "trauma_ptsd", "grief"]


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def seed_administration_history(org: Organization, rng: random.Random) -> None:
    """One administration session per program and week of past administration dates."""
    recorder = User.objects.filter(memberships__organization=org, memberships__role="coordinator").first()
    if recorder is None:
        return
    today = timezone.localdate()
    product, lot = PRODUCTS.get(org.jurisdiction, PRODUCTS["US-OR"])
    weeks: dict[tuple[int, datetime.date], list[Enrollment]] = defaultdict(list)
    enrollments = Enrollment.objects.filter(
        organization=org, administration_date__lt=today - datetime.timedelta(days=1)
    )
    for enrollment in enrollments.select_related("program").order_by("administration_date", "pk"):
        day = enrollment.administration_date
        assert day is not None  # filtered above
        weeks[(enrollment.program_id, day - datetime.timedelta(days=day.weekday()))].append(enrollment)
    tz = timezone.get_current_timezone()
    doses = []
    for n, ((program_id, monday), group) in enumerate(sorted(weeks.items())):
        day = group[0].administration_date
        assert day is not None
        start = datetime.datetime.combine(day, datetime.time(9, 30), tzinfo=tz)
        began = start + datetime.timedelta(minutes=rng.randint(0, 20))
        session = Session.objects.create(
            organization=org,
            program_id=program_id,
            kind=Session.Kind.ADMINISTRATION,
            title=f"Administration session, week of {monday.isoformat()}",
            planned_start=start,
            planned_end=start + datetime.timedelta(hours=7),
            started_at=began,
            ended_at=start + datetime.timedelta(hours=6, minutes=rng.randint(30, 90)),
            status=Session.Status.COMPLETED,
        )
        Attendance.objects.bulk_create(
            Attendance(organization=org, session=session, participant_id=e.participant_id, status="attended")
            for e in group
        )
        for enrollment in group:
            mg = Decimal(rng.choice(["15", "20", "25", "25", "30"]))
            doses.append(
                DoseRecord(
                    organization=org,
                    session=session,
                    participant_id=enrollment.participant_id,
                    product=product,
                    unique_id=lot.format(n=n % 12 + 1),
                    amount_mg=mg,
                    kind=DoseRecord.Kind.INITIAL,
                    taken_at=began,
                    recorded_by=recorder,
                )
            )
            if rng.random() < 0.15:  # a secondary dose later in the session
                doses.append(
                    DoseRecord(
                        organization=org,
                        session=session,
                        participant_id=enrollment.participant_id,
                        product=product,
                        unique_id=lot.format(n=n % 12 + 1),
                        amount_mg=Decimal("5"),
                        kind=DoseRecord.Kind.SECONDARY,
                        taken_at=began + datetime.timedelta(hours=1, minutes=30),
                        recorded_by=recorder,
                    )
                )
    DoseRecord.objects.bulk_create(doses)


def seed_client_data(org: Organization, rng: random.Random) -> None:
    """Oregon centers: a 303 Client Data Form for most enrolled clients; about 1 in 12 withholds."""
    if org.jurisdiction != "US-OR":
        return
    coordinator = User.objects.filter(memberships__organization=org, memberships__role="coordinator").first()
    known = {field.code for field in definition().fields}
    for enrollment in Enrollment.objects.filter(organization=org).select_related("participant").order_by("pk"):
        person = enrollment.participant
        if rng.random() < 0.06:
            continue  # no form on file yet
        if rng.random() < 0.08:
            client_data_record(participant=person, answers={}, withheld=True, actor=coordinator)
            continue
        answers: dict[str, str | list[str]] = {
            code: _pick(rng, weights) for code, weights in WEIGHTS.items() if code in known
        }
        answers["race"] = [str(answers["race"])]
        answers["spoken_language"] = answers["written_language"] = person.preferred_language
        answers["reasons"] = sorted(rng.sample(REASONS, rng.randint(1, 3)))
        client_data_record(participant=person, answers=answers, withheld=False, actor=coordinator)


def seed_reports(org: Organization) -> None:
    """A research project, and (Oregon) the SB 303 report of the quarter before last, generated."""
    coordinator = User.objects.filter(memberships__organization=org, memberships__role="coordinator").first()
    if not ResearchProject.objects.filter(organization=org).exists():
        project_create(organization=org, name="Community effect study (demo)", actor=coordinator)
    if org.jurisdiction == "US-OR":
        quarter = Quarter.of(timezone.localdate()).previous().previous()
        sb303_report(organization=org, quarter=quarter, actor=coordinator, via="web")
