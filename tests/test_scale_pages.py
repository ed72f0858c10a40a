"""Pages that list a program's people stay bounded as programs grow: the roster is paged and its
readiness computed per page, a circle's member picker offers its retreat's people, a retreat's
"Add" list offers people in no retreat. (Found by the load benchmark at 100,000 participants.)"""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communitas.programs import session_services
from communitas.programs.services import enrollment_create
from tests.factories import ParticipantFactory
from tests.journey_helpers import oregon_program

pytestmark = pytest.mark.django_db

ENROLMENT_LINK = re.compile(r'href="/programs/\d+/enrollments/\d+/"')


def _enrol(program, actor, count, start=0):
    people = []
    for i in range(start, start + count):
        person = ParticipantFactory(organization=program.organization, display_name=f"Member {i:03d}")
        enrollment_create(program=program, participant=person, actor=actor)
        people.append(person)
    return people


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_the_program_page_pages_its_roster_in_the_same_number_of_queries(org, alice, alice_client):
    program, _document = oregon_program(org)
    url = reverse("programs:detail", args=[program.pk])
    _enrol(program, alice, 3)
    alice_client.get(url)
    few, html_few = _queries(alice_client, url)

    _enrol(program, alice, 57, start=3)
    many, html_many = _queries(alice_client, url)

    assert many == few
    assert len(ENROLMENT_LINK.findall(html_few)) == 3
    assert len(ENROLMENT_LINK.findall(html_many)) == 50
    assert "Page 1 of 2 (60 enrolments)" in html_many
    second = alice_client.get(url + "?page=2").content.decode()
    assert len(ENROLMENT_LINK.findall(second)) == 10


def test_the_roster_api_counts_everyone_and_computes_readiness_for_its_page(org, alice, alice_client, alice_api):
    program, _document = oregon_program(org)
    _enrol(program, alice, 7)

    body = alice_client.get(f"/api/v1/programs/{program.pk}/roster?limit=3&offset=5", **alice_api).json()

    assert body["count"] == 7
    assert len(body["items"]) == 2
    assert {item["readiness"] for item in body["items"]} <= {"ready", "not_ready", "paused"}


def test_a_retreat_circle_offers_its_retreat_people_and_its_members_only(org, alice, alice_client):
    program, _document = oregon_program(org)
    today = datetime.date.today()
    retreat = session_services.retreat_create(
        program=program, actor=alice, name="Autumn", starts_on=today, ends_on=today, capacity=10
    )
    in_retreat = _enrol(program, alice, 3)
    elsewhere = _enrol(program, alice, 4, start=3)
    for person in in_retreat:
        session_services.retreat_enroll(retreat=retreat, participant=person, actor=alice)
    circle = session_services.circle_create(program=program, actor=alice, name="Cedar", retreat=retreat)
    session_services.circle_set_members(circle=circle, actor=alice, participants=[elsewhere[0]], facilitators=[])

    html = alice_client.get(reverse("programs:circle", args=[program.pk, circle.pk])).content.decode()

    offered = {int(pk) for pk in re.findall(r'name="members" value="(\d+)"', html)}
    assert offered == {p.pk for p in in_retreat} | {elsewhere[0].pk}


def test_a_retreat_offers_people_in_no_retreat_yet(org, alice, alice_client):
    program, _document = oregon_program(org)
    today = datetime.date.today()
    first, second = (
        session_services.retreat_create(
            program=program, actor=alice, name=name, starts_on=today, ends_on=today, capacity=10
        )
        for name in ("Autumn", "Winter")
    )
    placed, free = _enrol(program, alice, 2), _enrol(program, alice, 3, start=2)
    session_services.retreat_enroll(retreat=first, participant=placed[0], actor=alice)
    session_services.retreat_enroll(retreat=second, participant=placed[1], actor=alice)

    html = alice_client.get(reverse("programs:retreat", args=[program.pk, first.pk])).content.decode()

    offered = {int(pk) for pk in re.findall(r'<option value="(\d+)"', html)}
    assert offered == {p.pk for p in free}
