"""Staff pages for retreats, circles and sessions (plan, staff, start, doses, vitals, end)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from communitas.participants.models import Participant
from communitas.programs import selectors, session_services
from communitas.programs.models import Attendance, Circle, Enrollment, Retreat, Session
from communitas.programs.permissions import can_manage_programs, can_view_clinical, require
from communitas.programs.session_forms import (
    CircleForm,
    CircleMembersForm,
    DoseForm,
    NoteForm,
    RetreatForm,
    SessionPlanForm,
    VitalsForm,
)


def _facilitators(organization_id: int):
    from communitas.facilitators.models import FacilitatorProfile

    return FacilitatorProfile.objects.filter(organization_id=organization_id, active=True).order_by("display_name")


def _enrolled(program):
    return Participant.objects.filter(
        enrollments__program=program,
        archived_at__isnull=True,
        enrollments__status__in=[Enrollment.Status.APPLICANT, Enrollment.Status.ENROLLED],
    ).order_by("id")


def _circle_candidates(program, circle):
    """Who the circle's member picker offers: its current members and, for a retreat's circle, the
    people of that retreat and the program's people in no retreat yet; for a circle outside
    retreats, the program's enrolled people in no other circle. People placed in another retreat
    are left out, so a circle's list stays the size of a retreat, not of the program."""
    memberships = Circle.members.through.objects
    members = set(memberships.filter(circle_id=circle.pk).values_list("participant_id", flat=True))
    if circle.retreat_id is not None:
        # small index reads, then a primary-key lookup (an OR of subqueries scans the table)
        placed = Enrollment.objects.filter(program=program).filter(
            Q(retreat_id=circle.retreat_id) | Q(retreat__isnull=True)
        )
        return _enrolled(program).filter(pk__in=members | set(placed.values_list("participant_id", flat=True)))
    unplaced = ~Q(pk__in=memberships.filter(circle__program=program).values("participant_id"))
    return _enrolled(program).filter(unplaced | Q(pk__in=members))


def _member_label(person) -> str:
    return f"{person.display_name} ({person.pseudonym})"


def _options(bound_field, label) -> list[tuple[int, str, bool]]:
    """(value, label, checked) of a model multiple choice, checked as submitted or as it stands."""
    chosen = {str(v) for v in (bound_field.value() or [])}
    return [(obj.pk, label(obj), str(obj.pk) in chosen) for obj in bound_field.field.queryset]


RETREAT_CANDIDATES = 300  # the "Add" list of a retreat: people in no retreat yet, first this many


def _object(qs, pk):
    found = qs.filter(pk=pk).first()
    if found is None:
        raise Http404("not found")
    return found


@login_required
def retreat_new(request, program_id: int):
    membership = require(can_manage_programs, request.membership)
    program = selectors.program_get_for_user(membership, program_id)
    form = RetreatForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        retreat = session_services.retreat_create(program=program, actor=request.user, **form.cleaned_data)
        return redirect("programs:retreat", program_id=program.pk, retreat_id=retreat.pk)
    return render(request, "programs/retreat_form.html", {"program": program, "form": form})


@login_required
def retreat_detail(request, program_id: int, retreat_id: int):
    membership = require(can_view_clinical, request.membership)
    program = selectors.program_get_for_user(membership, program_id)
    retreat = _object(Retreat.objects.filter(program=program), retreat_id)
    enrolled = Enrollment.objects.filter(retreat=retreat).exclude(status="withdrawn").select_related("participant")
    unplaced = _enrolled(program).filter(enrollments__program=program, enrollments__retreat__isnull=True).distinct()
    candidates = list(unplaced[: RETREAT_CANDIDATES + 1])
    context = {
        "program": program,
        "retreat": retreat,
        "enrolled": enrolled,
        "candidates": candidates[:RETREAT_CANDIDATES],
        "more_candidates": len(candidates) > RETREAT_CANDIDATES,
        "circles": Circle.objects.filter(retreat=retreat).prefetch_related("members", "facilitators"),
        "sessions": Session.objects.filter(retreat=retreat).order_by("planned_start"),
        "can_manage": can_manage_programs(membership),
        "circle_form": CircleForm(),
    }
    return render(request, "programs/retreat.html", context)


