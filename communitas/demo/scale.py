"""``communitas seed-scale``: one realistic organization at scale (100,000 participants in
minutes), for load tests and query plans.

Unlike the demo, rows are not written one service call at a time: the plan is drawn first
(``scale_plan``), then every table is written in bulk (``scale_writer``: COPY on PostgreSQL,
``executemany`` on SQLite) inside one transaction, so a failure leaves nothing behind. Encrypted
columns still go through the model fields' own encryption; scores come from the scoring engine;
screenings from the screening engine. The seeding is audited once, as a whole (counts only, no
PII); the two participant links of the sample rows are issued through their services (audited).

Staff log in with ``PASSWORD``. ``seed_scale`` returns the manifest the load benchmark reads:
the organization, the logins and the ids and paths of a sample participant, program, retreat,
circle, session, enrolment, an open questionnaire link and a community-space link.
"""

from __future__ import annotations

import datetime
import hashlib
import random
import time
from collections.abc import Iterable

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from communitas.accounts.models import Membership, Organization, User
from communitas.community.links import community_link_create
from communitas.community.models import Partner
from communitas.core.audit import audit_record
from communitas.demo import people
from communitas.demo.community_seed import PARTNERS
from communitas.demo.journey_seed import CONSENT
from communitas.demo.scale_context import Context, Staff
from communitas.demo.scale_outcomes import OutcomeWriter, schedules_for
from communitas.demo.scale_people import (
    SCOPES,
    write_consents,
    write_documents,
    write_enrollments,
    write_participants,
    write_screenings,
    write_support_people,
)
from communitas.demo.scale_plan import make_plan
from communitas.demo.scale_sessions import write_retreats_and_circles, write_sessions
from communitas.demo.scale_writer import Progress, Writer
from communitas.facilitators.models import Credential, FacilitatorProfile
from communitas.outcomes.links import token_for as assessment_token
from communitas.outcomes.models import Assessment, AssessmentSchedule
from communitas.outcomes.services import assessment_link_create
from communitas.participants.models import ConsentDocument
from communitas.programs.models import Program

PASSWORD = "communitas-scale"
MANIFEST_FORMAT = "communitas-seed-scale/1"
DEFAULT_NAME = "Scale Test Collective"
JURISDICTION = "US-OR"
SUBSTANCE = "psilocybin"
SAMPLE_IDS = 100
GUIDES_PER_CIRCLE = 1 / 6  # facilitator profiles without a login, for the circles
Role = Membership.Role
STAFF = [  # (email local part, name, role, languages, clinician)
    ("coordinator", "Morgan Ellis", Role.COORDINATOR, ["en"], False),
    ("admin", "Pat Okonkwo", Role.ADMIN, ["en"], False),
    ("facilitator1", "Jordan Reyes", Role.FACILITATOR, ["en", "es"], False),
    ("facilitator2", "Amara Nwosu", Role.FACILITATOR, ["en"], False),
    ("facilitator3", "Lucía Ferreira", Role.FACILITATOR, ["es", "en"], False),
    ("facilitator4", "Sam Whitehorse", Role.FACILITATOR, ["en"], False),
    ("clinician", "Dr. Helen Tran", Role.FACILITATOR, ["en", "vi"], True),
    ("peer", "Kai Morales", Role.PEER_SUPPORTER, ["en"], False),
    ("researcher", "Ruth Abara", Role.RESEARCHER, ["en"], False),
]


class ScaleRefused(ValueError):
    """The seeding cannot run as asked; nothing was written."""


def organization_slug(name: str) -> str:
    return slugify(name)[:80].strip("-")


def staff_emails(slug: str) -> list[str]:
    return [f"{local}@{slug}.example" for local, *_rest in STAFF]


def check(*, participants: int, organization_name: str) -> str:
    """Refuse an invalid count or an organization (or staff login) that already exists; returns
    the organization's slug."""
    if not isinstance(participants, int) or isinstance(participants, bool) or participants < 1:
        raise ScaleRefused(f"--participants must be a whole number of at least 1 (got {participants!r})")
    name = organization_name.strip()
    slug = organization_slug(name)
    if not name or not slug:
        raise ScaleRefused("the organization needs a name with letters or digits")
    longest = Organization._meta.get_field("name").max_length or 200
    if len(name) > longest:
        raise ScaleRefused(f"the organization name is too long (at most {longest} characters)")
    if Organization.objects.filter(name__iexact=name).exists():
        raise ScaleRefused(f"an organization named {name!r} already exists; nothing was written")
    if Organization.objects.filter(slug=slug).exists():
        raise ScaleRefused(f"an organization with the slug {slug!r} already exists; nothing was written")
    taken = sorted(User.objects.filter(email__in=staff_emails(slug)).values_list("email", flat=True))
    if taken:
        raise ScaleRefused(f"staff logins already exist ({', '.join(taken)}); nothing was written")
    return slug


