"""Group formation in the web app: a coordinator forms circles for a retreat from what the platform
knows (languages, screening, veteran status, never-together pairs, requested pairs), locks some
placements, forms again, and applies a result to the circles."""

import datetime

import pytest
from django.test import Client

from communitas.accounts.models import Membership
from communitas.community.models import FormationRun, MatchingProfile, NeverTogether, PodPreference
from communitas.core.models import AuditEntry
from communitas.programs import session_services as sessions
from communitas.programs.services import program_create
from tests.facilitator_helpers import make_profile
from tests.factories import ParticipantFactory, make_user

Role = Membership.Role


@pytest.fixture
def retreat_setting(org, alice):
    program = program_create(organization=org, actor=alice, name="Integration", substance="none", jurisdiction="US-OR")
    retreat = sessions.retreat_create(
        program=program,
        actor=alice,
        name="Autumn retreat",
        starts_on=datetime.date(2026, 12, 1),
        ends_on=datetime.date(2026, 12, 5),
        capacity=20,
    )
    cedar = sessions.circle_create(program=program, retreat=retreat, actor=alice, name="Cedar", capacity=4)
    pine = sessions.circle_create(program=program, retreat=retreat, actor=alice, name="Pine", capacity=4)
    ana = make_profile(org, alice, display_name="Ana", languages=["es", "en"])
    ben = make_profile(org, alice, display_name="Ben", languages=["en"])
    people = []
    for n in range(6):
        person = ParticipantFactory(
            organization=org, preferred_language="es" if n == 0 else "en", date_of_birth=datetime.date(1980 + n, 1, 1)
        )
        sessions.retreat_enroll(retreat=retreat, participant=person, actor=alice)
        people.append(person)
    return {"retreat": retreat, "circles": (cedar, pine), "staff": (ana, ben), "people": people}


def form(client, retreat, **changes):
    cedar, pine = retreat.circles.order_by("name")
    data = {
        f"min_{cedar.pk}": "2",
        f"min_{pine.pk}": "2",
        "facilitators_per_circle": "1",
        "max_circles_per_facilitator": "1",
        "weight_together": "10",
        "weight_no_isolation": "5",
        "weight_balance": "1",
        "weight_schedule": "2",
        "time_limit": "5",
    }
    data.update(changes)
    return client.post(f"/community/retreats/{retreat.pk}/formation/", data)


@pytest.mark.django_db
def test_a_coordinator_forms_circles_that_meet_every_hard_rule(alice_client, alice, retreat_setting):
    retreat, people = retreat_setting["retreat"], retreat_setting["people"]
    ana, _ben = retreat_setting["staff"]
    NeverTogether.objects.create(
        organization_id=retreat.organization_id,
        participant_a=min(people[1], people[2], key=lambda p: p.pk),
        participant_b=max(people[1], people[2], key=lambda p: p.pk),
        reason="conflict",
        recorded_by=alice,
    )
    response = form(alice_client, retreat)
    run = FormationRun.objects.get()
    assert response.status_code == 302 and response.url == f"/community/formation/runs/{run.pk}/"
    assert run.status == "optimal"
    where = run.result["assignments"]
    assert set(where) == {p.pseudonym for p in people}
    assert where[people[1].pseudonym] != where[people[2].pseudonym]  # never together
    spanish = where[people[0].pseudonym]  # only Ana speaks Spanish: she leads that circle
    assert run.result["facilitators"][spanish] == [f"f{ana.pk}"]
    assert all(2 <= list(where.values()).count(c) <= 4 for c in set(where.values()))
    assert "Ana" not in str(run.problem) and people[0].display_name not in str(run.problem)  # ids, not names
    page = alice_client.get(response.url).content.decode()
    assert "How well each rule was met" in page and people[0].display_name in page
    assert AuditEntry.objects.filter(action="community.formation.run", object_id=str(run.pk)).exists()