@require_POST
@login_required
def retreat_enroll(request, program_id: int, retreat_id: int):
    membership = require(can_manage_programs, request.membership)
    program = selectors.program_get_for_user(membership, program_id)
    retreat = _object(Retreat.objects.filter(program=program), retreat_id)
    participant = _object(_enrolled(program), request.POST.get("participant") or 0)
    try:
        session_services.retreat_enroll(retreat=retreat, participant=participant, actor=request.user)
    except session_services.CapacityFull as exc:
        messages.error(request, str(exc))
    return redirect("programs:retreat", program_id=program.pk, retreat_id=retreat.pk)


@require_POST
@login_required
def circle_new(request, program_id: int, retreat_id: int):
    membership = require(can_manage_programs, request.membership)
    program = selectors.program_get_for_user(membership, program_id)
    retreat = _object(Retreat.objects.filter(program=program), retreat_id)
    form = CircleForm(request.POST)
    if form.is_valid():
        circle = session_services.circle_create(
            program=program, retreat=retreat, actor=request.user, **form.cleaned_data
        )
        return redirect("programs:circle", program_id=program.pk, circle_id=circle.pk)
    messages.error(request, _("Check the circle's details: %(errors)s") % {"errors": form.errors.as_text()})
    return redirect("programs:retreat", program_id=program.pk, retreat_id=retreat.pk)


@login_required
def circle_detail(request, program_id: int, circle_id: int):
    membership = require(can_view_clinical, request.membership)
    program = selectors.program_get_for_user(membership, program_id)
    circle = _object(Circle.objects.filter(program=program), circle_id)
    form = CircleMembersForm(
        request.POST or None,
        participants=_circle_candidates(program, circle),
        facilitators=_facilitators(program.organization_id),
        initial={"members": circle.members.all(), "facilitators": circle.facilitators.all()},
    )
    if request.method == "POST":
        require(can_manage_programs, membership)
        if form.is_valid():
            try:
                session_services.circle_set_members(
                    circle=circle,
                    actor=request.user,
                    participants=list(form.cleaned_data["members"]),
                    facilitators=list(form.cleaned_data["facilitators"]),
                )
            except session_services.CapacityFull as exc:
                form.add_error("members", str(exc))
            else:
                messages.success(request, _("Circle saved."))
                return redirect("programs:circle", program_id=program.pk, circle_id=circle.pk)
    manager = can_manage_programs(membership)
    return render(
        request,
        "programs/circle.html",
        {
            "program": program,
            "circle": circle,
            "form": form,
            "can_manage": manager,
            "member_options": _options(form["members"], _member_label) if manager else [],
            "facilitator_options": _options(form["facilitators"], str) if manager else [],
            # those who may not change the circle read who is in it (no form to render)
            "members": circle.members.order_by("id"),
            "facilitators": circle.facilitators.order_by("id"),
        },
    )


@login_required
def session_new(request, program_id: int):
    membership = require(can_manage_programs, request.membership)
    program = selectors.program_get_for_user(membership, program_id)
    retreat = Retreat.objects.filter(program=program, pk=request.GET.get("retreat") or 0).first()
    circle = Circle.objects.filter(program=program, pk=request.GET.get("circle") or 0).first()
    people = circle.members.filter(archived_at__isnull=True) if circle else _enrolled(program)
    form = SessionPlanForm(
        request.POST or None,
        facilitators=_facilitators(program.organization_id),
        participants=people,
        initial={"facilitators": circle.facilitators.all() if circle else []},
    )
    violations = []
    if request.method == "POST" and form.is_valid():
        participants, doses = form.chosen()
        data = {
            k: form.cleaned_data[k] for k in ("kind", "activity", "title", "location", "planned_start", "planned_end")
        }
        try:
            session = session_services.session_plan(
                program=program,
                actor=request.user,
                circle=circle,
                retreat=retreat or (circle.retreat if circle else None),
                facilitators=list(form.cleaned_data["facilitators"]),
                participants=participants,
                planned_doses=doses,
                **data,
            )
        except session_services.SessionRefused as exc:
            violations = exc.violations
        else:
            messages.success(request, _("Session planned and validated."))
            return redirect("programs:session", program_id=program.pk, session_id=session.pk)
    context = {"program": program, "form": form, "violations": violations, "circle": circle, "retreat": retreat}
    return render(request, "programs/session_form.html", context, status=400 if violations else 200)