def seed_scale(
    *, participants: int, organization_name: str = DEFAULT_NAME, seed: int = 0, progress: Progress | None = None
) -> dict:
    """Create the organization and everything in it; returns the manifest."""
    started = time.monotonic()
    slug = check(participants=participants, organization_name=organization_name)
    progress = progress or Progress(enabled=False)
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not security
    today, now = timezone.localdate(), timezone.now()
    progress.start("plan", participants)
    plan = make_plan(participants, _fork(rng), today)
    progress.finish()
    with transaction.atomic():
        check(participants=participants, organization_name=organization_name)
        organization = Organization.objects.create(
            name=organization_name.strip(), slug=slug, kind=Organization.Kind.SERVICE_CENTER, jurisdiction=JURISDICTION
        )
        staff = _staff(organization, slug, now)
        ctx = Context(organization, plan, _fork(rng), Writer(progress), progress, staff, now)
        _facilitators(ctx, _fork(rng))
        _programs(ctx)
        _write_everything(ctx, _fork(rng), _fork(rng))
        manifest = _manifest(ctx, slug, seed, _fork(rng))
        audit_record(
            action="demo.organization.seeded",
            organization_id=organization.pk,
            obj=organization,
            data={"participants": participants, "seed": seed, "rows": manifest["counts"]},
        )
        progress.start("commit", 0)
    progress.finish()
    manifest["elapsed_seconds"] = round(time.monotonic() - started, 1)
    return manifest


def _fork(rng: random.Random) -> random.Random:
    """An independent generator per phase, so one phase's draws never shift another's."""
    return random.Random(rng.getrandbits(64))  # noqa: S311 - reproducible test data, not security


def _write_everything(ctx: Context, session_rng: random.Random, outcome_rng: random.Random) -> None:
    write_participants(ctx)
    write_support_people(ctx)
    write_retreats_and_circles(ctx)
    write_enrollments(ctx)
    write_consents(ctx)
    write_screenings(ctx, SUBSTANCE, JURISDICTION)
    write_documents(ctx, JURISDICTION)
    ctx.rng = session_rng
    write_sessions(ctx)
    outcomes = OutcomeWriter(ctx, outcome_rng)
    outcomes.run()
    ctx.counts["sample_assessment"] = outcomes.sample_assessment or 0


def _staff(organization: Organization, slug: str, now: datetime.datetime) -> Staff:
    users = User.objects.bulk_create(
        User(email=email, full_name=name, password=make_password(PASSWORD), date_joined=now)
        for email, (_local, name, *_rest) in zip(staff_emails(slug), STAFF, strict=True)
    )
    Membership.objects.bulk_create(
        Membership(user=user, organization=organization, role=role, is_clinician=clinician)
        for user, (_local, _name, role, _languages, clinician) in zip(users, STAFF, strict=True)
    )
    by_local = {local: user for user, (local, *_rest) in zip(users, STAFF, strict=True)}
    return Staff(
        coordinator=by_local["coordinator"],
        clinician=by_local["clinician"],
        users=[(user, str(spec[2])) for user, spec in zip(users, STAFF, strict=True)],
    )


def _facilitators(ctx: Context, rng: random.Random) -> None:
    """Profiles for the facilitating staff and for guides without a login (about one per six
    circles), each with an Oregon licence (a few expiring soon); the clinician is a physician."""
    org, today = ctx.organization, ctx.plan.today
    profiles = [
        FacilitatorProfile(organization=org, user=user, display_name=user.full_name, languages=spec[3])
        for user, spec in zip([u for u, _r in ctx.staff.users], STAFF, strict=True)
        if spec[2] == Role.FACILITATOR
    ]
    for _ in range(max(2, round(len(ctx.plan.cohorts) * GUIDES_PER_CIRCLE))):
        community = rng.choice(list(people.FIRST_NAMES))
        name = f"{rng.choice(people.FIRST_NAMES[community])} {rng.choice(people.SURNAMES[community])}"
        languages = ["en", "es"] if rng.random() < 0.3 else ["en"]
        profiles.append(FacilitatorProfile(organization=org, display_name=name, languages=languages))
    profiles = FacilitatorProfile.objects.bulk_create(profiles)
    credentials = []
    for n, profile in enumerate(profiles, start=1):
        credentials.append(_licence(ctx, profile, n, rng, today))
        if profile.user_id == ctx.staff.clinician.pk:
            ctx.staff.clinician_profile = profile.pk
            credentials.append(_licence(ctx, profile, n, rng, today, kind="physician"))
    Credential.objects.bulk_create(credentials)
    ctx.staff.profiles = [p.pk for p in profiles if p.pk != ctx.staff.clinician_profile]
    ctx.staff.spanish_profiles = [p.pk for p in profiles if "es" in p.languages and p.pk != ctx.staff.clinician_profile]


