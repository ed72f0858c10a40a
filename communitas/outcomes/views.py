"""Staff pages: programs' due and overdue assessments, a participant's outcome timeline."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from communitas.core.paging import peek_page
from communitas.outcomes import selectors, services
from communitas.outcomes.change import ChangeNotAvailable, reliable_change
from communitas.outcomes.charts import score_chart
from communitas.outcomes.forms import AnchorForm
from communitas.outcomes.links import token_for
from communitas.outcomes.permissions import can_manage_assessments, require_assessment_manager, require_outcomes_viewer
from communitas.outcomes.registry import instrument_for
from communitas.outcomes.scoring import total_range
from communitas.participants.selectors import participant_get_for_user


@login_required
def outcomes_home(request):
    membership = require_outcomes_viewer(request.membership)
    programs, counted_at = selectors.programs_with_counts(membership)
    if counted_at is None:  # missing or stale: count now, once, for every program
        services.program_counts_refresh(membership.organization_id)
        programs, counted_at = selectors.programs_with_counts(membership, fresh_only=False)
    return render(request, "outcomes/home.html", {"programs": programs, "counted_at": counted_at})


@login_required
def program_assessments(request, program_id: int):
    membership = require_outcomes_viewer(request.membership)
    program = selectors.program_get_for_user(membership, program_id)
    pending = peek_page(selectors.program_pending_assessments(program), request.GET.get("due"), 50)
    context = {
        "program": program,
        "pending": pending,
        "pending_rows": selectors.with_status(pending.object_list),
        "enrollments": peek_page(
            selectors.current_enrollments(program).order_by("administration_date", "id"), request.GET.get("page"), 50
        ),
        "can_manage": can_manage_assessments(membership),
        "anchor_form": AnchorForm(),
        "schedules": selectors.program_schedules(program),
    }
    return render(request, "outcomes/program.html", context)


@require_POST
@login_required
def enrollment_anchor(request, program_id: int, enrollment_id: int):
    membership = require_assessment_manager(request.membership)
    program = selectors.program_get_for_user(membership, program_id)
    enrollment = selectors.current_enrollments(program).filter(pk=enrollment_id).first()
    if enrollment is None:
        raise Http404("no such enrollment")
    form = AnchorForm(request.POST)
    if form.is_valid():
        planned = services.enrollment_anchor_set(enrollment=enrollment, actor=request.user, **form.cleaned_data)
        messages.success(request, _("%(n)d assessments planned.") % {"n": len(planned)})
    else:
        messages.error(request, _("Enter a valid date."))
    return redirect("outcomes:program", program_id=program.pk)


def _change(instrument, first: float | None, total: float | None):
    if first is None or total is None:
        return None
    try:
        return reliable_change(instrument, first, total)
    except ChangeNotAvailable:
        return None


def _timeline(participant) -> list[dict]:
    """Per instrument: a chart of totals over time and each response with its change from the first."""
    sections = []
    for code, responses in selectors.responses_by_instrument(participant).items():
        instrument = instrument_for(participant.organization_id, code)
        points = [(r.submitted_at.date(), float(r.score.total)) for r in responses if r.score.total is not None]
        low, high = total_range(instrument)
        bands = [(b.min, b.max, b.code, b.label.get("en", b.code)) for b in instrument.bands]
        first = next((r for r in responses if r.score.total is not None), None)
        baseline = first.score.total if first else None
        labels = {b.code: b.label.get(get_language(), b.label.get("en", b.code)) for b in instrument.bands}
        rows = [
            (r, None if r is first else _change(instrument, baseline, r.score.total), labels.get(r.score.band, ""))
            for r in responses
        ]
        chart = score_chart(points, low=low, high=high, bands=bands) if points else None
        sections.append({"instrument": instrument, "chart": chart, "rows": rows})
    return sections


@login_required
def participant_outcomes(request, participant_id: int):
    membership = require_outcomes_viewer(request.membership)
    participant = participant_get_for_user(membership, participant_id)
    context = {
        "participant": participant,
        "sections": _timeline(participant),
        "assessments": selectors.with_status(selectors.participant_assessments(participant)),
        "can_manage": can_manage_assessments(membership),
    }
    return render(request, "outcomes/participant.html", context)


@require_POST
@login_required
def assessment_link(request, assessment_id: int):
    membership = require_assessment_manager(request.membership)
    assessment = selectors.assessment_get_for_user(membership, assessment_id)
    link = services.assessment_link_create(assessment=assessment, actor=request.user)
    url = request.build_absolute_uri(reverse("outcomes_public:form", args=[token_for(link)]))
    return render(request, "outcomes/link_created.html", {"assessment": assessment, "url": url, "link": link})
