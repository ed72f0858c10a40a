"""Outcomes leave as FHIR R4: Questionnaires, QuestionnaireResponses, score Observations, Bundles."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from communitas.interop import fhir
from communitas.outcomes import services as outcomes
from communitas.outcomes.definitions import builtin_instruments, get_builtin
from communitas.outcomes.models import Score
from communitas.participants import services as participant_services
from tests.outcomes_helpers import enrolled_with_schedule

API = "/api/v1/fhir"
BASE = "https://communitas.test/api/v1"
MODELS = {
    "Bundle": Bundle,
    "Observation": Observation,
    "Questionnaire": Questionnaire,
    "QuestionnaireResponse": QuestionnaireResponse,
}
ANSWERS = {"phq9": {str(n): 1 for n in range(1, 10)}, "pcl5": {str(n): 2 for n in range(1, 21)}}
TOTALS = {"phq9": 9, "pcl5": 40}
IDENTITY = ["Marisol", "Quispe", "marisol@example.net", "Tomás", "555 0147", "alice@cascadia.example"]


def _valid(resource: dict) -> dict:
    """Parse with the fhir.resources R4B model of its type (and each bundle entry's), or fail."""
    MODELS[resource["resourceType"]].model_validate(resource)
    for entry in resource.get("entry", []):
        _valid(entry["resource"])
    return resource


def _submit(org, participant, instrument="phq9", count=1, answers=None):
    _program, _enrollment, assessments = enrolled_with_schedule(org, participant, instrument=instrument)
    return [
        outcomes.response_submit(
            assessment=a, answers=answers or ANSWERS[instrument], language="en", source="staff", entered_by=None
        )[0]
        for a in assessments[:count]
    ]


def _get(client, path, headers):
    return client.get(API + path, **headers)


@pytest.fixture
def phq9_response(org, participant):
    return _submit(org, participant, "phq9")[0]


# Pure conversion


@pytest.mark.parametrize("code", sorted(builtin_instruments()))
def test_it_builds_a_valid_questionnaire_for_every_shipped_instrument(code):
    instrument = get_builtin(code)
    data = _valid(fhir.questionnaire(instrument, BASE))
    assert (data["id"], data["url"], data["version"]) == (code, f"{BASE}/fhir/Questionnaire/{code}", instrument.version)
    assert [i["linkId"] for i in data["item"]] == [i.id for i in instrument.items]
    assert instrument.citation in data["copyright"]


def test_it_codes_phq9_with_loinc_panel_item_and_answer_codes():
    data = fhir.questionnaire(get_builtin("phq9"), BASE)
    assert data["code"] == [{"system": "http://loinc.org", "code": "44249-1"}]
    first = data["item"][0]
    assert first["code"] == [{"system": "http://loinc.org", "code": "44250-9"}]
    assert first["text"] == "Little interest or pleasure in doing things"
    coding = first["answerOption"][1]["valueCoding"]
    assert (coding["system"], coding["code"], coding["display"]) == ("http://loinc.org", "LA6569-3", "Several days")
    assert coding["extension"][0]["valueDecimal"] == 1
    difficulty = data["item"][9]["answerOption"][2]["valueCoding"]
    assert (difficulty.get("system"), difficulty["code"], data["item"][9]["required"]) == (None, "2", False)


def test_it_shows_only_the_neutral_label_when_the_wording_is_not_licensed():
    instrument = get_builtin("ucla3")
    data = fhir.questionnaire(instrument, BASE)
    assert [i["text"] for i in data["item"]] == [i.label for i in instrument.items]


def test_it_gives_vas_items_decimal_answers_within_bounds():
    instrument = get_builtin("ebi")
    item = fhir.questionnaire(instrument, BASE)["item"][0]
    assert item["type"] == "decimal"
    assert [e["valueDecimal"] for e in item["extension"]] == [0, 100]
    row = {
        "id": 7,
        "instrument": "ebi",
        "version": instrument.version,
        "authored": timezone.now(),
        "patient": "P-ABCDEF",
        "answers": {i.id: 55.5 for i in instrument.items},
    }
    data = _valid(fhir.questionnaire_response(row, instrument, BASE))
    assert data["item"][0]["answer"] == [{"valueDecimal": 55.5}]


def test_it_marks_a_score_that_could_not_be_computed_as_absent():
    score = {"id": 3, "response_id": 7, "total": None, "band": "", "patient": "P-ABCDEF", "effective": timezone.now()}
    data = _valid(fhir.observation(score, get_builtin("phq9")))
    assert "valueQuantity" not in data and data["dataAbsentReason"]["coding"][0]["code"] == "unknown"


# The API


def test_it_lists_every_available_questionnaire(bob_api, client, org):
    r = _get(client, "/Questionnaire", bob_api)
    assert r.status_code == 200
    data = _valid(r.json())
    assert (data["type"], data["total"]) == ("searchset", len(builtin_instruments()))
    assert {e["resource"]["id"] for e in data["entry"]} == set(builtin_instruments())
    assert all(e["fullUrl"].endswith(f"/fhir/Questionnaire/{e['resource']['id']}") for e in data["entry"])


def test_it_lists_an_organizations_own_instrument_only_to_that_organization(alice, alice_api, charlie_api, client, org):
    own = get_builtin("who5").model_dump(mode="json") | {"code": "wellbeing_local", "name": "Local wellbeing"}
    outcomes.custom_instrument_add(organization=org, definition=own, actor=alice)
    assert _get(client, "/Questionnaire/wellbeing_local", alice_api).json()["title"] == "Local wellbeing"
    assert _get(client, "/Questionnaire/wellbeing_local", charlie_api).status_code == 404
    ids = {e["resource"]["id"] for e in _get(client, "/Questionnaire", charlie_api).json()["entry"]}
    assert "wellbeing_local" not in ids


def test_it_serves_one_questionnaire_and_404s_an_unknown_one(alice_api, client):
    assert _valid(_get(client, "/Questionnaire/phq9", alice_api).json())["name"] == "PHQ9"
    for code in ("nope", "PHQ9", "%00phq9"):
        r = _get(client, f"/Questionnaire/{code}", alice_api)
        assert (r.status_code, r.json()["error"]) == (404, "not_found"), code


@pytest.mark.parametrize("code", ["phq9", "pcl5"])
def test_it_exports_a_submitted_response_and_its_score(alice_api, client, org, participant, code):
    response = _submit(org, participant, code)[0]
    score = Score.objects.get(response=response)

    search = _valid(_get(client, f"/QuestionnaireResponse?patient={participant.pk}", alice_api).json())
    assert search["total"] == 1
    qr = _valid(_get(client, f"/QuestionnaireResponse/{response.pk}", alice_api).json())
    assert qr == search["entry"][0]["resource"]
    assert qr["questionnaire"].endswith(f"/fhir/Questionnaire/{code}|{response.instrument_version}")
    assert qr["subject"] == {"reference": f"Patient/{participant.pseudonym}"}
    assert [i["linkId"] for i in qr["item"]] == list(ANSWERS[code])
    assert qr["item"][0]["answer"][0]["valueCoding"]["display"] in {"Several days", "Moderately"}

    observations = _valid(_get(client, f"/Observation?patient={participant.pk}", alice_api).json())
    obs = _valid(_get(client, f"/Observation/{score.pk}", alice_api).json())
    assert observations["entry"][0]["resource"] == obs
    assert obs["valueQuantity"]["value"] == TOTALS[code]
    assert obs["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{response.pk}"}]
    assert obs["category"][0]["coding"][0]["code"] == "survey"


