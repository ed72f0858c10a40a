"""A participant's community space at /c/<token>/ (on a phone, no account), and the staff
page that creates and revokes the links to it.

A link that does not work (tampered, expired, revoked, or its participant archived) gets the
same page with no data: 404 when the token was never signed by this server, 410 when it was
(only someone who was given a real link can see a 410). Space pages are never cached."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from communitas.community import selectors
from communitas.community.forms_space import LinkForm
from communitas.community.links import (
    CommunityLinkInvalid,
    community_link_create,
    community_link_resolve,
    community_link_revoke,
)
from communitas.community.models import CommunityLink, PodMember
from communitas.community.permissions import can_manage_space_links, can_read_reflections
from communitas.participants import record_selectors, record_services, records
from communitas.participants.models import Participant, RecordRequest
from communitas.participants.record_forms import CorrectionForm, DestructionForm
from communitas.participants.records_display import json_bytes, pdf_bytes
from communitas.participants.selectors import participant_get_for_user
from communitas.programs.permissions import require

LANGUAGES = ("en", "es")
INVALID_STATUS = {"tampered": 404, "expired": 410, "revoked": 410, "archived": 410}


def _language(request, participant: Participant | None) -> str:
    for lang in (request.GET.get("lang"), participant.preferred_language if participant else None):
        if lang in LANGUAGES:
            return lang
    return "en"


def render_space(request, template: str, context: dict, participant: Participant | None, status: int = 200):
    language = _language(request, participant)
    organization = participant.organization if participant is not None else None
    with translation.override(language):
        response = render(
            request, template, {**context, "language": language, "organization": organization}, status=status
        )
    add_never_cache_headers(response)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def space_link(request, token: str):
    """(link, None) for a working link, else (None, the "link does not work" page)."""
    try:
        return community_link_resolve(token), None
    except CommunityLinkInvalid as exc:
        page = render_space(request, "community/space/invalid.html", {}, None, status=INVALID_STATUS[exc.reason])
        return None, page


@require_safe
def home(request, token: str):
    link, invalid = space_link(request, token)
    if invalid:
        return invalid
    participant = link.participant
    members = selectors.space_pod_members(participant)
    context = {
        "token": token,
        "first_name": selectors.first_name(participant),
        "circles": selectors.space_circles(participant),
        "proposals": [m for m in members if m.response == PodMember.Response.PENDING],
        "pods": [m for m in members if m.response == PodMember.Response.ACCEPTED],
        "reflections": list(selectors.reflections_of(participant, participant)[:3]),
        "circle_reflections": selectors.circle_reflections_for(participant).count(),
    }
    return render_space(request, "community/space/home.html", context, participant)


# --- their records (OAR 333-333-4820: clients may examine their records and ask for an addendum,
# and for destruction after the retention period) ------------------------------------------------


def _records_context(participant: Participant, token: str, **extra) -> dict:
    document = records.record_document(participant)
    refusal = record_services.destruction_refusal(participant)
    return {
        "token": token,
        "sections": [(view.section, len(view.rows)) for view in records.record_views(document)],
        "retention": records.retention_of(participant),
        "refusal": refusal[1] if refusal else "",
        "requests": record_selectors.record_requests_for(participant),
        "destruction_open": RecordRequest.objects.filter(
            participant=participant, kind=RecordRequest.Kind.DESTRUCTION, status=RecordRequest.Status.OPEN
        ).exists(),
        "not_included": records.NOT_INCLUDED,
        "correction_form": extra.pop("correction_form", None) or CorrectionForm(),
        "destruction_form": extra.pop("destruction_form", None) or DestructionForm(),
        **extra,
    }


@require_safe
def space_records(request, token: str):
    """What the organization holds about them, the downloads, and their requests."""
    link, invalid = space_link(request, token)
    if invalid:
        return invalid
    participant = link.participant
    with translation.override(_language(request, participant)):
        context = _records_context(participant, token)
    return render_space(request, "community/space/records.html", context, participant)


@require_safe
def space_records_download(request, token: str, fmt: str):
    """Their whole record as JSON (exact) or PDF (readable); every download is audited."""
    link, invalid = space_link(request, token)
    if invalid:
        return invalid
    participant = link.participant
    with translation.override(_language(request, participant)):
        document = records.record_document(participant)
        body = json_bytes(document) if fmt == "json" else pdf_bytes(document, name=participant.display_name)
    record_services.record_download_log(participant=participant, fmt=fmt, link_id=link.pk)
    content_type = "application/json; charset=utf-8" if fmt == "json" else "application/pdf"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="record-{participant.pseudonym}.{fmt}"'
    response["X-Robots-Tag"] = "noindex, nofollow"
    add_never_cache_headers(response)
    return response


def _space_request(request, token: str, kind: str, form_class, form_key: str):
    link, invalid = space_link(request, token)
    if invalid:
        return invalid
    participant = link.participant
    form = form_class(request.POST)
    error = ""
    if form.is_valid():
        try:
            record_services.record_request_create(participant=participant, kind=kind, text=form.cleaned_data["text"])
        except record_services.RecordRequestError as exc:
            error = str(exc)
        else:
            return redirect(reverse("space:records", args=[token]) + "#requests")
    with translation.override(_language(request, participant)):
        context = _records_context(participant, token, error=error, **{form_key: form})
    return render_space(request, "community/space/records.html", context, participant, status=400)


@require_POST
def space_records_correction(request, token: str):
    return _space_request(request, token, RecordRequest.Kind.CORRECTION, CorrectionForm, "correction_form")


@require_POST
def space_records_destruction(request, token: str):
    return _space_request(request, token, RecordRequest.Kind.DESTRUCTION, DestructionForm, "destruction_form")


# --- staff: links to a participant's space -------------------------------------------------------


def _links_context(request, membership, participant, form, created_url=""):
    return {
        "participant": participant,
        "links": selectors.community_links_for(participant),
        "form": form,
        "created_url": created_url,
        "can_read_reflections": can_read_reflections(membership),
        "now": timezone.now(),
    }


@login_required
def space_links(request, participant_id: int):
    """List a participant's links; a POST creates one and shows its address once."""
    membership = require(can_manage_space_links, request.membership)
    participant = participant_get_for_user(membership, participant_id)
    form = LinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _link, token = community_link_create(participant=participant, actor=request.user, **form.cleaned_data)
        url = request.build_absolute_uri(reverse("space:home", args=[token]))
        return render(
            request, "community/space/links.html", _links_context(request, membership, participant, LinkForm(), url)
        )
    status = 400 if form.errors else 200
    context = _links_context(request, membership, participant, form)
    return render(request, "community/space/links.html", context, status=status)


@require_POST
@login_required
def space_link_revoke(request, participant_id: int, link_id: int):
    membership = require(can_manage_space_links, request.membership)
    participant = participant_get_for_user(membership, participant_id)
    link: CommunityLink = selectors.community_link_get(participant, link_id)
    community_link_revoke(link=link, actor=request.user)
    messages.success(request, _("Link revoked. It stops working now."))
    return redirect("community:space_links", participant_id=participant.pk)
