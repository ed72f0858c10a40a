"""Pods: staff propose, review, adjust and send them for a retreat (/community/...); members
answer, see their pod and log check-ins in their space (/c/<token>/pods/...)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from communitas.community import pod_services as services
from communitas.community import selectors
from communitas.community.forms_space import CheckInForm, NeverTogetherForm, PodPreferenceForm
from communitas.community.models import Pod, PodMember, PodPreference
from communitas.community.permissions import can_manage_pods, can_record_never_together, can_view_pods
from communitas.community.space_views import render_space, space_link
from communitas.participants.models import Participant
from communitas.programs.permissions import require

REASONS = {
    "shared_language": gettext_lazy("Share a language: %(value)s"),
    "same_time_zone": gettext_lazy("Same time zone: %(value)s"),
    "time_zones_within": gettext_lazy("Time zones within %(value)s hours of each other"),
    "shared_times": gettext_lazy("Times that suit everyone: %(value)s"),
    "same_area": gettext_lazy("Live in the same area, so can meet in person"),
    "veterans_together": gettext_lazy("Veterans together, as asked"),
    "warning_no_shared_language": gettext_lazy("Check: no language in common"),
    "warning_time_zones_far": gettext_lazy("Check: time zones far apart"),
    "warning_no_shared_time": gettext_lazy("Check: no time that suits everyone"),
    "warning_veteran_preference_unmet": gettext_lazy("Check: someone asked for other veterans"),
    "warning_never_together": gettext_lazy("Check: two people who must never be together"),
    "never_together": gettext_lazy("Must never be with %(value)s of the others"),
    "no_shared_language": gettext_lazy("Shares no language with %(value)s of the others"),
    "time_zones_too_far": gettext_lazy("Time zone too far from %(value)s of the others"),
    "no_shared_time": gettext_lazy("No time in common with %(value)s of the others"),
    "too_few_people": gettext_lazy("Nobody else to match with"),
    "no_buddy_left": gettext_lazy("Asked for a buddy; no compatible buddy was left"),
    "no_pod_with_room": gettext_lazy("No pod with room fits them"),
    "too_few_for_a_pod": gettext_lazy("Too few compatible people for a pod"),
    "moved_out": gettext_lazy("Moved out of a pod by staff"),
}
SLOTS = dict(PodPreference.Slot.choices)


def describe(reasons: list[dict], *, warnings: bool = True) -> list[str]:
    """Readable, translated reasons from the stored codes (participants see no warnings)."""
    out = []
    for reason in reasons:
        code, value = reason.get("code", ""), reason.get("value", "")
        if code.startswith("warning_") and not warnings:
            continue
        if code == "shared_times":
            value = ", ".join(str(SLOTS.get(v, v)) for v in value.split(","))
        out.append(str(REASONS.get(code, code)) % {"value": value})
    return out


# --- staff ---------------------------------------------------------------------------------------


@login_required
def pods_home(request):
    membership = require(can_view_pods, request.membership)
    context = {
        "retreats": selectors.retreats_for_pods(membership),
        "can_record": can_record_never_together(membership),
    }
    return render(request, "community/pods/home.html", context)


def _retreat_context(membership, retreat) -> dict:
    pods = selectors.pods_for_retreat(membership, retreat)
    blocked = selectors.never_together_pairs(retreat.organization_id)
    for pod in pods:
        ids = [m.participant_id for m in pod.people]  # type: ignore[attr-defined]
        pod.reasons = describe(pod.explanation)  # type: ignore[attr-defined]
        pod.blocked = any(frozenset((a, b)) in blocked for a in ids for b in ids if a < b)  # type: ignore[attr-defined]
    manage = can_manage_pods(membership)
    proposal = selectors.latest_proposal(retreat) if manage else None
    unplaced_rows = proposal.unplaced if proposal else []
    unplaced_ids = [r["participant"] for r in unplaced_rows]
    people = {p.pk: p for p in Participant.objects.filter(organization_id=retreat.organization_id, pk__in=unplaced_ids)}
    placed = {m.participant_id for pod in pods if pod.status != Pod.Status.DRAFT for m in pod.people}  # type: ignore[attr-defined]
    return {
        "retreat": retreat,
        "pods": pods,
        "drafts": [p for p in pods if p.status == Pod.Status.DRAFT],
        "unplaced": [
            (people[r["participant"]], describe(r["reasons"])) for r in unplaced_rows if r["participant"] in people
        ],
        "movable": [p for p in selectors.retreat_people(retreat) if p.pk not in placed] if manage else [],
        "can_manage": manage,
    }


@login_required
def retreat_pods(request, retreat_id: int):
    membership = require(can_view_pods, request.membership)
    retreat = selectors.retreat_get_for_user(membership, retreat_id)
    return render(request, "community/pods/retreat.html", _retreat_context(membership, retreat))


def _refused(request, membership, retreat, exc: services.PodError):
    context = {**_retreat_context(membership, retreat), "error": str(exc)}
    return render(request, "community/pods/retreat.html", context, status=400)


@require_POST
@login_required
def pods_propose(request, retreat_id: int):
    membership = require(can_manage_pods, request.membership)
    retreat = selectors.retreat_get_for_user(membership, retreat_id)
    services.pods_propose(retreat=retreat, actor=request.user)
    messages.success(request, _("New pods proposed. Review them, then send them to the participants."))
    return redirect("community:retreat_pods", retreat_id=retreat.pk)


@require_POST
@login_required
def pod_move(request, retreat_id: int):
    membership = require(can_manage_pods, request.membership)
    retreat = selectors.retreat_get_for_user(membership, retreat_id)
    person = next((p for p in selectors.retreat_people(retreat) if str(p.pk) == request.POST.get("participant")), None)
    target = request.POST.get("pod", "")
    pod = Pod.objects.filter(retreat=retreat, pk=target).first() if target.isdigit() else None
    if person is None or (target and pod is None):
        return _refused(request, membership, retreat, services.PodError(_("Choose a person and a pod.")))
    try:
        services.pod_member_move(retreat=retreat, participant=person, to_pod=pod, actor=request.user)
    except services.PodError as exc:
        return _refused(request, membership, retreat, exc)
    return redirect("community:retreat_pods", retreat_id=retreat.pk)


@require_POST
@login_required
def pods_send(request, retreat_id: int):
    membership = require(can_manage_pods, request.membership)
    retreat = selectors.retreat_get_for_user(membership, retreat_id)
    try:
        sent = services.pods_send(retreat=retreat, actor=request.user)
    except services.PodError as exc:
        return _refused(request, membership, retreat, exc)
    messages.success(request, _("%(n)d pods sent. Members answer in their community space.") % {"n": len(sent)})
    return redirect("community:retreat_pods", retreat_id=retreat.pk)


@login_required
def pod_detail(request, pod_id: int):
    membership = require(can_view_pods, request.membership)
    pod = selectors.pod_get_for_user(membership, pod_id)
    context = {
        "pod": pod,
        "reasons": describe(pod.explanation),
        "check_ins": selectors.check_ins_for_staff(pod),
        "can_manage": can_manage_pods(membership),
        "threshold": services.threshold(pod),
    }
    return render(request, "community/pods/pod.html", context)


@require_POST
@login_required
def pod_close(request, pod_id: int):
    membership = require(can_manage_pods, request.membership)
    pod = selectors.pod_get_for_user(membership, pod_id)
    try:
        services.pod_close(pod=pod, actor=request.user)
    except services.PodError as exc:
        messages.error(request, str(exc))
    return redirect("community:pod", pod_id=pod.pk)


@login_required
def never_together(request):
    membership = require(can_record_never_together, request.membership)
    form = NeverTogetherForm(request.POST or None, organization_id=membership.organization_id)
    if request.method == "POST" and form.is_valid():
        try:
            services.never_together_record(actor=request.user, **form.cleaned_data)
        except services.PodError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Recorded. Pods will never put these two together."))
            return redirect("community:never_together")
    context = {"form": form, "pairs": selectors.never_together_for(membership)}
    return render(request, "community/pods/never_together.html", context, status=400 if form.errors else 200)


@require_POST
@login_required
def never_together_remove(request, pair_id: int):
    membership = require(can_record_never_together, request.membership)
    services.never_together_remove(pair=selectors.never_together_get(membership, pair_id), actor=request.user)
    messages.success(request, _("Removed."))
    return redirect("community:never_together")


# --- the participant's space ---------------------------------------------------------------------


def space_pod_preferences(request, token: str):
    link, invalid = space_link(request, token)
    if invalid:
        return invalid
    participant = link.participant
    saved = PodPreference.objects.filter(participant=participant).first()
    initial = {"size": PodPreference.Size.EITHER, "languages": participant.preferred_language}
    if saved is not None:
        initial = {n: getattr(saved, n) for n in PodPreferenceForm.base_fields} | {
            "languages": ", ".join(saved.languages)
        }
    form = PodPreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.pod_preference_set(participant=participant, **form.cleaned_data)
        except services.PodError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("space:home", token=token)
    context = {"token": token, "form": form}
    return render_space(
        request, "community/pods/space_preferences.html", context, participant, 400 if form.errors else 200
    )


def _space_pod_context(member: PodMember, token: str, form=None) -> dict:
    pod = member.pod
    return {
        "token": token,
        "member": member,
        "pod": pod,
        "reasons": describe(pod.explanation, warnings=False),
        "names": selectors.accepted_first_names(pod) if member.response == PodMember.Response.ACCEPTED else [],
        "size": pod.members.count(),
        "threshold": services.threshold(pod),
        "check_ins": selectors.check_ins_for_member(member),
        "form": form or CheckInForm(),
        "can_check_in": pod.status == Pod.Status.ACTIVE and member.response == PodMember.Response.ACCEPTED,
    }


def space_pod(request, token: str, pod_id: int):
    link, invalid = space_link(request, token)
    if invalid:
        return invalid
    member = selectors.space_pod_member_get(link.participant, pod_id)
    return render_space(request, "community/pods/space_pod.html", _space_pod_context(member, token), link.participant)


@require_POST
def space_pod_respond(request, token: str, pod_id: int):
    link, invalid = space_link(request, token)
    if invalid:
        return invalid
    member = selectors.space_pod_member_get(link.participant, pod_id)
    answer = request.POST.get("answer")
    try:
        if answer not in ("accept", "decline"):
            raise services.PodError(_("Choose to accept or decline."))
        services.pod_respond(member=member, accept=answer == "accept")
    except services.PodError as exc:
        context = {**_space_pod_context(member, token), "error": str(exc)}
        return render_space(request, "community/pods/space_pod.html", context, link.participant, status=400)
    if answer == "decline":
        return redirect("space:home", token=token)
    return redirect("space:pod", token=token, pod_id=pod_id)


@require_POST
def space_pod_check_in(request, token: str, pod_id: int):
    link, invalid = space_link(request, token)
    if invalid:
        return invalid
    member = selectors.space_pod_member_get(link.participant, pod_id)
    form = CheckInForm(request.POST)
    if form.is_valid():
        try:
            services.check_in_log(member=member, **form.cleaned_data)
        except services.PodError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("space:pod", token=token, pod_id=pod_id)
    context = _space_pod_context(member, token, form)
    return render_space(request, "community/pods/space_pod.html", context, link.participant, status=400)
