"""A ready participant in an Oregon psilocybin program, and staffed sessions."""

import datetime
from decimal import Decimal

from django.utils import timezone

from communitas.participants.services import consent_sign
from communitas.programs.selectors import required_documents
from communitas.programs.services import document_complete, enrollment_create
from communitas.safety import screening_services as screening
from tests.facilitator_helpers import add_credential, make_profile
from tests.factories import ParticipantFactory
from tests.journey_helpers import oregon_program


def make_ready(program, document, actor, **participant_fields):
    person = ParticipantFactory(organization=program.organization, **participant_fields)
    enrollment = enrollment_create(program=program, participant=person, actor=actor)
    consent_sign(
        participant=person, document=document, typed_name=person.display_name, granted={"participation"}, via="staff"
    )
    intake = screening.intake_start(participant=person, substance=program.substance, jurisdiction=program.jurisdiction)
    screening.intake_save(intake=intake, answers={"date_of_birth": "1980-05-05", "phq9_item9": "0"})
    screening.intake_submit(intake=intake)
    for doc in required_documents(program):
        document_complete(enrollment=enrollment, kind=doc["kind"], actor=actor)
    return person


def setting(org, actor, *, people=2, languages=("en",)):
    program, document = oregon_program(org, name="Group sessions")
    guide = make_profile(org, actor, display_name="Ana Lucía Ramos", languages=list(languages))
    add_credential(guide, actor)
    ready = [make_ready(program, document, actor, preferred_language="en") for _ in range(people)]
    prepare(program, actor, guide, ready)
    return program, document, guide, ready


def prepare(program, actor, guide, people, *, start=None):
    """A preparation session for ``people`` an hour from now (24 h to 90 days before the tests'
    administration sessions)."""
    from communitas.programs.session_services import session_plan

    start = start or timezone.now() + datetime.timedelta(hours=1)
    return session_plan(
        program=program,
        actor=actor,
        kind="preparation",
        title="Preparation",
        planned_start=start,
        planned_end=start + datetime.timedelta(hours=1),
        facilitators=[guide],
        participants=people,
    )


def when(days=7, hour=10):
    start = timezone.now().replace(hour=hour, minute=0, second=0, microsecond=0) + datetime.timedelta(days=days)
    return start, start + datetime.timedelta(hours=6)


def doses(people, mg="20"):
    return {p.pk: Decimal(mg) for p in people}
