"""Demo integration circles for the outcome programs, with a year of fortnightly meetings and
attendance, so the insights "community effect" (a mixed model of outcome against circle
engagement, participants nested in circles) has something true-to-life to estimate.

``plan_community`` runs before the outcomes are drawn and decides who sits in which circle, each
person's engagement propensity (Beta, mean 0.6), each circle's small shared effect and the
circles' meeting dates. The outcomes seed reads it (``gain_factor``, ``circle_shift``): the
session's acute improvement is everyone's, and how much of it lasts grows modestly with the
propensity as the circle meetings add up (x (0.55 + 0.7 x propensity) after six meetings); people
in no circle keep less (x 0.6). ``seed_integration_circles`` then writes the circles, meetings
and attendance, each meeting attended with the same propensity.

About 80% of the enrolled sit in exactly one circle; the rest (everyone whose session was under
three weeks ago, and a few who chose no circle) stay ungrouped: a partially nested design.
Circles are cohorts of consecutive administration dates and meet every two weeks once the whole
cohort has had its sessions, so every member is expected at every meeting of their circle (the
engagement measure counts every meeting of a member's circle as offered: circle membership has
no joining date). Past meetings and attendance are written straight to the database (the
services refuse to plan sessions in the past); the circles themselves go through the services.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from communitas.accounts.models import Membership, Organization, User
from communitas.facilitators.models import FacilitatorProfile
from communitas.participants.models import Participant
from communitas.programs import session_services as sessions
from communitas.programs.models import Attendance, Circle, Program, Session

GROUPED_SHARE = 0.8
MIN_DAYS_SINCE_SESSION = 21  # too recent a session: not yet placed in a circle
PROPENSITY = (3.0, 2.0)  # Beta(a, b): mean 0.6, sd 0.2
UNGROUPED_GAIN = 0.6  # improvement multiplier of someone in no circle
CIRCLE_SHIFT_SD = 0.05  # shared circle effect on post-session severity (0-1 scale)
LEFT_EARLY = 0.07  # of those present
MEETING = datetime.timedelta(minutes=90)
SLACK = datetime.timedelta(minutes=15)
FULL_EFFECT_MEETINGS = 6  # the engagement effect builds up over a circle's first meetings
FULL_EFFECT_DAYS = 90  # and for someone in no circle, over the months after their session

SETTINGS: dict[str, dict[str, Any]] = {
    "cascadia": {
        "circles": 6,
        "affinity": "",
        "time_zone": "America/Los_Angeles",
        "locations": ["Community room, SE Division St", "Online (video call)", "Juniper room"],
        "suffix": "integration circle",
    },
    "stillwater": {
        "circles": 5,
        "affinity": "veterans",
        "time_zone": "America/Denver",
        "locations": ["VFW hall, Buena Vista", "Online (video call)", "Ranch house library"],
        "suffix": "veterans' integration circle",
    },
}
# (weekday, English name, Spanish name, start time)
SLOTS = [
    (1, "Tuesday evening", "de los martes por la tarde", datetime.time(18, 30)),
    (3, "Thursday evening", "de los jueves por la tarde", datetime.time(18, 30)),
    (0, "Monday evening", "de los lunes por la tarde", datetime.time(19, 0)),
    (5, "Saturday morning", "de los sábados por la mañana", datetime.time(10, 0)),
    (2, "Wednesday evening", "de los miércoles por la tarde", datetime.time(18, 0)),
    (6, "Sunday afternoon", "de los domingos por la tarde", datetime.time(14, 0)),
    (4, "Friday afternoon", "de los viernes por la tarde", datetime.time(15, 0)),
]


@dataclass
class PlannedCircle:
    name: str
    language: str
    weekday: int
    start_time: datetime.time
    location: str
    shift: float  # shared effect: post-session severity is lowered by this much, once built up
    members: list[int] = field(default_factory=list)  # participant ids, by administration date
    meetings: list[datetime.datetime] = field(default_factory=list)  # planned starts, all past
    circle_id: int | None = None
    session_ids: list[int] = field(default_factory=list)


@dataclass
class CommunityPlan:
    slug: str
    rng: random.Random
    administration: dict[int, datetime.date]
    language: dict[int, str]
    propensity: dict[int, float]
    circles: list[PlannedCircle]
    circle_of: dict[int, int] = field(default_factory=dict)  # participant id -> index in circles

    def _build_up(self, participant_id: int, on: datetime.date) -> float:
        """How far the engagement effect has built up by ``on`` (0 to 1)."""
        index = self.circle_of.get(participant_id)
        if index is None:
            days = (on - self.administration[participant_id]).days
            return max(0.0, min(1.0, days / FULL_EFFECT_DAYS))
        held = sum(when.date() < on for when in self.circles[index].meetings)
        return min(1.0, held / FULL_EFFECT_MEETINGS)

    def gain_factor(self, participant_id: int, on: datetime.date) -> float:
        """How much of the typical improvement this person keeps on ``on``: more with circle
        engagement (x (0.55 + 0.7 x propensity) once built up), less in no circle (x 0.6)."""
        grouped = participant_id in self.circle_of
        full = 0.55 + 0.7 * self.propensity[participant_id] if grouped else UNGROUPED_GAIN
        return 1 + (full - 1) * self._build_up(participant_id, on)

    def circle_shift(self, participant_id: int, on: datetime.date) -> float:
        """The circle's shared effect on severity on ``on`` (built up like engagement)."""
        index = self.circle_of.get(participant_id)
        if index is None:
            return 0.0
        return self.circles[index].shift * self._build_up(participant_id, on)


