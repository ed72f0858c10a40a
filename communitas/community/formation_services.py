"""Group formation from the database: build the solver's input for a retreat, run it, keep the run,
and apply a result to the retreat's circles.

What the input holds (``docs/group-formation.md`` has the solver's semantics):

* **applicants**: the retreat's live enrolments (applicant or enrolled, not archived), each by
  pseudonym (no names leave the database). Languages: the person's preferred language plus the
  languages they listed for peer support. ``needs_medical``: their newest screening for the
  program's substance was cleared on condition of medical oversight (the same rule session
  staffing uses). Affinity ``veterans`` when they said they are a veteran. Attributes the
  coordinator may balance or keep from isolating: ``gender`` (self-described, when given),
  ``age_band`` (from the date of birth) and ``veteran``. ``together``: whom they asked to be with;
  ``never``: the never-together pairs staff recorded. ``availability``: the times that suit them
  (peer-support preferences), when they said.
* **circles**: the retreat's circles by ``c<id>``; ``max_size`` is the circle's capacity,
  ``min_size`` the coordinator's choice; the affinity is the circle's affinity focus, lower-cased;
  ``slots``: when its integration series meets (weekday or weekend morning, afternoon, evening).
* **facilitators**: the organization's active facilitator profiles by ``f<id>``, with their
  languages and whether a medical licence is in date on the retreat's first day.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from communitas.accounts.models import Membership, User
from communitas.community import formation
from communitas.community.formation import FormationInputError, parse_problem
from communitas.community.models import CircleSeries, FormationRun, MatchingProfile, NeverTogether, PodPreference
from communitas.core.audit import audit_record
from communitas.facilitators.models import Credential, FacilitatorProfile
from communitas.facilitators.rules import medically_qualified
from communitas.participants.models import Participant
from communitas.programs.models import Circle, Enrollment, Retreat
from communitas.programs.permissions import can_manage_programs
from communitas.programs.selectors import needs_medical_oversight
from communitas.programs.session_services import circle_set_members

LIVE = (Enrollment.Status.APPLICANT, Enrollment.Status.ENROLLED)
ATTRIBUTES = ("gender", "age_band", "veteran")
WEIGHTS = ("together", "no_isolation", "balance", "schedule")
MAX_TIME_LIMIT_S = 60
AGE_BANDS = ((18, 29), (30, 39), (40, 49), (50, 59), (60, 69))


def _require_manager(actor: User, organization_id: int) -> None:
    membership = Membership.objects.filter(user=actor, organization_id=organization_id).first()
    if not actor.is_active or not can_manage_programs(membership):
        raise PermissionDenied


def age_band(date_of_birth: datetime.date | None, *, on: datetime.date) -> str | None:
    if date_of_birth is None:
        return None
    years = on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    for low, high in AGE_BANDS:
        if low <= years <= high:
            return f"{low}-{high}"
    return "70+" if years >= 70 else None


def series_slot(weekday: int, start: datetime.time) -> str:
    """The pod-preference slot a circle's meetings fall in (``PodPreference.Slot``): weekday or
    weekend, morning (before 12:00), afternoon (before 17:00) or evening, in the series' local time."""
    part = "morning" if start.hour < 12 else "afternoon" if start.hour < 17 else "evening"
    return f"{'weekend' if weekday >= 5 else 'weekday'}_{part}"


def _circle_slots(circles: list[Circle]) -> dict[int, list[str]]:
    slots: dict[int, set[str]] = {}
    for series in CircleSeries.objects.filter(circle__in=circles, cancelled_at__isnull=True):
        slots.setdefault(series.circle_id, set()).add(series_slot(series.weekday, series.start_time))
    return {circle_id: sorted(found) for circle_id, found in slots.items()}


def retreat_applicants(retreat: Retreat) -> list[Participant]:
    return list(
        Participant.objects.filter(
            enrollments__retreat=retreat, enrollments__status__in=LIVE, archived_at__isnull=True
        ).order_by("pseudonym")
    )


def retreat_circles(retreat: Retreat) -> list[Circle]:
    return list(Circle.objects.filter(retreat=retreat).order_by("name", "pk"))


