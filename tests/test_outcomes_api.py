"""The outcomes JSON API: instruments, a participant's assessments, links, staff-entered answers."""

import json

import pytest

from communitas.core.models import AuditEntry
from communitas.outcomes.models import AssessmentLink, Response
from communitas.safety.models import SafetyAlert
from tests.outcomes_helpers import enrolled_with_schedule

PHQ9_ZEROS = {str(n): 0 for n in range(1, 10)}


@pytest.fixture
def baseline(org, participant):
    _program, _enrollment, assessments = enrolled_with_schedule(org, participant)
    return next(a for a in assessments if a.timepoint == "baseline")


def _post(client, path, body, headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(path, data=data, content_type="application/json", **headers)


def test_it_lists_and_shows_instruments(client, alice_api):
    listed = client.get("/api/v1/instruments", **alice_api).json()
    assert {"phq9", "pcl5", "who5", "qidssr16"} <= {i["code"] for i in listed}
    phq9 = client.get("/api/v1/instruments/phq9", **alice_api).json()
    assert phq9["loinc_total"] == "44261-6" and len(phq9["items"]) == 10
    assert client.get("/api/v1/instruments/nope", **alice_api).status_code == 404
    assert client.get("/api/v1/instruments/DROP%20TABLE", **alice_api).status_code == 404


def test_it_lists_a_participants_assessments_with_status(client, alice_api, participant, baseline):
    body = client.get(f"/api/v1/participants/{participant.pk}/assessments", **alice_api).json()
    assert body["count"] == 7
    first = next(a for a in body["items"] if a["timepoint"] == "baseline")
    assert (first["status"], first["total"]) == ("open", None)


def test_it_enters_a_paper_response_once(client, alice_api, baseline):
    path = f"/api/v1/assessments/{baseline.pk}/response"
    r = _post(client, path, {"answers": {**PHQ9_ZEROS, "1": 3, "2": 2}, "language": "es"}, alice_api)
    assert r.status_code == 201, r.content
    assert (r.json()["total"], r.json()["band"]) == (5, "mild")
    again = _post(client, path, {"answers": {**PHQ9_ZEROS, "1": 1}}, alice_api)
    assert again.status_code == 200 and again.json()["total"] == 5
    assert Response.objects.get().source == "staff"


def test_a_paper_item_9_answer_opens_an_alert(client, alice_api, baseline):
    r = _post(client, f"/api/v1/assessments/{baseline.pk}/response", {"answers": {**PHQ9_ZEROS, "9": 2}}, alice_api)
    assert r.json()["flags"] == ["phq9_item9_positive"]
    assert SafetyAlert.objects.filter(flag="phq9_item9_positive").count() == 1


def test_it_creates_a_link(client, alice_api, baseline):
    r = _post(client, f"/api/v1/assessments/{baseline.pk}/links", {}, alice_api)
    assert r.status_code == 201
    assert client.get(r.json()["url"].replace("http://testserver", "")).status_code == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("{not json", 400),
        ({"answers": {**PHQ9_ZEROS, "1": 4}}, 422),
        ({"answers": {**PHQ9_ZEROS, "1": "many"}}, 422),
        ({"answers": {"1": 1}}, 422),
        ({"answers": {**PHQ9_ZEROS, "99": 1}}, 422),
        ({"answers": PHQ9_ZEROS, "extra": 1}, 422),
        ({"answers": PHQ9_ZEROS, "language": "x" * 40}, 422),
        ({"answers": PHQ9_ZEROS, "submission_id": "bad id!"}, 422),
        ([1, 2, 3], 422),
    ],
)
def test_it_refuses_bad_answers_and_changes_nothing(client, alice_api, baseline, body, status):
    before = AuditEntry.objects.count()
    r = _post(client, f"/api/v1/assessments/{baseline.pk}/response", body, alice_api)
    assert r.status_code == status
    assert set(r.json()) == {"error", "detail"}
    assert not Response.objects.exists() and not SafetyAlert.objects.exists()
    assert AuditEntry.objects.count() == before


def test_it_hides_other_organizations_and_limits_roles(client, charlie_api, bob_api, rita_api, participant, baseline):
    for headers, status in ((charlie_api, 404), (rita_api, 403)):
        assert client.get(f"/api/v1/participants/{participant.pk}/assessments", **headers).status_code == status
        assert _post(client, f"/api/v1/assessments/{baseline.pk}/links", {}, headers).status_code == status
        r = _post(client, f"/api/v1/assessments/{baseline.pk}/response", {"answers": PHQ9_ZEROS}, headers)
        assert r.status_code == status
    assert _post(client, f"/api/v1/assessments/{baseline.pk}/links", {}, bob_api).status_code == 403
    assert _post(client, "/api/v1/assessments/999999/links", {}, bob_api).status_code == 404
    assert not AssessmentLink.objects.exists() and not Response.objects.exists()


def test_it_refuses_a_submission_id_used_for_another_questionnaire(client, alice_api, org, participant, baseline):
    from communitas.outcomes.models import Assessment

    other = Assessment.objects.get(enrollment=baseline.enrollment, timepoint="month_1")
    body = {"answers": PHQ9_ZEROS, "submission_id": "paper-form-0001"}
    assert _post(client, f"/api/v1/assessments/{baseline.pk}/response", body, alice_api).status_code == 201
    r = _post(client, f"/api/v1/assessments/{other.pk}/response", body, alice_api)
    assert r.status_code == 422 and "already used" in r.json()["detail"]
    assert Response.objects.count() == 1


def test_it_sets_a_programs_schedule_and_refuses_bad_ones(client, alice_api, bob_api, charlie_api, baseline):
    program = baseline.enrollment.program
    path = f"/api/v1/programs/{program.pk}/schedules/gad7"
    body = {
        "timepoints": [
            {"code": "baseline", "offset_days": -3, "opens_before": 7},
            {"code": "day_30", "offset_days": 30},
        ]
    }
    r = client.put(path, data=json.dumps(body), content_type="application/json", **alice_api)
    assert r.status_code == 200 and [t["code"] for t in r.json()["timepoints"]] == ["baseline", "day_30"]
    listed = client.get(f"/api/v1/programs/{program.pk}/schedules", **alice_api).json()
    assert [s["instrument_code"] for s in listed] == ["gad7", "phq9"]
    bad = [
        {"timepoints": []},
        {"timepoints": [{"code": "a b", "offset_days": 1}]},
        {"timepoints": [{"code": "x", "offset_days": 1}, {"code": "x", "offset_days": 2}]},
        {"timepoints": [{"code": "x", "offset_days": 99999}]},
        {"timepoints": [{"code": "x", "offset_days": 1, "opens_before": -1}]},
        {"weeks": 3},
    ]
    for payload in bad:
        r = client.put(path, data=json.dumps(payload), content_type="application/json", **alice_api)
        assert r.status_code == 422, payload
    assert (
        client.put(
            f"/api/v1/programs/{program.pk}/schedules/nope", data="{}", content_type="application/json", **alice_api
        ).status_code
        == 404
    )
    assert client.put(path, data="{}", content_type="application/json", **bob_api).status_code == 403
    assert client.put(path, data="{}", content_type="application/json", **charlie_api).status_code == 404
    listed = client.get(f"/api/v1/programs/{program.pk}/schedules", **alice_api).json()
    assert [t["code"] for t in listed[0]["timepoints"]] == ["baseline", "day_30"]
