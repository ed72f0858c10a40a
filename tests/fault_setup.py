"""Set-up and inspection for the fault tests, run in a subprocess against the server's database.

``python -m tests.fault_setup setup N`` creates an organization, a coordinator with an API token and
N enrolled participants, and prints JSON: the token and one baseline PHQ-9 assessment id each.
``python -m tests.fault_setup responses`` prints the stored responses as {assessment_id: [submission ids]}.
"""

import json
import sys

import django


def setup(n: int) -> dict:
    import datetime

    from django.utils import timezone

    from communitas.accounts import services as accounts
    from communitas.outcomes import services as outcomes
    from communitas.programs import services as programs
    from tests.factories import OrganizationFactory, ParticipantFactory, make_user

    org = OrganizationFactory(name="Fault Test Collective", slug="fault-test")
    coordinator = make_user(org, email="fault.coordinator@example.org")
    _token, raw = accounts.api_token_create(user=coordinator, organization=org, name="fault tests")
    program = programs.program_create(
        organization=org, actor=None, name="Fault cohort", substance="psilocybin", jurisdiction="US-OR"
    )
    outcomes.schedule_set(program=program, instrument_code="phq9", actor=None)
    day = timezone.localdate() + datetime.timedelta(days=7)
    ids = []
    for i in range(n):
        participant = ParticipantFactory(organization=org, display_name=f"Fault Participant {i}")
        enrollment = programs.enrollment_create(program=program, participant=participant, actor=None)
        assessments = outcomes.enrollment_anchor_set(enrollment=enrollment, administration_date=day, actor=None)
        ids.append(next(a.pk for a in assessments if a.timepoint == "baseline"))
    return {"token": raw, "assessments": ids}


def responses() -> dict:
    from communitas.outcomes.models import Response

    stored: dict[str, list[str]] = {}
    for assessment_id, submission_id in Response.objects.values_list("assessment_id", "submission_id"):
        stored.setdefault(str(assessment_id), []).append(submission_id)
    return stored


if __name__ == "__main__":
    django.setup()
    command = sys.argv[1]
    print(json.dumps(setup(int(sys.argv[2])) if command == "setup" else responses()))
