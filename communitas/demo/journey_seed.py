"""Demo consents, intakes, screenings and documents: enrolled people are screened and ready;
a few applicants are at each step of the way in (one needs a clinician's review)."""

from __future__ import annotations

import random

from communitas.accounts.models import Membership, Organization
from communitas.participants.models import Participant
from communitas.participants.services import consent_document_publish, consent_sign
from communitas.programs.models import Enrollment, Program
from communitas.programs.selectors import required_documents
from communitas.programs.services import document_complete, program_registration_set
from communitas.safety import screening_services as screening

CONSENT = {
    "en": (
        "Informed consent",
        "What this program is: preparation, a facilitated psilocybin session and integration support in a group.\n\n"
        "Known risks include anxiety or fear during the session, raised blood pressure and heart rate, nausea, "
        "and, rarely, lasting distress. You may stop before the session begins, and you may ask questions at any "
        "time. Your records are kept private and encrypted; you may read them and ask for corrections.\n\n"
        "Each choice below is separate. You can withdraw any of them later by telling the team.",
    ),
    "es": (
        "Consentimiento informado",
        "Qué es este programa: preparación, una sesión de psilocibina con facilitación y apoyo de integración en grupo."
        "\n\nLos riesgos conocidos incluyen ansiedad o miedo durante la sesión, aumento de la presión arterial y del "
        "pulso, náuseas y, rara vez, malestar duradero. Puede detenerse antes de que empiece la sesión y puede hacer "
        "preguntas en cualquier momento. Sus registros se guardan en privado y cifrados; puede leerlos y pedir "
        "correcciones.\n\nCada opción de abajo es independiente. Puede retirar cualquiera más adelante avisando al "
        "equipo.",
    ),
}
SCOPES = ["participation", "research", "state_reporting", "supportive_touch", "contact_support_people",
          "share_reflections"]  # fmt: skip
CLEAN = {"pregnant": "no", "breastfeeding": "no", "phq9_item9": "0", "harm_ideation": "no", "medications": ""}


def seed_journeys(org: Organization, rng: random.Random) -> None:
    program = Program.objects.get(organization=org)
    coordinator = Membership.objects.filter(organization=org, role="coordinator").select_related("user").first()
    actor = coordinator.user if coordinator else None
    documents = []
    for language, (title, body) in CONSENT.items():
        document = consent_document_publish(
            organization=org,
            actor=actor,
            title=title,
            version="2026.1",
            language=language,
            body=body,
            scopes=SCOPES,
            required_scopes=["participation"],
        )
        documents.append(document)
    program.consent_documents.add(documents[0])
    if org.slug == "cascadia" and actor is not None:
        program_registration_set(program=program, actor=actor, open_=True)
    for enrollment in Enrollment.objects.filter(program=program).select_related("participant").order_by("id"):
        _ready(enrollment, documents[0], program, actor, rng)
    _applicants(org, program, documents[0], rng)


def _sign(participant: Participant, document, rng: random.Random) -> None:
    granted = {s for s in SCOPES if s == "participation" or rng.random() < 0.8}
    consent_sign(
        participant=participant, document=document, typed_name=participant.display_name, granted=granted, via="link"
    )


def _intake(participant: Participant, program: Program, answers: dict, *, submit: bool = True):
    intake = screening.intake_start(
        participant=participant, substance=program.substance, jurisdiction=program.jurisdiction
    )
    birth = participant.date_of_birth.isoformat() if participant.date_of_birth else "1980-01-01"
    intake = screening.intake_save(intake=intake, answers={**CLEAN, "date_of_birth": birth, **answers})
    return screening.intake_submit(intake=intake) if submit else intake


def _ready(enrollment: Enrollment, document, program: Program, actor, rng: random.Random) -> None:
    _sign(enrollment.participant, document, rng)
    _intake(enrollment.participant, program, {"medications": rng.choice(["", "", "ibuprofen", "levothyroxine"])})
    if actor is not None:
        for doc in required_documents(program):
            document_complete(enrollment=enrollment, kind=doc["kind"], actor=actor)


def _applicants(org: Organization, program: Program, document, rng: random.Random) -> None:
    enrolled = set(Enrollment.objects.filter(program=program).values_list("participant_id", flat=True))
    people = list(Participant.objects.filter(organization=org).exclude(pk__in=enrolled).order_by("id")[:6])
    steps: list[dict | str | None] = [
        {"conditions": ["seizure_disorder"], "medications": "Lexapro 10 mg"},  # needs a clinician's review
        {"medications": "lithium carbonate 300 mg"},  # excluded (D1)
        {"medications": "sertraline"},  # eligible with a caution
        None,  # consented, intake in progress
        "consent",  # registered, not yet consented
    ]
    for person, step in zip(people, steps, strict=False):
        Enrollment.objects.create(organization=org, program=program, participant=person, status="applicant")
        if step == "consent":
            continue
        _sign(person, document, rng)
        _intake(person, program, step if isinstance(step, dict) else {}, submit=step is not None)