def _licence(ctx, profile, n, rng, today, *, kind: str = "oregon_facilitator_license") -> Credential:
    days_left = rng.choice([25, 60, *range(120, 900, 60)])
    return Credential(
        organization=ctx.organization,
        profile=profile,
        kind=kind,
        number=f"{'OFL' if kind != 'physician' else 'MD'}-{n:05d}",
        issuing_jurisdiction=JURISDICTION,
        valid_from=today - datetime.timedelta(days=rng.randint(200, 1400)),
        valid_to=today + datetime.timedelta(days=days_left),
        verified_by=ctx.staff.coordinator,
        verified_at=ctx.now - datetime.timedelta(days=rng.randint(30, 180)),
    )


def _programs(ctx: Context) -> None:
    """Programs, their questionnaire schedules, the consent documents (English and Spanish) and
    the community partners."""
    org = ctx.organization
    programs = Program.objects.bulk_create(
        Program(
            organization=org,
            name=spec.name,
            substance=SUBSTANCE,
            jurisdiction=JURISDICTION,
            description=f"{spec.name}: preparation, a group psilocybin session and integration circles.",
        )
        for spec in ctx.plan.programs
    )
    ctx.program_ids = [p.pk for p in programs]
    AssessmentSchedule.objects.bulk_create(
        AssessmentSchedule(
            organization=org, program=program, instrument_code=code, timepoints=[t.as_dict() for t in tps]
        )
        for program, spec in zip(programs, ctx.plan.programs, strict=True)
        for code, tps in schedules_for(spec.instruments)
    )
    documents = ConsentDocument.objects.bulk_create(
        ConsentDocument(
            organization=org,
            title=title,
            version="2026.1",
            language=language,
            body=body,
            scopes=SCOPES,
            required_scopes=["participation"],
            body_hash=hashlib.sha256(body.encode()).hexdigest(),
        )
        for language, (title, body) in CONSENT.items()
    )
    ctx.consent_documents = {d.language: (d.pk, d.body_hash) for d in documents}
    english = next(d for d in documents if d.language == "en")
    for program in programs:
        program.consent_documents.add(english)
    Partner.objects.bulk_create(Partner(organization=org, **spec) for spec in PARTNERS)


def _path(name: str, *args) -> str:
    return reverse(name, args=args)


def _manifest(ctx: Context, slug: str, seed: int, rng: random.Random) -> dict:
    coordinator = ctx.staff.coordinator
    person = ctx.plan.persons[ctx.plan.sample_person]
    assessment = Assessment.objects.get(pk=ctx.counts.pop("sample_assessment"))
    link = assessment_link_create(assessment=assessment, actor=coordinator, days=30)
    space, space_token = community_link_create(participant=_participant(person.pk), actor=coordinator)
    sample = {
        **_sample_pages(ctx),
        "participant_search": person.display_name.split()[-1],
        "assessment_id": assessment.pk,
        "assessment_instrument": assessment.instrument_code,
        "assessment_timepoint": assessment.timepoint,
        "assessment_link_path": _path("outcomes_public:form", assessment_token(link)),
        "assessment_link_expires_at": link.expires_at.isoformat(),
        "space_path": _path("space:home", space_token),
        "space_expires_at": space.expires_at.isoformat(),
    }
    return {
        "format": MANIFEST_FORMAT,
        "generated_at": ctx.now.isoformat(),
        "seed": seed,
        "database": connection.vendor,
        "organization": {"id": ctx.org_id, "slug": slug, "name": ctx.organization.name},
        "password": PASSWORD,
        "staff": [{"email": u.email, "role": role, "full_name": u.full_name} for u, role in ctx.staff.users],
        "logins": _logins(ctx),
        "counts": _counts(ctx),
        "sample": sample,
        "participant_ids": _sample_ids(ctx, rng),
        "program_ids": ctx.program_ids,
    }


