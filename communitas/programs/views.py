"""Staff pages for programs: enrolments with readiness, invitations, the clinical screening
panel, required documents, consents, and the status-only roster for retreat staff."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from communitas.compliance.legal import program_lawfulness
from communitas.compliance.rulepacks import UnknownJurisdiction
from communitas.compliance.selectors import rule_pack_for
from communitas.participants import selectors as participant_selectors
from communitas.participants import services as participant_services
from communitas.participants.models import ConsentDocument, ConsentScope
from communitas.programs import selectors, services
from communitas.programs.forms import ConsentDocumentForm, DecisionForm, MeasurementsForm, ProgramForm
from communitas.programs.invitations import token_for
from communitas.programs.permissions import (
    can_decide_screening,
    can_manage_programs,
    can_view_clinical,
    can_view_roster,
    require,
)
from communitas.safety import screening_selectors
from communitas.safety import screening_services as screening
from communitas.safety.screening.decisions import clearable
from communitas.safety.screening.engine import ScreeningInputError

ROSTER_PAGE = 50  # enrolments per roster page: readiness is computed for the page only


@login_required
def program_list(request):
    membership = require(can_view_roster, request.membership)
    programs = selectors.programs_for_membership(membership)
    context = {
        "programs": programs,
        "clinical": can_view_clinical(membership),
        "can_manage": can_manage_programs(membership),
    }
    return render(request, "programs/list.html", context)


@login_required
def program_new(request):
    membership = require(can_manage_programs, request.membership)
    form = ProgramForm(request.POST or None, initial={"jurisdiction": membership.organization.jurisdiction})
    if request.method == "POST" and form.is_valid():
        try:
            program = services.program_create(
                organization=membership.organization, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, "; ".join(exc.messages))
        else:
            return redirect("programs:detail", program_id=program.pk)
    return render(request, "programs/program_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def program_edit(request, program_id: int):
    membership = require(can_manage_programs, request.membership)
    program = selectors.program_get_for_user(membership, program_id)
    form = ProgramForm(request.POST or None, initial={name: getattr(program, name) for name in ProgramForm.base_fields})
    if request.method == "POST" and form.is_valid():
        try:
            services.program_update(actor=request.user, program=program, **form.cleaned_data)
        except (ValidationError, services.ProgramChangeRefused) as exc:
            form.add_error(None, "; ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, _("Program saved."))
            return redirect("programs:detail", program_id=program.pk)
    context = {"form": form, "program": program}
    return render(request, "programs/program_form.html", context, status=400 if form.errors else 200)


@login_required
def program_detail(request, program_id: int):
    membership = require(can_view_clinical, request.membership)
    program = selectors.program_get_for_user(membership, program_id)
    registration_url = (
        request.build_absolute_uri(reverse("journey:register", args=[program.registration_key]))
        if program.registration_open and program.registration_key
        else ""
    )
    today = timezone.localdate()
    try:
        rule_pack, rule_pack_problem = (
            rule_pack_for(organization_id=program.organization_id, jurisdiction=program.jurisdiction, on=today),
            "",
        )
    except UnknownJurisdiction as exc:
        rule_pack, rule_pack_problem = None, str(exc)
    context = {
        "program": program,
        "rows": selectors.roster_page(program, request.GET.get("page"), ROSTER_PAGE),
        "retreats": program.retreats.order_by("starts_on", "pk"),
        "lawfulness": program_lawfulness(program, on=today),
        "rule_pack": rule_pack,
        "rule_pack_problem": rule_pack_problem,
        "can_manage": can_manage_programs(membership),
        "registration_url": registration_url,
        "documents": program.consent_documents.all(),
        "available_documents": ConsentDocument.objects.filter(
            organization_id=membership.organization_id, retired_at__isnull=True
        ),
    }
    return render(request, "programs/detail.html", context)


@require_POST
@login_required
def program_invite(request, program_id: int):
    membership = require(can_manage_programs, request.membership)
    program = selectors.program_get_for_user(membership, program_id)
    invitation = services.invitation_create(program=program, actor=request.user)
    url = request.build_absolute_uri(reverse("journey:start", args=[token_for(invitation)]))
    return render(request, "programs/invitation.html", {"program": program, "url": url, "invitation": invitation})


@require_POST
@login_required
def program_settings(request, program_id: int):
    membership = require(can_manage_programs, request.membership)
    program = selectors.program_get_for_user(membership, program_id)
    services.program_registration_set(
        program=program, actor=request.user, open_=request.POST.get("registration") == "open"
    )
    ids = request.POST.getlist("consent_documents")
    program.consent_documents.set(participant_selectors.consent_documents_for(membership.organization_id, ids))
    messages.success(request, _("Program settings saved."))
    return redirect("programs:detail", program_id=program.pk)


@login_required
def roster(request, program_id: int):
    membership = require(can_view_roster, request.membership)
    program = selectors.program_get_for_user(membership, program_id)
    rows = selectors.roster_page(program, request.GET.get("page"), ROSTER_PAGE)
    return render(request, "programs/roster.html", {"program": program, "rows": rows})


def _enrollment_context(request, membership, program, enrollment, decision_form=None, measure_form=None):
    participant = enrollment.participant
    status = screening_selectors.screening_status(participant, program.substance)
    reasons = status.screening.reasons if status.screening else []
    done = set(enrollment.documents.values_list("kind", flat=True))
    consent = participant_selectors.consent_state(participant)
    return {
        "program": program,
        "enrollment": enrollment,
        "participant": participant,
        "status": status,
        "reasons": reasons,
        "readiness": selectors.enrollment_readiness(enrollment, consent=consent, screening_outcome=status.outcome),
        "documents": [(d, d["kind"] in done) for d in selectors.required_documents(program)],
        "consents": [(value, label, consent.get(value)) for value, label in ConsentScope.choices],
        "can_decide": can_decide_screening(membership),
        "can_manage": can_manage_programs(membership),
        "decision_form": decision_form or DecisionForm(clearable=clearable(reasons)),
        "measure_form": measure_form or MeasurementsForm(),
        "intake": screening_selectors.intake_for(participant, program.substance),
    }


@login_required
def enrollment_detail(request, program_id: int, enrollment_id: int):
    membership = require(can_view_clinical, request.membership)
    program = selectors.program_get_for_user(membership, program_id)
    enrollment = selectors.enrollment_get_for_program(program, enrollment_id)
    return render(request, "programs/enrollment.html", _enrollment_context(request, membership, program, enrollment))


@require_POST
@login_required
def enrollment_decide(request, program_id: int, enrollment_id: int):
    membership = require(can_view_clinical, request.membership)
    program = selectors.program_get_for_user(membership, program_id)
    enrollment = selectors.enrollment_get_for_program(program, enrollment_id)
    require(can_decide_screening, membership)
    status = screening_selectors.screening_status(enrollment.participant, program.substance)
    if status.screening is None:
        messages.error(request, _("There is no screening to decide on yet."))
        return redirect("programs:enrollment", program_id=program.pk, enrollment_id=enrollment.pk)
    form = DecisionForm(request.POST, clearable=clearable(status.screening.reasons))
    if form.is_valid():
        try:
            screening.screening_decide(screening=status.screening, clinician=request.user, **form.cleaned_data)
        except screening.ScreeningDecisionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Decision recorded."))
            return redirect("programs:enrollment", program_id=program.pk, enrollment_id=enrollment.pk)
    context = _enrollment_context(request, membership, program, enrollment, decision_form=form)
    return render(request, "programs/enrollment.html", context, status=400)


@require_POST
@login_required
def enrollment_measure(request, program_id: int, enrollment_id: int):
    membership = require(can_view_clinical, request.membership)
    program = selectors.program_get_for_user(membership, program_id)
    enrollment = selectors.enrollment_get_for_program(program, enrollment_id)
    intake = screening_selectors.intake_for(enrollment.participant, program.substance)
    form = MeasurementsForm(request.POST)
    if intake is not None and intake.status == "submitted" and form.is_valid():
        try:
            screening.intake_record_measurements(intake=intake, actor=request.user, measurements=form.measurements())
        except ScreeningInputError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Measurements recorded; screening ran again."))
            return redirect("programs:enrollment", program_id=program.pk, enrollment_id=enrollment.pk)
    elif intake is None or intake.status != "submitted":
        form.add_error(None, _("The participant has not submitted their intake yet."))
    context = _enrollment_context(request, membership, program, enrollment, measure_form=form)
    return render(request, "programs/enrollment.html", context, status=400)


@require_POST
@login_required
def enrollment_document(request, program_id: int, enrollment_id: int):
    membership = require(can_manage_programs, request.membership)
    program = selectors.program_get_for_user(membership, program_id)
    enrollment = selectors.enrollment_get_for_program(program, enrollment_id)
    try:
        services.document_complete(enrollment=enrollment, kind=request.POST.get("kind", ""), actor=request.user)
    except ValueError as exc:
        messages.error(request, str(exc))
    return redirect("programs:enrollment", program_id=program.pk, enrollment_id=enrollment.pk)


@require_POST
@login_required
def enrollment_status(request, program_id: int, enrollment_id: int):
    membership = require(can_manage_programs, request.membership)
    program = selectors.program_get_for_user(membership, program_id)
    enrollment = selectors.enrollment_get_for_program(program, enrollment_id)
    try:
        services.enrollment_set_status(enrollment=enrollment, status=request.POST.get("status", ""), actor=request.user)
    except ValueError as exc:
        messages.error(request, str(exc))
    return redirect("programs:enrollment", program_id=program.pk, enrollment_id=enrollment.pk)


@require_POST
@login_required
def consent_withdraw(request, program_id: int, enrollment_id: int):
    """Staff record a participant's withdrawal of one scope (told in person, by phone or mail)."""
    membership = require(can_manage_programs, request.membership)
    program = selectors.program_get_for_user(membership, program_id)
    enrollment = selectors.enrollment_get_for_program(program, enrollment_id)
    try:
        participant_services.consent_withdraw(
            participant=enrollment.participant, scope=request.POST.get("scope", ""), actor=request.user
        )
    except participant_services.ConsentError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Consent withdrawn. It takes effect everywhere now."))
    return redirect("programs:enrollment", program_id=program.pk, enrollment_id=enrollment.pk)


@login_required
def consent_documents(request):
    membership = require(can_manage_programs, request.membership)
    form = ConsentDocumentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            participant_services.consent_document_publish(
                organization=membership.organization, actor=request.user, **form.cleaned_data
            )
        except (participant_services.ConsentError, ValidationError) as exc:
            form.add_error(None, "; ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, _("Consent document published."))
            return redirect("programs:consent_documents")
    documents = ConsentDocument.objects.filter(organization_id=membership.organization_id).order_by(
        "title", "-created_at"
    )
    return render(request, "programs/consent_documents.html", {"form": form, "documents": documents})
