"""A participant answers a questionnaire from a link: autosave, idempotent submit, safety."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from communitas.core.models import AuditEntry
from communitas.outcomes.models import Assessment, AssessmentLink, Response, Score
from communitas.safety.models import SafetyAlert
from tests.outcomes_helpers import baseline_link


def _form(answers, action="submit", submission_id="s1"):
    data = {f"item-{n}": v for n, v in enumerate(answers, start=1)}
    data.update(action=action, submission_id=submission_id)
    return data


@pytest.fixture
def baseline(org, participant, alice):
    return baseline_link(org, participant)


def test_it_plans_the_seven_default_timepoints(baseline):
    assessment, _link, _token = baseline
    timepoints = list(Assessment.objects.filter(enrollment=assessment.enrollment).values_list("timepoint", flat=True))
    assert sorted(timepoints) == sorted(
        ["baseline", "post_session", "week_1", "month_1", "month_3", "month_6", "month_12"]
    )
    assert assessment.due_on == assessment.enrollment.administration_date - datetime.timedelta(days=7)


def test_it_shows_the_questionnaire_in_the_participants_language(client, baseline):
    _assessment, _link, token = baseline
    r = client.get(f"/a/{token}/")
    assert r.status_code == 200
    assert "Poco interés o placer en hacer cosas" in r.content.decode()  # preferred_language es
    assert r["Cache-Control"].startswith("max-age=0") or "no-cache" in r["Cache-Control"]
    r = client.get(f"/a/{token}/?lang=en")
    assert "Little interest or pleasure in doing things" in r.content.decode()


def test_it_autosaves_partial_answers_and_shows_them_again(client, baseline):
    assessment, _link, token = baseline
    r = client.post(f"/a/{token}/save", {"item-1": "2", "item-2": "1"})
    assert r.status_code == 200
    assessment.refresh_from_db()
    assert assessment.draft_answers == {"1": 2, "2": 1}
    page = client.get(f"/a/{token}/").content.decode()
    assert 'name="item-1" value="2" checked' in page


def test_it_refuses_an_invalid_autosave_and_keeps_the_draft(client, baseline):
    assessment, _link, token = baseline
    client.post(f"/a/{token}/save", {"item-1": "2"})
    r = client.post(f"/a/{token}/save", {"item-1": "7"})
    assert r.status_code == 400
    assessment.refresh_from_db()
    assert assessment.draft_answers == {"1": 2}


def test_it_stores_one_scored_response_however_often_it_is_submitted(client, baseline):
    assessment, _link, token = baseline
    first = client.post(f"/a/{token}/", _form([1, 1, 1, 1, 1, 1, 1, 1, 0], submission_id="a"))
    second = client.post(f"/a/{token}/", _form([3, 3, 3, 3, 3, 3, 3, 3, 3], submission_id="b"))
    assert first.status_code == second.status_code == 302
    assert Response.objects.filter(assessment=assessment).count() == 1
    score = Score.objects.get(response__assessment=assessment)
    assert (score.total, score.band, score.flags) == (8, "mild", [])
    assert AuditEntry.objects.filter(action="outcomes.response.submitted").count() == 1


def test_it_keeps_answers_and_asks_again_when_items_are_missing(client, baseline):
    assessment, _link, token = baseline
    r = client.post(f"/a/{token}/", _form([1, 2, 3]))
    assert r.status_code == 400
    assert not Response.objects.exists()
    assessment.refresh_from_db()
    assert assessment.draft_answers == {"1": 1, "2": 2, "3": 3}


def test_it_shows_crisis_resources_and_pages_a_human_on_item_9(
    client, baseline, alice, django_capture_on_commit_callbacks
):
    assessment, _link, token = baseline
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(f"/a/{token}/", _form([0, 0, 0, 0, 0, 0, 0, 0, 1]), follow=True)
    page = r.content.decode()
    assert "988" in page
    alert = SafetyAlert.objects.get(participant=assessment.participant)
    assert (alert.flag, alert.assigned_to, alert.acknowledged_at) == ("phq9_item9_positive", alice, None)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [alice.email]
    assert "Marisol" not in mail.outbox[0].body and "PHQ" not in mail.outbox[0].body


def test_it_shows_no_crisis_box_without_a_safety_flag(client, baseline):
    _assessment, _link, token = baseline
    page = client.post(f"/a/{token}/", _form([3, 3, 3, 3, 3, 3, 3, 3, 0]), follow=True).content.decode()
    assert "988" not in page and not SafetyAlert.objects.exists()


@pytest.mark.parametrize("mangle", [lambda t: t[:-3] + "abc", lambda t: "x" + t, lambda t: t.replace(":", ":9", 1)])
def test_it_refuses_a_tampered_token_and_stores_nothing(client, baseline, mangle):
    assessment, _link, token = baseline
    for method, path in (("get", "/a/{}/"), ("post", "/a/{}/"), ("post", "/a/{}/save")):
        r = getattr(client, method)(path.format(mangle(token)), _form([1] * 9) if method == "post" else None)
        assert r.status_code == 404
        assert "not valid" in r.content.decode() or "no es válido" in r.content.decode()
    assessment.refresh_from_db()
    assert assessment.draft_answers == {} and not Response.objects.exists()


def test_it_refuses_an_expired_link_and_stores_nothing(client, baseline):
    assessment, link, token = baseline
    AssessmentLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    r = client.post(f"/a/{token}/", _form([1] * 9))
    assert (r.status_code == 410 and "expired" in r.content.decode().lower()) or "caducado" in r.content.decode()
    assert not Response.objects.exists()
    assessment.refresh_from_db()
    assert assessment.draft_answers == {}
