from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from communitas.participants import selectors, services
from communitas.participants.forms import ParticipantForm, SearchForm, SupportPersonForm
from communitas.participants.models import ConsentScope
from communitas.participants.permissions import (
    can_decide_record_requests,
    can_edit_participants,
    require_participant_editor,
    require_participant_viewer,
)
from communitas.participants.record_views import records_card

PAGE_SIZE = 25


def _viewer(request):
    return require_participant_viewer(request.membership)


def _editor(request):
    return require_participant_editor(request.membership)


@login_required
def participant_list(request):
    membership = _viewer(request)
    search = SearchForm(request.GET)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    page = Paginator(selectors.participants_for_membership(membership, query), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "search": search,
        "query": query,
        "can_edit": can_edit_participants(membership),
        "can_decide_records": can_decide_record_requests(membership),
    }
    # htmx swaps in just the table; its history restore (also an HX-Request) needs the whole page.
    fragment = request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request")
    template = "participants/_table.html" if fragment else "participants/list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request", "HX-History-Restore-Request"])
    return response


@login_required
def participant_detail(request, participant_id: int):
    participant = selectors.participant_get_for_user(_viewer(request), participant_id)
    context = {
        "participant": participant,
        "support_persons": selectors.support_persons_for_participant(participant),
        "can_edit": can_edit_participants(request.membership),
        "support_form": SupportPersonForm(),
        "consents": [
            (label, state[value])
            for value, label in ConsentScope.choices
            if value in (state := selectors.consent_state(participant))
        ],
        "records": records_card(participant, request.membership),
    }
    return render(request, "participants/detail.html", context)


@login_required
def participant_create(request):
    membership = _editor(request)
    form = ParticipantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        participant = services.participant_create(
            organization=membership.organization, actor=request.user, **form.cleaned_data
        )
        messages.success(request, _("Participant %(pseudonym)s added.") % {"pseudonym": participant.pseudonym})
        return redirect("participants:detail", participant_id=participant.pk)
    return render(request, "participants/form.html", {"form": form})


@login_required
def participant_edit(request, participant_id: int):
    participant = selectors.participant_get_for_user(_viewer(request), participant_id)
    _editor(request)
    form = ParticipantForm(request.POST or None, instance=participant)
    if request.method == "POST" and form.is_valid():
        fresh = selectors.participant_get_for_user(request.membership, participant_id)
        services.participant_update(participant=fresh, actor=request.user, **form.cleaned_data)
        messages.success(request, _("Changes saved."))
        return redirect("participants:detail", participant_id=participant_id)
    return render(request, "participants/form.html", {"form": form, "participant": participant})


@require_POST
@login_required
def participant_archive(request, participant_id: int):
    participant = selectors.participant_get_for_user(_viewer(request), participant_id)
    _editor(request)
    services.participant_archive(participant=participant, actor=request.user)
    messages.success(request, _("Participant archived. The record is kept for the retention period."))
    return redirect("participants:list")


@require_POST
@login_required
def support_person_add(request, participant_id: int):
    participant = selectors.participant_get_for_user(_viewer(request), participant_id)
    _editor(request)
    form = SupportPersonForm(request.POST)
    if form.is_valid():
        services.support_person_create(participant=participant, actor=request.user, **form.cleaned_data)
        messages.success(request, _("Support person added."))
        return redirect("participants:detail", participant_id=participant_id)
    return render(request, "participants/support_form.html", {"form": form, "participant": participant}, status=400)


@login_required
def support_person_edit(request, participant_id: int, person_id: int):
    participant = selectors.participant_get_for_user(_viewer(request), participant_id)
    person = selectors.support_person_get(participant, person_id)
    _editor(request)
    form = SupportPersonForm(request.POST or None, instance=person)
    if request.method == "POST" and form.is_valid():
        fresh = selectors.support_person_get(participant, person_id)
        services.support_person_update(person=fresh, actor=request.user, **form.cleaned_data)
        messages.success(request, _("Changes saved."))
        return redirect("participants:detail", participant_id=participant_id)
    return render(
        request, "participants/support_form.html", {"form": form, "participant": participant, "person": person}
    )


@require_POST
@login_required
def support_person_remove(request, participant_id: int, person_id: int):
    participant = selectors.participant_get_for_user(_viewer(request), participant_id)
    person = selectors.support_person_get(participant, person_id)
    _editor(request)
    services.support_person_archive(person=person, actor=request.user)
    messages.success(request, _("Support person removed."))
    return redirect("participants:detail", participant_id=participant_id)