def applicant_rows(retreat: Retreat, people: list[Participant]) -> list[dict]:
    """The solver's applicant entries for ``people`` (by pseudonym), in the same order."""
    ids = [p.pk for p in people]
    pseudonym = {p.pk: p.pseudonym for p in people}
    substance = retreat.program.substance
    medical = needs_medical_oversight(ids, substance) if substance != "none" else set()
    preferences = {p.participant_id: p for p in PodPreference.objects.filter(participant_id__in=ids)}
    profiles = {
        m.participant_id: m
        for m in MatchingProfile.objects.filter(participant_id__in=ids).prefetch_related("together_with")
    }
    never: dict[int, list[str]] = {}
    for a, b in NeverTogether.objects.filter(participant_a_id__in=ids, participant_b_id__in=ids).values_list(
        "participant_a_id", "participant_b_id"
    ):
        never.setdefault(a, []).append(pseudonym[b])
    out = []
    for person in people:
        preference, profile = preferences.get(person.pk), profiles.get(person.pk)
        languages = {person.preferred_language.split("-")[0].lower()}
        languages |= {code.split("-")[0].lower() for code in (preference.languages if preference else [])}
        veteran = bool(preference and preference.veteran)
        attributes = {"veteran": "yes" if veteran else "no"}
        band = age_band(person.date_of_birth, on=retreat.starts_on)
        if band:
            attributes["age_band"] = band
        if profile and profile.gender:
            attributes["gender"] = profile.gender
        together = sorted(pseudonym[o.pk] for o in profile.together_with.all() if o.pk in pseudonym) if profile else []
        availability = sorted(preference.availability) if preference and preference.availability else None
        out.append(
            {
                "id": person.pseudonym,
                "languages": sorted(languages),
                "needs_medical": person.pk in medical,
                "affinity": ["veterans"] if veteran else [],
                "attributes": attributes,
                "together": together,
                "never": sorted(never.get(person.pk, [])),
                "availability": availability,
            }
        )
    return out


def _facilitators(retreat: Retreat, max_circles: int) -> list[dict]:
    profiles = list(
        FacilitatorProfile.objects.filter(organization_id=retreat.organization_id, active=True).order_by("pk")
    )
    credentials: dict[int, list[Credential]] = {}
    for credential in Credential.objects.filter(profile__in=profiles):
        credentials.setdefault(credential.profile_id, []).append(credential)
    return [
        {
            "id": f"f{profile.pk}",
            "languages": sorted({code.split("-")[0].lower() for code in profile.languages}),
            "medical": medically_qualified(credentials.get(profile.pk, []), on=retreat.starts_on),
            "max_circles": max_circles,
        }
        for profile in profiles
    ]


def formation_problem(
    *,
    retreat: Retreat,
    min_sizes: dict[int, int],
    facilitators_per_circle: int = 1,
    max_circles_per_facilitator: int = 1,
    no_isolation: list[str] | None = None,
    balance: list[str] | None = None,
    weights: dict[str, int] | None = None,
    locks: dict[str, str] | None = None,
) -> dict:
    """The solver's input for ``retreat`` (see the module docstring)."""
    for name in [*(no_isolation or []), *(balance or [])]:
        if name not in ATTRIBUTES:
            raise FormationInputError(f"unknown attribute {name!r} (known: {', '.join(ATTRIBUTES)})")
    circles = retreat_circles(retreat)
    if not circles:
        raise FormationInputError("this retreat has no circles yet: add circles first")
    capacity = {circle.pk: circle for circle in circles}
    for circle_id, size in min_sizes.items():
        if circle_id not in capacity:
            raise FormationInputError(f"circle {circle_id} is not a circle of this retreat")
        if not 0 <= size <= capacity[circle_id].capacity:
            raise FormationInputError(
                f"{capacity[circle_id].name}: the fewest members must be between 0 and its capacity "
                f"({capacity[circle_id].capacity})"
            )
    people = retreat_applicants(retreat)
    slots = _circle_slots(circles)
    return {
        "circles": [
            {
                "id": f"c{circle.pk}",
                "min_size": min_sizes.get(circle.pk, min(1, circle.capacity)),
                "max_size": circle.capacity,
                "affinity": circle.affinity.strip().lower() or None,
                "slots": slots.get(circle.pk, []),
            }
            for circle in circles
        ],
        "facilitators": _facilitators(retreat, max_circles_per_facilitator),
        "applicants": applicant_rows(retreat, people),
        "rules": {
            "facilitators_per_circle": facilitators_per_circle,
            "no_isolation": list(no_isolation or []),
            "balance": list(balance or []),
            "weights": {k: v for k, v in (weights or {}).items() if k in WEIGHTS},
        },
        "locks": dict(locks or {}),
    }