def test_it_codes_the_phq9_total_with_loinc_and_its_band(alice_api, client, phq9_response):
    score = Score.objects.get(response=phq9_response)
    obs = _get(client, f"/Observation/{score.pk}", alice_api).json()
    codings = obs["code"]["coding"]
    assert {"system": "http://loinc.org", "code": "44261-6"} in codings
    assert any(c["system"] == fhir.SCORE_SYSTEM and c["code"] == "phq9" for c in codings)
    assert obs["valueQuantity"] == {
        "value": 9,
        "unit": "{score}",
        "system": "http://unitsofmeasure.org",
        "code": "{score}",
    }
    assert obs["interpretation"] == [{"text": "Mild"}]
    assert obs["effectiveDateTime"] == phq9_response.submitted_at.isoformat()


def test_it_never_shows_a_participants_identity(alice_api, client, participant, phq9_response):
    score = Score.objects.get(response=phq9_response)
    paths = [
        f"/QuestionnaireResponse?patient={participant.pk}",
        f"/QuestionnaireResponse/{phq9_response.pk}",
        f"/Observation?patient={participant.pk}",
        f"/Observation/{score.pk}",
    ]
    for path in paths:
        body = json.dumps(_get(client, path, alice_api).json(), ensure_ascii=False)
        assert participant.pseudonym in body
        assert not [word for word in IDENTITY if word in body], path