@pytest.mark.django_db
def test_locked_placements_are_kept_when_forming_again(alice_client, retreat_setting):
    retreat, people = retreat_setting["retreat"], retreat_setting["people"]
    form(alice_client, retreat)
    first = FormationRun.objects.get()
    where = first.result["assignments"]
    keep = people[3].pseudonym
    other = next(c for c in first.result["facilitators"] if c != where[keep])
    # ask for person 3 to be with someone in the other circle: the lock must win over the wish
    MatchingProfile.objects.create(organization_id=retreat.organization_id, participant=people[3]).together_with.set(
        [next(p for p in people if where[p.pseudonym] == other)]
    )
    response = alice_client.post(f"/community/formation/runs/{first.pk}/rerun/", {"lock": [keep]})
    second = FormationRun.objects.exclude(pk=first.pk).get()
    assert response.status_code == 302
    assert second.problem["locks"] == {keep: where[keep]}
    assert second.result["assignments"][keep] == where[keep]
    page = alice_client.get(f"/community/formation/runs/{second.pk}/").content.decode()
    assert "locked" in page and "together" in page


@pytest.mark.django_db
def test_a_language_nobody_speaks_is_named_and_nothing_is_applied(alice_client, retreat_setting):
    retreat, people = retreat_setting["retreat"], retreat_setting["people"]
    people[4].preferred_language = "fa"
    people[4].save()
    form(alice_client, retreat)
    run = FormationRun.objects.get()
    assert run.status == "infeasible"
    text = str(run.result["conflicts"])
    assert people[4].pseudonym in text and "fa" in text
    page = alice_client.get(f"/community/formation/runs/{run.pk}/").content.decode()
    assert "No assignment meets every rule" in page and "Apply to the circles" not in page
    alice_client.post(f"/community/formation/runs/{run.pk}/apply/")
    assert all(circle.members.count() == 0 for circle in retreat_setting["circles"])


@pytest.mark.django_db
def test_applying_a_run_fills_the_circles_once(alice_client, retreat_setting):
    retreat, people = retreat_setting["retreat"], retreat_setting["people"]
    form(alice_client, retreat)
    run = FormationRun.objects.get()
    alice_client.post(f"/community/formation/runs/{run.pk}/apply/")
    run.refresh_from_db()
    assert run.applied_at is not None
    placed = {p.pseudonym for c in retreat_setting["circles"] for p in c.members.all()}
    assert placed == {p.pseudonym for p in people}
    for circle in retreat_setting["circles"]:
        assert [f"f{f.pk}" for f in circle.facilitators.all()] == run.result["facilitators"][f"c{circle.pk}"]
    again = alice_client.post(f"/community/formation/runs/{run.pk}/apply/", follow=True)
    assert "already been applied" in again.content.decode()


@pytest.mark.django_db
def test_veterans_only_circle_takes_only_veterans(alice_client, retreat_setting):
    retreat, people = retreat_setting["retreat"], retreat_setting["people"]
    cedar, _pine = retreat_setting["circles"]
    cedar.affinity = "Veterans"
    cedar.save()
    for person in people[:3]:
        PodPreference.objects.create(organization_id=retreat.organization_id, participant=person, veteran=True)
    form(alice_client, retreat)
    run = FormationRun.objects.get()
    in_cedar = {a for a, c in run.result["assignments"].items() if c == f"c{cedar.pk}"}
    assert in_cedar and in_cedar <= {p.pseudonym for p in people[:3]}


@pytest.mark.django_db
def test_bad_choices_are_explained_and_nothing_runs(alice_client, retreat_setting):
    retreat = retreat_setting["retreat"]
    cedar, _pine = retreat_setting["circles"]
    for changes in ({f"min_{cedar.pk}": "9"}, {"time_limit": "0"}, {"weight_balance": "-1"}):
        response = form(alice_client, retreat, **changes)
        assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    assert FormationRun.objects.count() == 0


@pytest.mark.django_db
def test_only_managers_of_the_organization_form_circles(org, other_org, retreat_setting, charlie_client):
    retreat = retreat_setting["retreat"]
    facilitator = Client()
    facilitator.force_login(make_user(org, Role.FACILITATOR))
    assert facilitator.get(f"/community/retreats/{retreat.pk}/formation/").status_code == 403
    assert form(facilitator, retreat).status_code == 403
    assert charlie_client.get(f"/community/retreats/{retreat.pk}/formation/").status_code == 404
    assert FormationRun.objects.count() == 0


@pytest.mark.django_db
def test_the_matching_profile_records_gender_and_requested_pairs(alice_client, retreat_setting):
    retreat, people = retreat_setting["retreat"], retreat_setting["people"]
    url = f"/community/retreats/{retreat.pk}/formation/people/{people[0].pk}/"
    response = alice_client.post(url, {"gender": "woman", "together_with": [people[1].pk]})
    assert response.status_code == 302
    profile = MatchingProfile.objects.get(participant=people[0])
    assert profile.gender == "woman" and list(profile.together_with.all()) == [people[1]]
    bad = alice_client.post(url, {"gender": "robot"})
    assert bad.status_code == 200 and MatchingProfile.objects.get(participant=people[0]).gender == "woman"
    outsider = ParticipantFactory(organization=retreat.organization)
    assert alice_client.get(f"/community/retreats/{retreat.pk}/formation/people/{outsider.pk}/").status_code == 404


