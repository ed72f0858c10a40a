"""The participant's side: a questionnaire opened from a link, on a phone, without an account."""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from communitas.outcomes import selectors, services
from communitas.outcomes.links import LinkInvalid, link_resolve
from communitas.outcomes.registry import instrument_for
from communitas.outcomes.scoring import ScoringError

INVALID_STATUS = {"tampered": 404, "expired": 410, "revoked": 410}


def _language(request, instrument, assessment) -> str:
    wanted = [request.GET.get("lang", ""), assessment.language, assessment.participant.preferred_language, "en"]
    return next(lang for lang in wanted if lang in instrument.languages or lang == "en")


def _answers_from_post(instrument, post) -> dict:
    return {item.id: post.get(f"item-{item.id}", "") for item in instrument.items if f"item-{item.id}" in post}


def _render(request, template, context, language, status=200):
    with translation.override(language):
        response = render(request, template, {**context, "language": language}, status=status)
    add_never_cache_headers(response)
    return response


def _resolve(request, token):
    try:
        return link_resolve(token), None
    except LinkInvalid as exc:
        language = request.GET.get("lang") if request.GET.get("lang") in ("en", "es") else translation.get_language()
        page = _render(
            request,
            "outcomes/public/link_invalid.html",
            {"reason": exc.reason},
            language,
            status=INVALID_STATUS[exc.reason],
        )
        return None, page


def assessment_form(request, token: str):
    link, invalid = _resolve(request, token)
    if invalid:
        return invalid
    assessment = link.assessment
    if hasattr(assessment, "response"):
        return redirect("outcomes_public:done", token=token)
    instrument = instrument_for(assessment.organization_id, assessment.instrument_code)
    language = _language(request, instrument, assessment)
    errors: list[str] = []
    answers = {**assessment.draft_answers}
    status = 200
    if request.method == "POST":
        answers.update(_answers_from_post(instrument, request.POST))
        try:
            if request.POST.get("action") == "save":
                services.assessment_draft_save(assessment=assessment, answers=answers, language=language)
            else:
                services.response_submit(
                    assessment=assessment,
                    answers=answers,
                    language=language,
                    source="link",
                    submission_id=request.POST.get("submission_id") or None,
                )
                return redirect("outcomes_public:done", token=token)
        except services.IncompleteResponse as exc:
            services.assessment_draft_save(assessment=assessment, answers=answers, language=language)
            errors, status = exc.missing, 400
        except ScoringError:
            errors, status = ["invalid"], 400
    context = {
        "token": token,
        "assessment": assessment,
        "instrument": instrument,
        "answers": answers,
        "items": selectors.form_items(instrument, language, answers),
        "errors": errors,
        "submission_id": uuid.uuid4().hex,
        "organization": link.organization,
        "instructions": instrument.instructions.get(language) or instrument.instructions.get("en", ""),
    }
    return _render(request, "outcomes/public/form.html", context, language, status=status)


@require_POST
def assessment_autosave(request, token: str):
    link, invalid = _resolve(request, token)
    if invalid:
        return invalid
    assessment = link.assessment
    instrument = instrument_for(assessment.organization_id, assessment.instrument_code)
    language = _language(request, instrument, assessment)
    try:
        services.assessment_draft_save(
            assessment=assessment, answers=_answers_from_post(instrument, request.POST), language=language
        )
    except ScoringError:
        return _render(request, "outcomes/public/_saved.html", {"failed": True}, language, status=400)
    return _render(request, "outcomes/public/_saved.html", {"failed": False}, language)


def assessment_done(request, token: str):
    link, invalid = _resolve(request, token)
    if invalid:
        return invalid
    assessment = link.assessment
    response = selectors.response_for(assessment)
    if response is None:
        return redirect("outcomes_public:form", token=token)
    language = response.language or "en"
    context = {
        "assessment": assessment,
        "crisis_resources": selectors.crisis_resources_if_flagged(response, language),
        "open_links": [
            (other, other_token, instrument_for(other.organization_id, other.instrument_code).name)
            for other, other_token in services.participant_open_links(assessment=assessment)
        ],
        "organization": link.organization,
    }
    return _render(request, "outcomes/public/done.html", context, language)


def robots(request):
    return HttpResponse("User-agent: *\nDisallow: /\n", content_type="text/plain")
