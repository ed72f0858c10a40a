"""Staff pages for community partners, referrals of participants to them, partner
contributions and the partner's approvals for their use (under /community/)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from communitas.community import partner_selectors as selectors
from communitas.community import partner_services as services
from communitas.community.circle_permissions import (
    can_manage_community,
    can_see_approvers,
    can_view_contributions,
    can_view_partners,
    can_view_referrals,
)
from communitas.community.governance import contribution_use_decision
from communitas.community.partner_forms import (
    ApprovalForm,
    ContributionForm,
    PartnerForm,
    ReferralForm,
    ReferralStatusForm,
)
from communitas.programs.permissions import require


def _errors(form, exc: Exception) -> None:
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, "; ".join(getattr(exc, "messages", [str(exc)])))


@login_required
def partner_list(request):
    membership = require(can_view_partners, request.membership)
    context = {"partners": selectors.partners_for(membership), "can_manage": can_manage_community(membership)}
    return render(request, "community/partners/list.html", context)


@login_required
def partner_new(request):
    membership = require(can_manage_community, request.membership)
    form = PartnerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            partner = services.partner_create(
                organization=membership.organization, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            return redirect("community:partner", partner_id=partner.pk)
    return render(request, "community/partners/form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def partner_edit(request, partner_id: int):
    membership = require(can_manage_community, request.membership)
    partner = selectors.partner_get_for_user(membership, partner_id)
    form = PartnerForm(request.POST or None, initial=PartnerForm.initial_for(partner))
    if request.method == "POST" and form.is_valid():
        try:
            services.partner_update(partner=partner, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("Partner saved."))
            return redirect("community:partner", partner_id=partner.pk)
    context = {"form": form, "partner": partner}
    return render(request, "community/partners/form.html", context, status=400 if form.errors else 200)


@login_required
def partner_detail(request, partner_id: int):
    membership = require(can_view_partners, request.membership)
    partner = selectors.partner_get_for_user(membership, partner_id)
    contributions = selectors.contributions_for(membership).filter(partner=partner)
    context = {
        "partner": partner,
        "contributions": contributions,
        "can_manage": can_manage_community(membership),
        "contribution_form": ContributionForm(),
    }
    return render(request, "community/partners/detail.html", context)


@require_POST
@login_required
def contribution_new(request, partner_id: int):
    membership = require(can_manage_community, request.membership)
    partner = selectors.partner_get_for_user(membership, partner_id)
    form = ContributionForm(request.POST)
    if form.is_valid():
        try:
            contribution = services.contribution_create(partner=partner, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
        else:
            return redirect("community:contribution", contribution_id=contribution.pk)
    else:
        messages.error(request, _("Check the contribution: %(e)s") % {"e": form.errors.as_text()})
    return redirect("community:partner", partner_id=partner.pk)


@login_required
def contribution_list(request):
    membership = require(can_view_contributions, request.membership)
    today = timezone.localdate()
    rows = [
        (c, contribution_use_decision(c, "reuse", today), contribution_use_decision(c, "export", today))
        for c in selectors.contributions_for(membership)
    ]
    return render(request, "community/partners/contributions.html", {"rows": rows})


@login_required
def contribution_detail(request, contribution_id: int):
    membership = require(can_view_contributions, request.membership)
    contribution = selectors.contribution_get_for_user(membership, contribution_id)
    form = ApprovalForm(request.POST or None, initial={"approved_on": timezone.localdate()})
    if request.method == "POST":
        require(can_manage_community, membership)
        if form.is_valid():
            try:
                services.approval_record(contribution=contribution, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                _errors(form, exc)
            else:
                messages.success(request, _("Approval recorded."))
                return redirect("community:contribution", contribution_id=contribution.pk)
    today = timezone.localdate()
    context = {
        "contribution": contribution,
        "reuse": contribution_use_decision(contribution, "reuse", today),
        "export": contribution_use_decision(contribution, "export", today),
        "show_approvers": can_see_approvers(membership),
        "can_manage": can_manage_community(membership),
        "form": form,
    }
    return render(request, "community/partners/contribution.html", context, status=400 if form.errors else 200)


@require_POST
@login_required
def approval_revoke(request, approval_id: int):
    membership = require(can_manage_community, request.membership)
    approval = selectors.approval_get_for_user(membership, approval_id)
    services.approval_revoke(approval=approval, actor=request.user)
    messages.success(request, _("Approval revoked: it covers no use from today."))
    return redirect("community:contribution", contribution_id=approval.contribution_id)


@login_required
def referrals(request, participant_id: int):
    membership = require(can_view_referrals, request.membership)
    participant = selectors.participant_get_for_user(membership, participant_id)
    form = ReferralForm(request.POST or None, partners=selectors.partners_for(membership, active_only=True))
    if request.method == "POST":
        require(can_manage_community, membership)
        if form.is_valid():
            try:
                services.referral_create(participant=participant, actor=request.user, **form.cleaned_data)
            except (services.PartnerRefused, ValidationError) as exc:
                _errors(form, exc)
            else:
                messages.success(request, _("Referral saved."))
                return redirect("community:referrals", participant_id=participant.pk)
    context = {
        "participant": participant,
        "referrals": selectors.referrals_for_participant(participant),
        "form": form,
        "status_form": ReferralStatusForm(),
        "can_manage": can_manage_community(membership),
    }
    return render(request, "community/partners/referrals.html", context, status=400 if form.errors else 200)


@require_POST
@login_required
def referral_status(request, referral_id: int):
    membership = require(can_manage_community, request.membership)
    referral = selectors.referral_get_for_user(membership, referral_id)
    form = ReferralStatusForm(request.POST)
    if form.is_valid():
        try:
            services.referral_set_status(referral=referral, actor=request.user, **form.cleaned_data)
        except (services.PartnerRefused, ValidationError) as exc:
            messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.error(request, _("Choose a status."))
    return redirect("community:referrals", participant_id=referral.participant_id)