@pytest.mark.django_db
def test_the_api_forms_reads_and_applies_runs(client, alice_api, bob_api, charlie_api, retreat_setting):
    retreat = retreat_setting["retreat"]
    cedar, pine = retreat_setting["circles"]
    url = f"/api/v1/community/retreats/{retreat.pk}/formation-runs"
    body = {"min_sizes": {str(cedar.pk): 2, str(pine.pk): 2}, "balance": ["age_band"], "time_limit_s": 5}
    created = client.post(url, body, content_type="application/json", **alice_api)
    assert created.status_code == 201 and created.json()["status"] == "optimal"
    run_id = created.json()["id"]
    assert client.get(f"/api/v1/community/formation-runs/{run_id}", **alice_api).json()["result"]["assignments"]
    assert client.post(url, body, content_type="application/json", **bob_api).status_code == 403
    assert client.post(url, body, content_type="application/json", **charlie_api).status_code == 404
    assert client.get(f"/api/v1/community/formation-runs/{run_id}", **charlie_api).status_code == 404
    bad_bodies = (
        {**body, "balance": ["shoe_size"]},
        {**body, "surprise": 1},
        {**body, "time_limit_s": 999},
        {**body, "min_sizes": {"999999": 1}},  # not a circle of this retreat
        {**body, "min_sizes": {str(cedar.pk): 9}},  # more than the circle holds
        {**body, "min_sizes": {str(cedar.pk): -1}},
        {**body, "locks": {"nobody": f"c{cedar.pk}"}},
    )
    for bad in bad_bodies:
        assert client.post(url, bad, content_type="application/json", **alice_api).status_code == 422
    assert FormationRun.objects.count() == 1
    applied = client.post(f"/api/v1/community/formation-runs/{run_id}/apply", **alice_api)
    assert applied.status_code == 200 and applied.json()["applied_at"]
    assert client.post(f"/api/v1/community/formation-runs/{run_id}/apply", **alice_api).status_code == 409
    assert cedar.members.count() + pine.members.count() == len(retreat_setting["people"])


@pytest.mark.django_db
def test_people_go_to_the_circle_that_meets_when_they_can(alice, alice_client, retreat_setting):
    import datetime as dt

    from communitas.community.circle_services import series_create

    retreat, people = retreat_setting["retreat"], retreat_setting["people"]
    cedar, pine = retreat_setting["circles"]
    ana, ben = retreat_setting["staff"]
    sessions.circle_set_members(circle=cedar, actor=alice, participants=[], facilitators=[ana])
    sessions.circle_set_members(circle=pine, actor=alice, participants=[], facilitators=[ben])
    for circle, weekday, hour in ((cedar, 1, 18), (pine, 5, 10)):  # Tuesday evening, Saturday morning
        series_create(
            circle=circle,
            actor=alice,
            title=circle.name,
            mode="in_person",
            location="Hall",
            weekday=weekday,
            start_time=dt.time(hour, 0),
            duration_minutes=90,
            time_zone="America/Los_Angeles",
            starts_on=dt.date(2026, 12, 8),
            meeting_count=4,
        )
    for n, person in enumerate(people[1:]):  # people[0] speaks Spanish: wherever Ana leads
        slot = "weekday_evening" if n % 2 else "weekend_morning"
        PodPreference.objects.create(organization_id=retreat.organization_id, participant=person, availability=[slot])
    form(alice_client, retreat, weight_schedule="20")
    run = FormationRun.objects.get()
    assert {c["id"]: c["slots"] for c in run.problem["circles"]} == {
        f"c{cedar.pk}": ["weekday_evening"],
        f"c{pine.pk}": ["weekend_morning"],
    }
    schedule = next(r for r in run.result["rule_report"] if r["rule"] == "schedule")
    assert schedule["penalty"] == 0
    for n, person in enumerate(people[1:]):
        wanted = cedar if n % 2 else pine
        assert run.result["assignments"][person.pseudonym] == f"c{wanted.pk}"
