"""Sessions are staffed lawfully: checked when planned and when started; doses and vitals."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection

from communitas.core.models import AuditEntry
from communitas.programs.models import DoseRecord, Enrollment, Session
from communitas.programs.session_services import (
    CapacityFull,
    SessionRefused,
    dose_record,
    retreat_create,
    retreat_enroll,
    session_plan,
    session_start,
    vitals_record,
)
from tests.facilitator_helpers import add_credential, make_profile
from tests.factories import ParticipantFactory
from tests.session_helpers import doses, setting, when


def _plan(program, actor, staff, people, **kw):
    start, end = kw.pop("at", when())
    return session_plan(
        program=program,
        actor=actor,
        kind=kw.pop("kind", "administration"),
        title="Group session",
        planned_start=start,
        planned_end=end,
        facilitators=staff,
        participants=people,
        planned_doses=kw.pop("planned_doses", doses(people)),
        **kw,
    )


def _refused(fn, rule):
    before = (Session.objects.count(), AuditEntry.objects.count())
    with pytest.raises(SessionRefused) as excinfo:
        fn()
    assert rule in {v.rule for v in excinfo.value.violations}, excinfo.value.violations
    assert (Session.objects.count(), AuditEntry.objects.count()) == before
    return excinfo.value


def test_it_plans_and_starts_a_lawfully_staffed_session(org, alice):
    program, _doc, guide, people = setting(org, alice)
    session = _plan(program, alice, [guide], people)
    assert session.validation["violations"] == []
    started = session_start(session=session, actor=alice)
    assert started.status == "in_progress"
    dose_record(
        session=started,
        participant=people[0],
        actor=alice,
        product="P. cubensis, whole",
        unique_id="LOT-77",
        amount_mg=Decimal("20"),
        kind="initial",
        taken_at=started.started_at,
    )
    vitals_record(
        session=started,
        participant=people[0],
        actor=alice,
        taken_at=started.started_at,
        systolic=128,
        diastolic=80,
        heart_rate=76,
    )
    assert DoseRecord.objects.get().unique_id == "LOT-77"


def test_it_refuses_an_expired_credential(org, alice):
    program, _doc, _guide, people = setting(org, alice)
    lapsed = make_profile(org, alice, display_name="Sam Lapsed", languages=["en"])
    add_credential(lapsed, alice, days_left=-1, valid_from=datetime.date(2024, 1, 1))
    _refused(lambda: _plan(program, alice, [lapsed], people), "LICENCE")


def test_it_refuses_a_missing_language(org, alice):
    program, document, guide, people = setting(org, alice, languages=("en",))
    from tests.session_helpers import make_ready

    people.append(make_ready(program, document, alice, preferred_language="vi"))
    refusal = _refused(lambda: _plan(program, alice, [guide], people), "LANGUAGE")
    assert "vi" in str(refusal)


def test_it_refuses_too_few_facilitators_for_the_largest_dose(org, alice):
    program, _document, guide, people = setting(org, alice, people=5)
    planned = {**doses(people, "10"), people[0].pk: Decimal("30")}  # 1:4 band, five people
    _refused(lambda: _plan(program, alice, [guide], people, planned_doses=planned), "OR-GROUP-RATIO")


def test_it_refuses_a_program_that_is_not_lawful(org, alice):
    program, _doc, guide, people = setting(org, alice)
    type(program).objects.filter(pk=program.pk).update(substance="mdma")
    program.refresh_from_db()
    _refused(lambda: _plan(program, alice, [guide], people), "LAWFUL")


def test_it_refuses_someone_who_is_not_ready(org, alice):
    program, _doc, guide, people = setting(org, alice)
    stranger = ParticipantFactory(organization=org)
    from communitas.programs.services import enrollment_create

    enrollment_create(program=program, participant=stranger, actor=alice)
    _refused(
        lambda: _plan(program, alice, [guide], [*people, stranger], planned_doses=doses([*people, stranger])), "READY"
    )


def test_it_checks_again_at_the_start(org, alice):
    program, _doc, guide, people = setting(org, alice)
    session = _plan(program, alice, [guide], people)
    from communitas.facilitators.models import Credential

    Credential.objects.filter(profile=guide).update(
        valid_to=datetime.date(2020, 1, 1), valid_from=datetime.date(2019, 1, 1)
    )
    _refused(lambda: session_start(session=session, actor=alice), "LICENCE")
    session.refresh_from_db()
    assert session.status == "planned"


def test_it_refuses_a_dose_over_the_session_maximum(org, alice):
    program, _doc, guide, people = setting(org, alice)
    session = session_start(session=_plan(program, alice, [guide], people), actor=alice)
    dose_record(
        session=session,
        participant=people[0],
        actor=alice,
        product="P",
        unique_id="L1",
        amount_mg=Decimal("35"),
        kind="initial",
        taken_at=session.started_at,
    )
    with pytest.raises(SessionRefused) as excinfo:
        dose_record(
            session=session,
            participant=people[0],
            actor=alice,
            product="P",
            unique_id="L1",
            amount_mg=Decimal("20"),
            kind="secondary",
            taken_at=session.started_at,
        )
    assert excinfo.value.violations[0].rule == "MAX-DOSE"
    assert DoseRecord.objects.count() == 1


def test_a_retreat_refuses_a_place_beyond_its_capacity(org, alice):
    program, _doc, _guide, people = setting(org, alice)
    retreat = retreat_create(
        program=program,
        actor=alice,
        name="Autumn",
        starts_on=datetime.date(2027, 3, 1),
        ends_on=datetime.date(2027, 3, 4),
        capacity=1,
    )
    retreat_enroll(retreat=retreat, participant=people[0], actor=alice)
    with pytest.raises(CapacityFull):
        retreat_enroll(retreat=retreat, participant=people[1], actor=alice)
    assert Enrollment.objects.filter(retreat=retreat).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks under real concurrency: PostgreSQL")
def test_two_coordinators_taking_the_last_place_get_one_enrolment(org, alice):
    from django.db import close_old_connections

    program, _doc, _guide, people = setting(org, alice, people=4)
    for round_ in range(3):  # several races: an unlocked count loses at least one of them
        retreat = retreat_create(
            program=program,
            actor=alice,
            name=f"Last place {round_}",
            capacity=1,
            starts_on=datetime.date(2027, 3, 1),
            ends_on=datetime.date(2027, 3, 4),
        )
        barrier, results = threading.Barrier(len(people)), []

        def take(person, retreat=retreat, barrier=barrier, results=results):
            try:
                barrier.wait()
                retreat_enroll(retreat=retreat, participant=person, actor=alice)
                results.append("ok")
            except CapacityFull as exc:
                results.append(f"full: {exc}")
            finally:
                close_old_connections()

        threads = [threading.Thread(target=take, args=(p,)) for p in people]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(r.split(":")[0] for r in results) == ["full"] * (len(people) - 1) + ["ok"]
        assert Enrollment.objects.filter(retreat=retreat).count() == 1
        Enrollment.objects.filter(retreat=retreat).update(retreat=None)


def test_it_refuses_an_administration_without_a_preparation_in_the_window(org, alice):
    from tests.session_helpers import make_ready, prepare

    program, document, guide, people = setting(org, alice)
    newcomer = make_ready(program, document, alice, preferred_language="en")
    _refused(
        lambda: _plan(program, alice, [guide], [*people, newcomer], planned_doses=doses([*people, newcomer])),
        "PREP-MISSING",
    )
    start, _end = when()
    prepare(program, alice, guide, [newcomer], start=start - datetime.timedelta(hours=23))
    refusal = _refused(
        lambda: _plan(program, alice, [guide], [*people, newcomer], planned_doses=doses([*people, newcomer])),
        "OR-PREP-WINDOW",
    )
    assert newcomer.pseudonym in str(refusal)