def plan_community(slug: str, enrolled: list[tuple[Participant, datetime.date]], rng: random.Random) -> CommunityPlan:
    """Decide circles, propensities, circle effects and meeting dates for ``enrolled`` (person,
    administration date)."""
    own = random.Random(rng.getrandbits(64))  # noqa: S311 - reproducible demo data
    settings = SETTINGS[slug]
    today = timezone.localdate()
    propensity = {p.pk: own.betavariate(*PROPENSITY) for p, _ in enrolled}
    eligible = [(p, d) for p, d in enrolled if d <= today - datetime.timedelta(days=MIN_DAYS_SINCE_SESSION)]
    chosen = own.sample(eligible, min(len(eligible), round(GROUPED_SHARE * len(enrolled))))
    chosen.sort(key=lambda pd: (pd[1], pd[0].pk))
    slots = own.sample(SLOTS, settings["circles"])
    count = min(settings["circles"], len(chosen))
    plan = CommunityPlan(
        slug=slug,
        rng=own,
        administration={p.pk: d for p, d in enrolled},
        language={p.pk: p.preferred_language.split("-")[0] for p, _ in enrolled},
        propensity=propensity,
        circles=[],
    )
    for index in range(count):
        cohort = chosen[index * len(chosen) // count : (index + 1) * len(chosen) // count]
        weekday, english, spanish, start = slots[index]
        spanish_speakers = sum(plan.language[p.pk] == "es" for p, _ in cohort)
        language = "es" if spanish_speakers * 2 >= len(cohort) else "en"
        circle = PlannedCircle(
            name=f"Círculo de integración {spanish}" if language == "es" else f"{english} {settings['suffix']}",
            language=language,
            weekday=weekday,
            start_time=start,
            location=own.choice(settings["locations"]),
            shift=own.gauss(0, CIRCLE_SHIFT_SD),
            members=[p.pk for p, _ in cohort],
        )
        plan.circles.append(circle)
        for p, _ in cohort:
            plan.circle_of[p.pk] = index
        circle.meetings = _meetings(cohort[-1][1], circle, ZoneInfo(settings["time_zone"]))
    return plan


def _meetings(after: datetime.date, circle: PlannedCircle, tz: ZoneInfo) -> list[datetime.datetime]:
    """Fortnightly meetings on the circle's weekday from just after ``after``, all ended by now."""
    day = after + datetime.timedelta(days=1)
    day += datetime.timedelta(days=(circle.weekday - day.weekday()) % 7)
    now = timezone.now()
    meetings = []
    while (start := datetime.datetime.combine(day, circle.start_time, tzinfo=tz)) + MEETING + SLACK < now:
        meetings.append(start)
        day += datetime.timedelta(days=14)
    return meetings


def _attendance(rng: random.Random, propensity: float) -> str:
    if rng.random() >= propensity:
        return Attendance.Status.ABSENT
    return Attendance.Status.LEFT_EARLY if rng.random() < LEFT_EARLY else Attendance.Status.ATTENDED


def seed_integration_circles(org: Organization, plan: CommunityPlan) -> None:
    """Create the planned circles with their past meetings and attendance."""
    coordinator = Membership.objects.filter(organization=org, role="coordinator").select_related("user").first()
    if coordinator is None or not plan.circles:
        return
    actor = coordinator.user
    program = Program.objects.get(organization=org)
    rng = plan.rng
    people = Participant.objects.in_bulk([pid for c in plan.circles for pid in c.members])
    meetings: list[Session] = []
    for planned in plan.circles:
        circle = sessions.circle_create(
            program=program,
            actor=actor,
            name=planned.name,
            language=planned.language,
            affinity=SETTINGS[plan.slug]["affinity"],
            capacity=max(10, len(planned.members)),
        )
        sessions.circle_set_members(
            circle=circle, actor=actor, participants=[people[pid] for pid in planned.members], facilitators=[]
        )
        planned.circle_id = circle.pk
        for number, start in enumerate(planned.meetings, start=1):
            end = start + MEETING
            meetings.append(
                Session(
                    organization_id=org.pk,
                    program=program,
                    circle=circle,
                    kind=Session.Kind.CIRCLE_MEETING,
                    activity=Session.Activity.GROUP_DISCUSSION,
                    title=f"{planned.name}: meeting {number}",
                    location=planned.location,
                    planned_start=start,
                    planned_end=end,
                    started_at=start + datetime.timedelta(minutes=rng.randint(0, 8)),
                    ended_at=end + datetime.timedelta(minutes=rng.randint(-5, 10)),
                    status=Session.Status.COMPLETED,
                )
            )
    Session.objects.bulk_create(meetings)
    rows = []
    held = iter(meetings)
    for planned in plan.circles:
        for _start in planned.meetings:
            session = next(held)
            planned.session_ids.append(session.pk)
            rows += [
                Attendance(
                    organization_id=org.pk,
                    session=session,
                    participant_id=pid,
                    status=_attendance(rng, plan.propensity[pid]),
                )
                for pid in planned.members
            ]
    Attendance.objects.bulk_create(rows, batch_size=500)


def assign_circle_facilitators(org: Organization, plan: CommunityPlan) -> None:
    """Staff the circles and their meetings with the organization's facilitators, when it has any
    (run after the facilitator profiles exist). Someone who prefers Spanish gets a facilitator
    who speaks it."""
    coordinator = Membership.objects.filter(organization=org, role="coordinator").select_related("user").first()
    profiles = list(FacilitatorProfile.objects.filter(organization=org, active=True).order_by("pk"))
    if coordinator is None or not profiles:
        return
    circles = Circle.objects.in_bulk([c.circle_id for c in plan.circles if c.circle_id])
    through = Session.facilitators.through
    links = []
    for index, planned in enumerate(plan.circles):
        circle = circles.get(planned.circle_id or 0)
        if circle is None:
            continue
        languages = {plan.language[pid] for pid in planned.members} | {planned.language}
        speakers = [p for p in profiles if "es" in {code.split("-")[0] for code in p.languages}]
        lead = profiles[index % len(profiles)]
        if "es" in languages and speakers and lead not in speakers:
            lead = speakers[index % len(speakers)]
        team = [lead]
        if len(planned.members) >= 7 and len(profiles) > 1:
            team.append(next(p for p in profiles[index + 1 :] + profiles if p != lead))
        sessions.circle_set_members(
            circle=circle, actor=coordinator.user, participants=list(circle.members.all()), facilitators=team
        )
        links += [
            through(session_id=sid, facilitatorprofile_id=profile.pk) for sid in planned.session_ids for profile in team
        ]
    through.objects.bulk_create(links, batch_size=500)


def seed_analyses(org: Organization) -> None:
    """A finished community-effect analysis per questionnaire with a baseline, so the dashboard's
    panel has its plot and model table from the start (run in this process, as the task would)."""
    from communitas.insights.models import AnalysisRun
    from communitas.insights.services import analysis_run_execute, analysis_run_request
    from communitas.outcomes.models import AssessmentSchedule

    coordinator = User.objects.filter(memberships__organization=org, memberships__role="coordinator").first()
    schedules = AssessmentSchedule.objects.filter(organization=org).select_related("program").order_by("pk")
    for schedule in schedules:
        if schedule.instrument_code == "meq30":  # asked once after the session: no baseline to change from
            continue
        run = analysis_run_request(
            program=schedule.program, instrument_code=schedule.instrument_code, actor=coordinator, enqueue=False
        )
        if run.status == AnalysisRun.Status.QUEUED:
            analysis_run_execute(run)