def formation_run_create(
    *,
    retreat: Retreat,
    actor: User,
    time_limit_s: float = 20,
    hint: dict[str, str] | None = None,
    **choices,
) -> FormationRun:
    """Build the input, solve it, keep the run (optimal, feasible or infeasible: an infeasible run
    is kept too, with the conflicts it names). Bad choices raise FormationInputError, nothing saved.
    The solve runs outside any database transaction; only saving the run is atomic. ``hint``
    (pseudonym -> circle, e.g. the previous run) steers the search without binding it."""
    _require_manager(actor, retreat.organization_id)
    if not 1 <= time_limit_s <= MAX_TIME_LIMIT_S:
        raise FormationInputError(f"the time limit is between 1 and {MAX_TIME_LIMIT_S} seconds")
    problem = formation_problem(retreat=retreat, **choices)
    parse_problem(problem)  # malformed choices (a lock to an unknown circle, ...) fail here, before solving
    result = formation.form_groups(problem, time_limit_s=time_limit_s, seed=retreat.pk, hint=hint).as_dict()
    with transaction.atomic():
        return _run_save(retreat, actor, problem, result)


def _run_save(retreat: Retreat, actor: User, problem: dict, result: dict) -> FormationRun:
    run = FormationRun.objects.create(
        organization_id=retreat.organization_id,
        retreat=retreat,
        problem=problem,
        result=result,
        status=result["status"],
        created_by=actor,
    )
    audit_record(
        action="community.formation.run",
        actor=actor,
        organization_id=retreat.organization_id,
        obj=run,
        data={
            "retreat": retreat.pk,
            "status": result["status"],
            "applicants": len(problem["applicants"]),
            "circles": len(problem["circles"]),
            "locks": len(problem["locks"]),
        },
    )
    return run


@transaction.atomic
def formation_run_apply(*, run: FormationRun, actor: User) -> FormationRun:
    """Set each circle's members and facilitators to the run's result (a solved run only)."""
    _require_manager(actor, run.organization_id)
    run = FormationRun.objects.select_for_update().get(pk=run.pk)
    if run.status not in ("optimal", "feasible"):
        raise ValidationError("only a solved run can be applied; this one found no assignment")
    if run.applied_at is not None:
        raise ValidationError("this run has already been applied")
    people = {p.pseudonym: p for p in retreat_applicants(run.retreat)}
    assignments: dict[str, str] = run.result["assignments"]
    missing = sorted(set(assignments) - set(people))
    if missing:
        raise ValidationError(
            f"{len(missing)} applicant(s) of this run are no longer in the retreat; run the formation again"
        )
    profiles = {f"f{p.pk}": p for p in FacilitatorProfile.objects.filter(organization_id=run.organization_id)}
    for circle in retreat_circles(run.retreat):
        key = f"c{circle.pk}"
        members = [people[a] for a, c in sorted(assignments.items()) if c == key]
        leads = [profiles[f] for f in run.result["facilitators"].get(key, []) if f in profiles]
        circle_set_members(circle=circle, actor=actor, participants=members, facilitators=leads)
    run.applied_at, run.applied_by = timezone.now(), actor
    run.save(update_fields=["applied_at", "applied_by", "updated_at"])
    audit_record(
        action="community.formation.applied",
        actor=actor,
        organization_id=run.organization_id,
        obj=run,
        data={"retreat": run.retreat_id, "assigned": len(assignments)},
    )
    return run


@transaction.atomic
def matching_profile_save(
    *, participant: Participant, actor: User, gender: str, together_with: list[Participant]
) -> MatchingProfile:
    _require_manager(actor, participant.organization_id)
    if any(
        other.organization_id != participant.organization_id or other.pk == participant.pk for other in together_with
    ):
        raise ValidationError("choose other people of the same organization")
    profile, _created = MatchingProfile.objects.get_or_create(
        participant=participant, defaults={"organization_id": participant.organization_id}
    )
    profile.gender = gender
    profile.full_clean()
    profile.save()
    profile.together_with.set(together_with)
    audit_record(
        action="community.matching_profile.saved",
        actor=actor,
        organization_id=participant.organization_id,
        obj=profile,
        data={"participant": participant.pseudonym, "fields": ["gender", "together_with"]},
    )
    return profile
