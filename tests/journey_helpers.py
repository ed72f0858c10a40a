"""Set-up for the participant journey: an Oregon psilocybin program with a consent document."""

import re

from communitas.participants.services import consent_document_publish
from communitas.programs import services as programs

CONSENT_TEXT = "I understand what psilocybin services involve, their known risks and benefits, and my rights."


def oregon_program(org, *, name="Spring circle"):
    program = programs.program_create(
        organization=org, actor=None, name=name, substance="psilocybin", jurisdiction="US-OR"
    )
    document = consent_document_publish(
        organization=org,
        actor=None,
        title="Informed consent",
        version="1",
        language="en",
        body=CONSENT_TEXT,
        scopes=["participation", "research", "supportive_touch", "contact_support_people"],
        required_scopes=["participation"],
    )
    program.consent_documents.add(document)
    return program, document


def invitation_path(client, program) -> str:
    response = client.post(f"/programs/{program.pk}/invite/")
    url = re.search(r'id="invitation-link">([^<]+)<', response.content.decode()).group(1)
    return url.replace("http://testserver", "")


CLEAN_INTAKE = {
    "date_of_birth": "1985-04-12",
    "pregnant": "no",
    "breastfeeding": "no",
    "medications": "",
    "phq9_item9": "0",
    "harm_ideation": "no",
    "conditions_present": "1",
    "family_history_present": "1",
    "reasons_present": "1",
    "reasons": ["depression", "grief"],
    "veteran": "no",
    "interpreter": "no",
}
