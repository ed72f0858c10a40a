"""Facilitator notes: encrypted, visible only to the author and the people they share with."""

from django.db import connection
from django.test import Client

from communitas.programs.models import FacilitatorNote
from communitas.programs.session_services import session_plan
from tests.session_helpers import doses, setting, when


def _session(org, alice):
    program, _doc, guide, people = setting(org, alice)
    start, end = when()
    session = session_plan(
        program=program,
        actor=alice,
        kind="administration",
        title="Notes",
        planned_start=start,
        planned_end=end,
        facilitators=[guide],
        participants=people,
        planned_doses=doses(people),
    )
    return program, session, people


def test_a_note_is_encrypted_and_private_until_shared(org, alice, bob, alice_client, bob_client):
    program, session, people = _session(org, alice)
    url = f"/programs/{program.pk}/sessions/{session.pk}/"
    r = alice_client.post(url + "note/", {"participant": people[0].pk, "body": "Cried about her brother; held space."})
    assert r.status_code == 302
    note = FacilitatorNote.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM programs_facilitatornote WHERE id = %s", [note.pk])
        assert cursor.fetchone()[0].startswith("enc1$")
    assert "Cried about her brother" in alice_client.get(url).content.decode()
    assert "Cried about her brother" not in bob_client.get(url).content.decode()
    r = alice_client.post(
        url + "note/",
        {"participant": people[1].pk, "body": "Shared with Bob: check in tomorrow.", "shared_with": [bob.pk]},
    )
    page = bob_client.get(url).content.decode()
    assert "check in tomorrow" in page and "Cried about her brother" not in page


def test_a_note_refuses_someone_outside_the_session_and_empty_text(org, alice, alice_client, outsider_participant):
    program, session, people = _session(org, alice)
    url = f"/programs/{program.pk}/sessions/{session.pk}/note/"
    assert alice_client.post(url, {"participant": outsider_participant.pk, "body": "x y z"}).status_code == 400
    assert alice_client.post(url, {"participant": people[0].pk, "body": ""}).status_code == 400
    assert not FacilitatorNote.objects.exists()


def test_another_organization_cannot_add_or_read_notes(org, alice, charlie_client):
    program, session, people = _session(org, alice)
    url = f"/programs/{program.pk}/sessions/{session.pk}/"
    assert charlie_client.get(url).status_code == 404
    assert charlie_client.post(url + "note/", {"participant": people[0].pk, "body": "hello"}).status_code == 404
    assert Client().get(url).status_code == 302
    assert not FacilitatorNote.objects.exists()


def test_it_records_attendance_and_refuses_strangers(org, alice, alice_client, outsider_participant):
    from communitas.programs.models import Attendance

    program, session, people = _session(org, alice)
    url = f"/programs/{program.pk}/sessions/{session.pk}/attendance/"
    assert alice_client.post(url, {"participant": people[0].pk, "status": "attended"}).status_code == 302
    assert Attendance.objects.get(session=session, participant=people[0]).status == "attended"
    assert alice_client.post(url, {"participant": people[0].pk, "status": "levitating"}).status_code == 400
    assert alice_client.post(url, {"participant": outsider_participant.pk, "status": "absent"}).status_code == 400
    assert Attendance.objects.get(session=session, participant=people[0]).status == "attended"