def test_it_answers_404_for_another_organizations_records(charlie_api, client, participant, phq9_response):
    score = Score.objects.get(response=phq9_response)
    paths = [
        f"/QuestionnaireResponse/{phq9_response.pk}",
        f"/Observation/{score.pk}",
        f"/QuestionnaireResponse?patient={participant.pk}",
        f"/Observation?patient={participant.pk}",
    ]
    for path in paths:
        r = _get(client, path, charlie_api)
        assert (r.status_code, r.json()) == (404, {"error": "not_found", "detail": "Not found."}), path


def test_it_answers_404_for_missing_records_and_archived_participants(alice, alice_api, client, participant):
    response = _submit(participant.organization, participant, "phq9")[0]
    assert _get(client, "/Observation/999999", alice_api).status_code == 404
    participant_services.participant_archive(participant=participant, actor=alice)
    assert _get(client, f"/QuestionnaireResponse/{response.pk}", alice_api).status_code == 404
    assert _get(client, f"/Observation?patient={participant.pk}", alice_api).status_code == 404


ENDPOINTS = [
    "/Questionnaire",
    "/Questionnaire/phq9",
    "/QuestionnaireResponse?patient={p}",
    "/QuestionnaireResponse/{r}",
    "/Observation?patient={p}",
    "/Observation/{s}",
]


def _path(template, participant, response):
    return template.format(p=participant.pk, r=response.pk, s=Score.objects.get(response=response).pk)


@pytest.mark.parametrize("template", ENDPOINTS)
def test_it_forbids_researchers(rita_api, client, participant, phq9_response, template):
    r = _get(client, _path(template, participant, phq9_response), rita_api)
    assert (r.status_code, r.json()["error"]) == (403, "forbidden")


@pytest.mark.parametrize("template", ENDPOINTS)
def test_it_requires_authentication(client, participant, phq9_response, template):
    r = client.get(API + _path(template, participant, phq9_response))
    assert (r.status_code, r.json()["error"]) == (401, "unauthorized")


def test_it_refuses_a_search_without_a_numeric_patient(alice_api, client, phq9_response):
    assert _get(client, "/Observation", alice_api).status_code == 422
    assert _get(client, "/QuestionnaireResponse?patient=P-ABC", alice_api).json()["error"] == "validation_error"


@pytest.mark.parametrize("resource", ["QuestionnaireResponse", "Observation"])
def test_it_searches_1_or_5_responses_in_the_same_number_of_queries(
    alice_api, client, org, participant, django_assert_num_queries, resource
):
    _program, _enrollment, assessments = enrolled_with_schedule(org, participant)
    url = f"{API}/{resource}?patient={participant.pk}"

    def submit(assessment):
        outcomes.response_submit(assessment=assessment, answers=ANSWERS["phq9"], language="en", source="staff")

    submit(assessments[0])
    client.get(url, **alice_api)  # warm up anything cached per process
    with CaptureQueriesContext(connection) as one:
        assert client.get(url, **alice_api).json()["total"] == 1

    for assessment in assessments[1:5]:
        submit(assessment)
    with django_assert_num_queries(len(one.captured_queries)):
        assert client.get(url, **alice_api).json()["total"] == 5
