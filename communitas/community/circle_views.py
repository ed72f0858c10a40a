"""Pages for integration-circle series, group agreements and waitlists (staff, under
/community/circles/), and the participant's agreements page in their community space
(/c/<token>/agreements/)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from communitas.community import circle_selectors as selectors
from communitas.community import circle_services as services
from communitas.community.circle_forms import AcceptForm, AgreementForm, ExtendForm, JoinForm, SeriesForm
from communitas.community.circle_permissions import can_manage_community, can_open_circles
from communitas.community.links import CommunityLinkInvalid, community_link_resolve
from communitas.programs.permissions import require
from communitas.programs.session_services import CapacityFull, SessionRefused

SPACE_LANGUAGES = ("en", "es")
INVALID_STATUS = {"tampered": 404, "expired": 410, "revoked": 410, "archived": 410}


def _manager_circle(request, circle_id):
    membership = require(can_manage_community, request.membership)
    return selectors.circle_get_for_user(membership, circle_id)


def _back(circle, page="circle"):
    return redirect(f"community:{page}", circle_id=circle.pk)


@login_required
def circle_list(request):
    membership = require(can_open_circles, request.membership)
    context = {"circles": selectors.circles_for(membership), "can_manage": can_manage_community(membership)}
    return render(request, "community/circles/list.html", context)


@login_required
def circle_page(request, circle_id: int):
    membership = require(can_open_circles, request.membership)
    circle = selectors.circle_get_for_user(membership, circle_id)
    agreement, acceptances = selectors.agreement_status(circle)
    context = {
        "circle": circle,
        "program": circle.program,
        "series_list": selectors.series_for_circle(circle),
        "agreement": agreement,
        "acceptances": acceptances,
        "accepted_count": sum(1 for row in acceptances if row.acceptance),
        "waitlist": selectors.waitlist_for(circle),
        "members": selectors.members_of(circle),
        "can_manage": can_manage_community(membership),
        "extend_form": ExtendForm(),
    }
    return render(request, "community/circles/circle.html", context)


@login_required
def series_new(request, circle_id: int):
    circle = _manager_circle(request, circle_id)
    form, violations = SeriesForm(request.POST or None), []
    if request.method == "POST" and form.is_valid():
        try:
            services.series_create(circle=circle, actor=request.user, **form.cleaned_data)
        except SessionRefused as exc:
            violations = exc.violations
        except services.CircleRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Series planned; its meetings are on the calendar."))
            return _back(circle)
    status = 400 if request.method == "POST" else 200
    context = {"circle": circle, "program": circle.program, "form": form, "violations": violations}
    return render(request, "community/circles/series_form.html", context, status=status)


@require_POST
@login_required
def series_extend(request, circle_id: int, series_id: int):
    circle = _manager_circle(request, circle_id)
    series = selectors.series_get_for_circle(circle, series_id)
    form = ExtendForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.non_field_errors()) or _("Check the extension."))
        return _back(circle)
    try:
        added = services.series_extend(series=series, actor=request.user, **form.cleaned_data)
    except SessionRefused as exc:
        messages.error(request, "; ".join(v.message for v in exc.violations))
    except services.CircleRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("%(n)d meetings added.") % {"n": len(added)})
    return _back(circle)


@require_POST
@login_required
def series_cancel(request, circle_id: int, series_id: int):
    circle = _manager_circle(request, circle_id)
    series = selectors.series_get_for_circle(circle, series_id)
    try:
        count = services.series_cancel(series=series, actor=request.user)
    except services.CircleRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The rest of the series is cancelled (%(n)d meetings).") % {"n": count})
    return _back(circle)


@require_POST
@login_required
def meeting_cancel(request, circle_id: int, session_id: int):
    circle = _manager_circle(request, circle_id)
    session = selectors.meeting_get_for_circle(circle, session_id)
    try:
        services.meeting_cancel(session=session, actor=request.user)
    except services.CircleRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Meeting cancelled."))
    return _back(circle)


@login_required
def agreement_publish(request, circle_id: int):
    circle = _manager_circle(request, circle_id)
    current = services.agreement_current(circle)
    form = AgreementForm(request.POST or None, initial={"body": current.body if current else ""})
    if request.method == "POST" and form.is_valid():
        try:
            services.agreement_publish(circle=circle, actor=request.user, body=form.cleaned_data["body"])
        except services.CircleRefused as exc:
            form.add_error("body", str(exc))
        else:
            messages.success(request, _("Agreement published; members are asked to accept it."))
            return _back(circle)
    context = {"circle": circle, "form": form, "current": current}
    return render(request, "community/circles/agreement_form.html", context, status=400 if form.errors else 200)


@require_POST
@login_required
def agreement_record(request, circle_id: int):
    """Staff record that a member accepted the current agreement in person."""
    circle = _manager_circle(request, circle_id)
    person = selectors.member_get_for_circle(circle, request.POST.get("participant"))
    agreement = services.agreement_current(circle)
    if agreement is None:
        raise Http404("no agreement")
    try:
        services.agreement_accept(agreement=agreement, participant=person, actor=request.user)
    except services.CircleRefused as exc:
        messages.error(request, str(exc))
    return _back(circle)


@login_required
def waitlist_page(request, circle_id: int):
    membership = require(can_open_circles, request.membership)
    circle = selectors.circle_get_for_user(membership, circle_id)
    context = {
        "circle": circle,
        "members": selectors.members_of(circle),
        "waitlist": selectors.waitlist_for(circle),
        "can_manage": can_manage_community(membership),
        "join_form": JoinForm(people=selectors.joinable_people(circle)),
    }
    return render(request, "community/circles/waitlist.html", context)


@require_POST
@login_required
def circle_join(request, circle_id: int):
    circle = _manager_circle(request, circle_id)
    person = selectors.participant_get_for_circle(circle, request.POST.get("participant"))
    try:
        result = services.circle_join(circle=circle, participant=person, actor=request.user)
    except (services.CircleRefused, CapacityFull) as exc:
        messages.error(request, str(exc))
    else:
        if result.joined:
            messages.success(request, _("%(p)s is in the circle.") % {"p": person.pseudonym})
        else:
            messages.info(request, _("The circle is full: %(p)s is on the waitlist.") % {"p": person.pseudonym})
    return _back(circle, "waitlist")


@require_POST
@login_required
def circle_leave(request, circle_id: int):
    circle = _manager_circle(request, circle_id)
    person = selectors.member_get_for_circle(circle, request.POST.get("participant"))
    offers = services.circle_leave(circle=circle, participant=person, actor=request.user)
    messages.success(request, _("%(p)s left the circle.") % {"p": person.pseudonym})
    for entry in offers:
        messages.info(
            request, _("The place is offered to %(p)s: confirm it here.") % {"p": entry.participant.pseudonym}
        )
    return _back(circle, "waitlist")


WAITLIST_ACTIONS = {
    "confirm": services.waitlist_confirm,
    "decline": services.waitlist_decline,
    "withdraw": services.waitlist_withdraw,
}


@require_POST
@login_required
def waitlist_action(request, circle_id: int, entry_id: int, action: str):
    circle = _manager_circle(request, circle_id)
    entry = selectors.waitlist_entry_get_for_circle(circle, entry_id)
    if action not in WAITLIST_ACTIONS:
        raise Http404("no such action")
    try:
        WAITLIST_ACTIONS[action](entry=entry, actor=request.user)
    except (services.CircleRefused, CapacityFull) as exc:
        messages.error(request, str(exc))
    return _back(circle, "waitlist")


@require_POST
@login_required
def waitlist_offer(request, circle_id: int):
    circle = _manager_circle(request, circle_id)
    offers = services.waitlist_offer_free_places(circle=circle, actor=request.user)
    messages.info(request, _("%(n)d places offered.") % {"n": len(offers)})
    return _back(circle, "waitlist")


# --- the participant's community space --------------------------------------------------------


def _space_render(request, template, context, language, status=200):
    with translation.override(language):
        response = render(request, template, {**context, "language": language}, status=status)
    add_never_cache_headers(response)
    return response


def _accept_form(row, posted: AcceptForm | None) -> AcceptForm | None:
    if row.agreement is None or row.accepted is not None:
        return None
    if posted is not None and posted.data.get("agreement") == str(row.agreement.pk):
        return posted
    return AcceptForm(initial={"agreement": row.agreement.pk}, auto_id=f"id_%s_{row.agreement.pk}")


def _accept(participant, form: AcceptForm) -> bool:
    """Accept the agreement the form names, if it is the current one of the person's circle."""
    if not form.is_valid():
        return False
    rows = {row.agreement.pk: row for row in selectors.space_agreements(participant) if row.agreement}
    row = rows.get(form.cleaned_data["agreement"])
    if row is None or row.agreement is None:
        form.add_error(None, _("This agreement has changed; read the current version."))
        return False
    try:
        services.agreement_accept(agreement=row.agreement, participant=participant)
    except services.CircleRefused:
        form.add_error(None, _("This agreement has changed; read the current version."))
        return False
    return True


def space_agreements(request, token: str):
    """A participant reads and accepts their circles' current agreements on a phone."""
    try:
        link = community_link_resolve(token)
    except CommunityLinkInvalid as exc:
        reason = {"reason": exc.reason}
        return _space_render(
            request, "community/space_agreements/invalid.html", reason, "en", INVALID_STATUS[exc.reason]
        )
    participant = link.participant
    language = participant.preferred_language if participant.preferred_language in SPACE_LANGUAGES else "en"
    posted = AcceptForm(request.POST, auto_id="id_%s_posted") if request.method == "POST" else None
    if posted is not None and _accept(participant, posted):
        return redirect("space:agreements", token=token)
    rows = [(row, _accept_form(row, posted)) for row in selectors.space_agreements(participant)]
    context = {"rows": rows, "organization": link.organization, "posted": posted}
    return _space_render(
        request, "community/space_agreements/agreements.html", context, language, 400 if posted is not None else 200
    )