def _session_context(request, membership, program, session, **forms):
    people = Participant.objects.filter(attendance__session=session).order_by("id")
    attendance = Attendance.objects.filter(session=session).select_related("participant").order_by("id")
    return {
        "program": program,
        "session": session,
        "attendance": attendance,
        "staff": session.facilitators.all(),
        "doses": session.doses.select_related("participant").order_by("taken_at"),
        "vitals": session.vitals.select_related("participant").order_by("taken_at"),
        "dose_form": forms.get("dose_form") or DoseForm(participants=people),
        "vitals_form": forms.get("vitals_form") or VitalsForm(participants=people),
        "violations": forms.get("violations", []),
        "can_manage": can_manage_programs(membership),
        "notes": selectors.notes_visible_to(request.user, session=session),
        "note_form": forms.get("note_form")
        or NoteForm(
            participants=people,
            colleagues=selectors.care_team_colleagues(program.organization_id, exclude_user=request.user),
        ),
    }


@login_required
def session_detail(request, program_id: int, session_id: int):
    membership = require(can_view_clinical, request.membership)
    program = selectors.program_get_for_user(membership, program_id)
    session = _object(Session.objects.filter(program=program), session_id)
    return render(request, "programs/session.html", _session_context(request, membership, program, session))


@require_POST
@login_required
def session_action(request, program_id: int, session_id: int, action: str):
    membership = require(can_view_clinical, request.membership)
    program = selectors.program_get_for_user(membership, program_id)
    session = _object(Session.objects.filter(program=program), session_id)
    forms: dict[str, object] = {}
    status = 400
    try:
        if action == "start":
            session_services.session_start(session=session, actor=request.user)
        elif action == "end":
            session_services.session_end(session=session, actor=request.user)
        elif action == "attendance":
            session_services.attendance_set(
                session=session,
                participant_id=int(request.POST.get("participant") or 0),
                status=request.POST.get("status", ""),
                actor=request.user,
            )
        elif action == "note":
            people = Participant.objects.filter(attendance__session=session)
            colleagues = selectors.care_team_colleagues(program.organization_id, exclude_user=request.user)
            note_form = NoteForm(request.POST, participants=people, colleagues=colleagues)
            forms["note_form"] = note_form
            if not note_form.is_valid():
                raise ValueError(_("Check the note."))
            session_services.note_add(session=session, author=request.user, **note_form.cleaned_data)
        elif action in ("dose", "vitals"):
            people = Participant.objects.filter(attendance__session=session)
            form = (DoseForm if action == "dose" else VitalsForm)(request.POST, participants=people)
            forms[f"{action}_form"] = form
            if not form.is_valid():
                raise ValueError(_("Check the form."))
            data = dict(form.cleaned_data)
            person = data.pop("participant")
            if action == "dose":
                session_services.dose_record(session=session, participant=person, actor=request.user, **data)
            else:
                session_services.vitals_record(session=session, participant=person, actor=request.user, **data)
        else:
            raise Http404("no such action")
    except session_services.SessionRefused as exc:
        forms["violations"] = exc.violations
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        return redirect("programs:session", program_id=program.pk, session_id=session.pk)
    context = _session_context(request, membership, program, session, **forms)
    return render(request, "programs/session.html", context, status=status)
