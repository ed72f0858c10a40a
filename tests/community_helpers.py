"""Set-up for the community tests: a retreat whose people sit in one circle that Bob
facilitates, a stranger from the same retreat outside that circle, and links to their spaces.
Everything goes through the services, so every row is audited like real data."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from communitas.community.links import community_link_create
from communitas.participants.models import Participant
from communitas.programs import session_services
from communitas.programs.models import Circle, Program, Retreat, Session
from communitas.programs.services import enrollment_create
from tests.facilitator_helpers import make_profile
from tests.factories import ParticipantFactory
from tests.journey_helpers import oregon_program

NAMES = ("Ana Torres", "Ben Okafor", "Chen Li", "Dana Ruiz", "Eli Park", "Femi Ade", "Gus Moll")


@dataclass
class Community:
    program: Program
    retreat: Retreat
    circle: Circle
    profile: object  # Bob's facilitator profile
    members: list[Participant]  # in Bob's circle
    stranger: Participant  # at the retreat, in no circle
    tokens: dict[int, str] = field(default_factory=dict)

    def space(self, person: Participant, rest: str = "") -> str:
        return f"/c/{self.tokens[person.pk]}/{rest}"


def make_retreat(org, actor, *, name="Spring retreat", capacity=30) -> Retreat:
    program, _document = oregon_program(org, name=f"{name} program")
    today = timezone.localdate()
    return session_services.retreat_create(
        program=program,
        actor=actor,
        name=name,
        starts_on=today - datetime.timedelta(days=10),
        ends_on=today - datetime.timedelta(days=7),
        capacity=capacity,
    )


def attendee(retreat: Retreat, actor, **fields) -> Participant:
    person = ParticipantFactory(organization=retreat.organization, **fields)
    enrollment_create(program=retreat.program, participant=person, actor=actor)
    session_services.retreat_enroll(retreat=retreat, participant=person, actor=actor)
    return person


def community(org, alice, bob, *, members: int = 3) -> Community:
    retreat = make_retreat(org, alice)
    people = [attendee(retreat, alice, display_name=NAMES[i]) for i in range(members + 1)]
    profile = make_profile(org, alice, display_name="Bob Facilitator", user=bob, languages=["en", "es"])
    circle = session_services.circle_create(
        program=retreat.program, actor=alice, name="Thursday circle", retreat=retreat
    )
    session_services.circle_set_members(
        circle=circle, actor=alice, participants=people[:members], facilitators=[profile]
    )
    world = Community(retreat.program, retreat, circle, profile, people[:members], people[members])
    for person in people:
        _link, token = community_link_create(participant=person, actor=alice)
        world.tokens[person.pk] = token
    return world


def meeting(
    world: Community, actor, *, days: float, title="Circle meeting", kind="circle_meeting", circle=True
) -> Session:
    """A circle meeting (or community activity) ``days`` from now, with the circle's members."""
    start = timezone.now() + datetime.timedelta(days=days)
    return session_services.session_plan(
        program=world.program,
        actor=actor,
        kind=kind,
        title=title,
        planned_start=start,
        planned_end=start + datetime.timedelta(hours=2),
        facilitators=[world.profile],
        participants=list(world.members),
        circle=world.circle if circle else None,
    )
