"""Staff pages about a participant's record as a whole: retention, the participant's requests
(corrections and destruction) with their decisions, and the organization's open requests."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from communitas.participants import record_selectors, record_services, records, selectors
from communitas.participants.permissions import (
    can_decide_record_requests,
    can_destroy_records,
    require_participant_viewer,
)
from communitas.participants.record_forms import DecisionForm, StaffRequestForm


def _require(predicate, membership):
    if membership is None or not predicate(membership):
        raise PermissionDenied
    return membership


def records_card(participant, membership) -> dict:
    """What the participant page shows about the record: retention and open requests."""
    return {
        "retention": records.retention_of(participant),
        "open_requests": [r for r in record_selectors.record_requests_for(participant) if r.status == "open"],
        "can_decide": can_decide_record_requests(membership),
    }


def _page(request, participant, *, form=None, error="", status=200):
    membership = request.membership
    refusal = record_services.destruction_refusal(participant)
    context = {
        "participant": participant,
        "retention": records.retention_of(participant),
        "requests": record_selectors.record_requests_for(participant),
        "addenda": record_selectors.addenda_for(participant),
        "sections": records.sections(),
        "refusal": refusal[1] if refusal else "",
        "can_decide": can_decide_record_requests(membership),
        "can_destroy": can_destroy_records(membership),
        "form": form or StaffRequestForm(),
        "decision_form": DecisionForm(),
        "error": error,
        "today": timezone.localdate(),
    }
    return render(request, "participants/records.html", context, status=status)


@login_required
def participant_records(request, participant_id: int):
    participant = selectors.participant_get_for_user(require_participant_viewer(request.membership), participant_id)
    return _page(request, participant)


@require_POST
@login_required
def record_request_add(request, participant_id: int):
    """A request made by staff on the participant's behalf (in person, by phone, by letter)."""
    participant = selectors.participant_get_for_user(require_participant_viewer(request.membership), participant_id)
    _require(can_decide_record_requests, request.membership)
    form = StaffRequestForm(request.POST)
    if not form.is_valid():
        return _page(request, participant, form=form, status=400)
    try:
        record_services.record_request_create(participant=participant, actor=request.user, **form.cleaned_data)
    except record_services.RecordRequestError as exc:
        return _page(request, participant, form=form, error=str(exc), status=400)
    messages.success(request, _("Request recorded."))
    return redirect("participants:records", participant_id=participant.pk)


@require_POST
@login_required
def record_request_decide(request, participant_id: int, request_id: int):
    participant = selectors.participant_get_for_user(require_participant_viewer(request.membership), participant_id)
    record_request = record_selectors.record_request_get(participant, request_id)
    _require(can_decide_record_requests, request.membership)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _page(request, participant, error=_("Choose accept or decline."), status=400)
    data = form.cleaned_data
    try:
        record_services.record_request_decide(
            request=record_request,
            actor=request.user,
            accept=data["decision"] == "accept",
            note=data["note"],
            addendum=data["addendum"],
        )
    except record_services.RecordRequestError as exc:
        return _page(request, participant, error=str(exc), status=400)
    messages.success(request, _("Decision recorded. The participant sees it in their space."))
    return redirect("participants:records", participant_id=participant.pk)


@require_POST
@login_required
def record_destroy(request, participant_id: int, request_id: int):
    participant = selectors.participant_get_for_user(require_participant_viewer(request.membership), participant_id)
    record_request = record_selectors.record_request_get(participant, request_id)
    _require(can_destroy_records, request.membership)
    try:
        record_services.record_destroy(request=record_request, actor=request.user)
    except record_services.RecordRequestError as exc:
        return _page(request, participant, error=str(exc), status=400)
    messages.success(request, _("The record was destroyed. The audit trail keeps who did it and when."))
    return redirect("participants:list")


@login_required
def record_requests(request):
    membership = _require(can_decide_record_requests, request.membership)
    context = {"requests": record_selectors.open_record_requests(membership)}
    return render(request, "participants/record_requests.html", context)
