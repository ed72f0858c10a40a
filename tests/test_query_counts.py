"""Pages run a fixed number of queries however many rows they show (no N+1)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import ParticipantFactory, make_support_person

ROW = re.compile(r'href="/participants/\d+/"')


def _add_participants(org, count, start=0):
    for i in range(start, start + count):
        p = ParticipantFactory(organization=org, display_name=f"Rowan Quispe {i}")
        make_support_person(p, name=f"Helper {i}")


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


@pytest.mark.parametrize("query", ["", "?q=rowan", "?q=rowan+quispe", "?page=2"])
def test_it_lists_3_or_30_participants_in_the_same_number_of_queries(
    alice_client, org, django_assert_num_queries, query
):
    url = reverse("participants:list") + query
    _add_participants(org, 3)
    alice_client.get(url)  # warm up anything cached per process
    baseline, few = _count_queries(alice_client, url)

    _add_participants(org, 27, start=3)
    with django_assert_num_queries(baseline):
        many = alice_client.get(url)

    assert many.status_code == 200
    if query == "?page=2":
        assert len(ROW.findall(many.content.decode())) == 5
    else:
        assert len(ROW.findall(few.content.decode())) == 3
        assert len(ROW.findall(many.content.decode())) == 25


def test_it_shows_a_participant_with_1_or_10_support_people_in_the_same_number_of_queries(
    alice_client, participant, django_assert_num_queries
):
    url = reverse("participants:detail", args=[participant.pk])
    alice_client.get(url)
    baseline, one = _count_queries(alice_client, url)

    for i in range(9):
        make_support_person(participant, name=f"Extra Helper {i}", relationship="peer")
    with django_assert_num_queries(baseline):
        ten = alice_client.get(url)

    assert ten.status_code == 200
    assert "Extra Helper" not in one.content.decode()
    assert ten.content.decode().count("Extra Helper") == 9
    assert ten.content.decode().count('data-label="Relationship">Peer (lived experience)<') == 9


def test_it_shows_the_detail_page_in_the_same_number_of_queries_however_many_participants_exist(
    alice_client, participant, org, django_assert_num_queries
):
    url = reverse("participants:detail", args=[participant.pk])
    alice_client.get(url)
    baseline, _ = _count_queries(alice_client, url)

    _add_participants(org, 27)
    with django_assert_num_queries(baseline):
        alice_client.get(url)
