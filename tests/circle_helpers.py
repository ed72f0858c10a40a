"""An integration circle for a retreat that ends soon, its facilitator and members, and the
dates the circle tests plan meetings on."""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from communitas.community.links import community_link_create
from communitas.facilitators.models import FacilitatorProfile
from communitas.participants.models import Participant
from communitas.programs.models import Circle, Program, Retreat
from communitas.programs.services import enrollment_create
from communitas.programs.session_services import circle_create, circle_set_members, retreat_create
from tests.facilitator_helpers import make_profile
from tests.factories import ParticipantFactory
from tests.journey_helpers import oregon_program

TZ = "America/Los_Angeles"


@dataclass
class CircleSetting:
    program: Program
    retreat: Retreat
    circle: Circle
    guide: FacilitatorProfile
    members: list[Participant]


def enrolled(program, actor, **fields) -> Participant:
    person = ParticipantFactory(organization=program.organization, **{"preferred_language": "en", **fields})
    enrollment_create(program=program, participant=person, actor=actor)
    return person


def circle_setting(org, actor, *, members=2, capacity=4, guide_user=None) -> CircleSetting:
    program, _document = oregon_program(org, name="Integration program")
    today = timezone.localdate()
    retreat = retreat_create(
        program=program,
        actor=actor,
        name="Spring retreat",
        starts_on=today,
        ends_on=today + datetime.timedelta(days=3),
        capacity=12,
    )
    circle = circle_create(program=program, actor=actor, name="Tuesday circle", capacity=capacity, retreat=retreat)
    guide = make_profile(org, actor, display_name="Ana Lucía Ramos", languages=["en", "es"], user=guide_user)
    people = [enrolled(program, actor) for _ in range(members)]
    circle_set_members(circle=circle, actor=actor, participants=people, facilitators=[guide])
    return CircleSetting(program, retreat, circle, guide, people)


def next_weekday(weekday: int, *, after_days: int = 1) -> datetime.date:
    """The first ``weekday`` (0 = Monday) at least ``after_days`` from today."""
    start = timezone.localdate() + datetime.timedelta(days=after_days)
    return start + datetime.timedelta(days=(weekday - start.weekday()) % 7)


def series_fields(**overrides) -> dict:
    fields = {
        "title": "Integration circle",
        "cadence": "weekly",
        "mode": "online",
        "meeting_link": "https://meet.example.org/circle-7f3k-secret",
        "weekday": 1,
        "start_time": datetime.time(18, 30),
        "duration_minutes": 90,
        "time_zone": TZ,
        "starts_on": next_weekday(1),
        "meeting_count": 6,
    }
    fields.update(overrides)
    return fields


def space_token(person, actor) -> str:
    _link, token = community_link_create(participant=person, actor=actor)
    return token


def assert_error(response, status: int) -> dict:
    """The one error shape, ``{"error": <code>, "detail": ...}``, for any status (409 included)."""
    from communitas.core.api import STATUS_CODES

    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error", "detail"} and body["error"] == STATUS_CODES[status], body
    assert body["detail"], body
    return body
