"""Reflections: written, shared and withdrawn by the participant in their space; read by staff
on /community/participants/<id>/reflections/ only where the participant shared them with that
person (``selectors.reflections_visible_to``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from communitas.community import reflection_services as services
from communitas.community import selectors
from communitas.community.forms_space import VISIBILITY_CHOICES, ReflectionForm, VisibilityForm
from communitas.community.permissions import can_manage_space_links, can_read_reflections
from communitas.community.space_views import render_space, space_link
from communitas.participants.permissions import can_view_participants
from communitas.programs.permissions import require


def _space_context(participant, token, form, error=""):
    return {
        "token": token,
        "form": form,
        "error": error,
        "own": selectors.reflections_of(participant, participant),
        "circle": [(selectors.first_name(r.participant), r) for r in selectors.circle_reflections_for(participant)],
        "choices": VISIBILITY_CHOICES,
        "labels": dict(VISIBILITY_CHOICES),
    }


def space_reflections(request, token: str):
    """Their reflections (with the sharing choice of each), what their circles shared, and a
    form for a new one."""
    link, invalid = space_link(request, token)
    if invalid:
        return invalid
    participant = link.participant
    form = ReflectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reflection_create(participant=participant, **form.cleaned_data)
        except services.ReflectionError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("space:reflections", token=token)
    status = 400 if form.errors else 200
    context = _space_context(participant, token, form)
    return render_space(request, "community/reflections/space.html", context, participant, status=status)


def _own_reflection_action(request, token: str, reflection_id: int, change):
    link, invalid = space_link(request, token)
    if invalid:
        return invalid
    participant = link.participant
    reflection = selectors.own_reflection_get(participant, reflection_id)
    try:
        change(participant, reflection)
    except services.ReflectionError as exc:
        context = _space_context(participant, token, ReflectionForm(), error=str(exc))
        return render_space(request, "community/reflections/space.html", context, participant, status=400)
    return redirect("space:reflections", token=token)


@require_POST
def space_reflection_visibility(request, token: str, reflection_id: int):
    form = VisibilityForm(request.POST)

    def change(participant, reflection):
        if not form.is_valid():
            raise services.ReflectionError(_("Choose who can read this reflection."))
        services.reflection_set_visibility(
            reflection=reflection, participant=participant, visibility=form.cleaned_data["visibility"]
        )

    return _own_reflection_action(request, token, reflection_id, change)


@require_POST
def space_reflection_withdraw(request, token: str, reflection_id: int):
    def change(participant, reflection):
        services.reflection_withdraw(reflection=reflection, participant=participant)

    return _own_reflection_action(request, token, reflection_id, change)


@login_required
def participant_reflections(request, participant_id: int):
    """The reflections this participant shared with the signed-in person, and nothing else; their
    name only for the care team that sees identified records (peer supporters get the pseudonym)."""
    membership = require(can_read_reflections, request.membership)
    participant = selectors.reflection_author_get_for_user(membership, participant_id)
    context = {
        "participant": participant,
        "reflections": selectors.reflections_of(participant, membership),
        "labels": dict(VISIBILITY_CHOICES),
        "can_manage_links": can_manage_space_links(membership),
        "identified": can_view_participants(membership),
    }
    return render(request, "community/reflections/participant.html", context)