def _sample_pages(ctx: Context) -> dict:
    """Ids and staff-page paths of the sample participant and their program, retreat, circle,
    circle meeting and enrolment."""
    person = ctx.plan.persons[ctx.plan.sample_person]
    cohort = ctx.plan.cohorts[ctx.plan.sample_cohort]
    program = ctx.program_ids[cohort.program]
    ids = {
        "participant_id": person.pk,
        "program_id": program,
        "retreat_id": ctx.retreat_ids[cohort.index],
        "circle_id": ctx.circle_ids[cohort.index],
        "session_id": _sample_session(ctx, cohort.index),
        "enrollment_id": ctx.enrollment_ids[person.index],
    }
    paths = {
        "participant_path": _path("participants:detail", person.pk),
        "program_path": _path("programs:detail", program),
        "retreat_path": _path("programs:retreat", program, ids["retreat_id"]),
        "circle_path": _path("programs:circle", program, ids["circle_id"]),
        "session_path": _path("programs:session", program, ids["session_id"]),
        "enrollment_path": _path("programs:enrollment", program, ids["enrollment_id"]),
    }
    return {**ids, **paths}


def _participant(pk: int):
    from communitas.participants.models import Participant

    return Participant.objects.get(pk=pk)


def _sample_session(ctx: Context, cohort: int) -> int:
    """The sample circle's latest meeting under way or held, else its administration session."""
    from communitas.programs.models import Session

    meetings = Session.objects.filter(pk__in=ctx.meeting_ids.get(cohort, []), started_at__isnull=False)
    latest = meetings.order_by("-planned_start").values_list("pk", flat=True).first()
    return latest or ctx.session_ids[cohort]["administration"]


def _logins(ctx: Context) -> dict[str, dict[str, str]]:
    """One login per role (the first of each), and the clinician's."""
    logins: dict[str, dict[str, str]] = {}
    for user, role in ctx.staff.users:
        logins.setdefault(role, {"email": user.email, "password": PASSWORD})
    logins["clinician"] = {"email": ctx.staff.clinician.email, "password": PASSWORD}
    return logins


def _sample_ids(ctx: Context, rng: random.Random) -> list[int]:
    active = [p.pk for p in ctx.plan.persons if p.kind in "APEQ"]
    return sorted(rng.sample(active, min(SAMPLE_IDS, len(active))))


def _counts(ctx: Context) -> dict[str, int]:
    written = ctx.writer.written
    get = written.get
    return {
        "participants": get("participants.participant", 0),
        "search_tokens": get("participants.participantsearchtoken", 0),
        "support_persons": get("participants.supportperson", 0),
        "programs": len(ctx.program_ids),
        "retreats": get("programs.retreat", 0),
        "circles": get("programs.circle", 0),
        "circle_members": get("programs.circle_members", 0),
        "enrollments": get("programs.enrollment", 0),
        "sessions": get("programs.session", 0),
        "attendance": get("programs.attendance", 0),
        "doses": get("programs.doserecord", 0),
        "consent_signatures": get("participants.consentsignature", 0),
        "consent_decisions": get("participants.consentdecision", 0),
        "intakes": get("safety.intake", 0),
        "screenings": get("safety.screening", 0),
        "screening_decisions": get("safety.screeningdecision", 0),
        "documents": get("programs.participantdocument", 0),
        "assessments": get("outcomes.assessment", 0),
        "responses": get("outcomes.response", 0),
        "scores": get("outcomes.score", 0),
        "safety_alerts": get("safety.safetyalert", 0),
        "safety_alerts_open": ctx.counts.get("safety_alerts_open", 0),
        "archived_participants": ctx.counts.get("archived", 0),
        "facilitator_profiles": len(ctx.staff.profiles) + 1,
        "staff": len(ctx.staff.users),
    }


def summary_lines(manifest: dict) -> Iterable[str]:
    counts = manifest["counts"]
    org = manifest["organization"]
    yield f"Seeded {org['name']} (id {org['id']}, slug {org['slug']}) in {manifest['elapsed_seconds']} s:"
    yield "  " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in counts.items())
    yield f"Staff log in with password {manifest['password']!r}:"
    for member in manifest["staff"]:
        yield f"  {member['role']:<15} {member['email']}"
