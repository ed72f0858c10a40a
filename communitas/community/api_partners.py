"""Community partners, referrals, partner contributions and approvals under /api/v1/community/.

Coordinators and administrators write. The care team (facilitators, ceremonial guides, peer
supporters) reads the partner directory; referrals name a participant, so only the identified care
team reads them. Researchers read contributions and whether they may be used, without the names of
the people who approved them; hospitality staff get 403. Another organization's ids are 404.

``GET /community/contributions/{id}/use`` answers the CARE check (Carroll et al. 2020, Data
Science Journal 19:43) that exports must make; see ``community/governance.py``."""

import datetime
from typing import Annotated, Literal

from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import AfterValidator, Field, StrictBool, StringConstraints, model_validator

from communitas.accounts.models import Membership
from communitas.community import partner_selectors as selectors
from communitas.community import partner_services as services
from communitas.community.circle_permissions import (
    can_manage_community,
    can_see_approvers,
    can_view_contributions,
    can_view_partners,
    can_view_referrals,
)
from communitas.community.governance import CARE_CITATION, contribution_use_decision
from communitas.community.models import ContributionApproval, Partner, PartnerContribution, Referral
from communitas.core.api import Pagination, inline_choices
from communitas.participants.schemas import (
    Date,
    Email,
    Language,
    Message,
    Name,
    OptionalName,
    Phone,
    StrictSchema,
    Text,
    changes_from,
)
from communitas.programs.permissions import require
from communitas.programs.schemas import Id, ParticipantRef, Title

router = Router(tags=["community"])
ERRORS = {400: Message, 401: Message, 403: Message, 404: Message, 409: Message, 422: Message}


def _unique(values: list) -> list:
    if len(set(values)) != len(values):
        raise ValueError("list each value once")
    return values


Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000), Text]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500, pattern=r"^(https?://\S+)?$"), Text]
Service = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Text]
Languages = Annotated[list[Language], Field(max_length=20), AfterValidator(_unique)]
Services = Annotated[list[Service], Field(max_length=30), AfterValidator(_unique)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), Text]


# --- shapes -----------------------------------------------------------------------------------


class PartnerIn(StrictSchema):
    name: Title
    kind: Annotated[Partner.Kind, inline_choices(Partner.Kind)]
    description: Description = ""
    website: Url = ""
    public_phone: Phone = ""
    contact_name: OptionalName = ""
    contact_email: Email = ""
    contact_phone: Phone = ""
    languages: Languages = Field(default_factory=list)
    services: Services = Field(default_factory=list)
    active: StrictBool = True


class PartnerPatch(StrictSchema):
    name: Title | None = None
    kind: Annotated[Partner.Kind, inline_choices(Partner.Kind)] | None = None
    description: Description | None = None
    website: Url | None = None
    public_phone: Phone | None = None
    contact_name: OptionalName | None = None
    contact_email: Email | None = None
    contact_phone: Phone | None = None
    languages: Languages | None = None
    services: Services | None = None
    active: StrictBool | None = None


class PartnerOut(Schema):
    id: int
    name: str
    kind: str
    description: str
    website: str
    public_phone: str
    contact_name: str
    contact_email: str
    contact_phone: str
    languages: list[str]
    services: list[str]
    active: bool


class ReferralIn(StrictSchema):
    partner_id: Id
    status: Literal["suggested", "made"] = "suggested"
    note: Note = ""


class ReferralStatusIn(StrictSchema):
    status: Annotated[Referral.Status, inline_choices(Referral.Status)]
    note: Note | None = None


class ReferralOut(Schema):
    id: int
    participant: ParticipantRef
    partner_id: int
    partner_name: str
    status: str
    status_changed_at: datetime.datetime
    made_at: datetime.datetime | None
    completed_at: datetime.datetime | None
    note: str
    created_at: datetime.datetime

    @staticmethod
    def resolve_partner_name(obj) -> str:
        return obj.partner.name


class ContributionIn(StrictSchema):
    title: Title
    kind: Annotated[PartnerContribution.Kind, inline_choices(PartnerContribution.Kind)]
    description: Description = ""
    requires_partner_approval: StrictBool = True
    governance_note: Description = ""


class UseOut(Schema):
    purpose: str
    on: datetime.date
    allowed: bool
    reason: str
    approval_id: int | None
    principles: str = CARE_CITATION


class ApprovalOut(Schema):
    id: int
    contribution_id: int
    approved_by_name: str | None  # None for readers who may not see it
    approved_by_role: str
    scope: str
    approved_on: datetime.date
    expires_on: datetime.date | None
    revoked_at: datetime.datetime | None
    recorded_by_id: int | None


class ContributionOut(Schema):
    id: int
    partner_id: int
    title: str
    kind: str
    description: str
    requires_partner_approval: bool
    governance_note: str
    reuse: UseOut
    export: UseOut
    approvals: list[ApprovalOut]


class ApprovalIn(StrictSchema):
    approved_by_name: Name
    approved_by_role: OptionalName = ""
    scope: ContributionApproval.Scope
    approved_on: Date
    expires_on: Date | None = None

    @model_validator(mode="after")
    def _ordered(self):
        if self.expires_on is not None and self.expires_on < self.approved_on:
            raise ValueError("an approval cannot expire before it was given")
        return self


class UseQuery(StrictSchema):
    purpose: str = Field(pattern=r"^(reuse|export)$")
    on: Date | None = None


# --- helpers ----------------------------------------------------------------------------------


def _manager(request) -> Membership:
    return require(can_manage_community, request.membership)


def _conflict(exc: Exception):
    return Status(409, {"error": "conflict", "detail": str(exc)})


def _use(contribution, purpose: str, on: datetime.date) -> dict:
    decision = contribution_use_decision(contribution, purpose, on)
    return {
        "purpose": purpose,
        "on": on,
        "allowed": decision.allowed,
        "reason": decision.reason,
        "approval_id": decision.approval_id,
    }


def _approval(approval, *, names: bool) -> dict:
    return {
        "id": approval.pk,
        "contribution_id": approval.contribution_id,
        "approved_by_name": approval.approved_by_name if names else None,
        "approved_by_role": approval.approved_by_role,
        "scope": approval.scope,
        "approved_on": approval.approved_on,
        "expires_on": approval.expires_on,
        "revoked_at": approval.revoked_at,
        "recorded_by_id": approval.recorded_by_id if names else None,
    }


def _contribution(membership: Membership, contribution) -> dict:
    today, names = timezone.localdate(), can_see_approvers(membership)
    return {
        **{f: getattr(contribution, f) for f in ("title", "kind", "description", "governance_note")},
        "id": contribution.pk,
        "partner_id": contribution.partner_id,
        "requires_partner_approval": contribution.requires_partner_approval,
        "reuse": _use(contribution, "reuse", today),
        "export": _use(contribution, "export", today),
        "approvals": [_approval(a, names=names) for a in contribution.approvals.all()],
    }


# --- partners ---------------------------------------------------------------------------------


@router.get("/community/partners", response={200: list[PartnerOut], **ERRORS})
@paginate(Pagination)
def list_partners(request):
    return selectors.partners_for(require(can_view_partners, request.membership))


@router.post("/community/partners", response={201: PartnerOut, **ERRORS})
def create_partner(request, payload: PartnerIn):
    membership = _manager(request)
    partner = services.partner_create(organization=membership.organization, actor=request.user, **payload.model_dump())
    return Status(201, partner)


@router.get("/community/partners/{partner_id}", response={200: PartnerOut, **ERRORS})
def get_partner(request, partner_id: int):
    return selectors.partner_get_for_user(require(can_view_partners, request.membership), partner_id)


@router.patch("/community/partners/{partner_id}", response={200: PartnerOut, **ERRORS})
def update_partner(request, partner_id: int, payload: PartnerPatch):
    partner = selectors.partner_get_for_user(require(can_view_partners, request.membership), partner_id)
    _manager(request)
    return services.partner_update(partner=partner, actor=request.user, **changes_from(payload))


# --- referrals --------------------------------------------------------------------------------


@router.get("/community/participants/{participant_id}/referrals", response={200: list[ReferralOut], **ERRORS})
def list_referrals(request, participant_id: int):
    membership = require(can_view_referrals, request.membership)
    participant = selectors.participant_get_for_user(membership, participant_id)
    return list(selectors.referrals_for_participant(participant))


@router.post("/community/participants/{participant_id}/referrals", response={201: ReferralOut, **ERRORS})
def create_referral(request, participant_id: int, payload: ReferralIn):
    membership = require(can_view_referrals, request.membership)
    participant = selectors.participant_get_for_user(membership, participant_id)
    _manager(request)
    partner = selectors.partner_get_for_user(membership, payload.partner_id)
    try:
        referral = services.referral_create(
            participant=participant, partner=partner, actor=request.user, status=payload.status, note=payload.note
        )
    except services.PartnerRefused as exc:
        return _conflict(exc)
    return Status(201, referral)


@router.post("/community/referrals/{referral_id}/status", response={200: ReferralOut, **ERRORS})
def change_referral_status(request, referral_id: int, payload: ReferralStatusIn):
    referral = selectors.referral_get_for_user(require(can_view_referrals, request.membership), referral_id)
    _manager(request)
    try:
        return services.referral_set_status(
            referral=referral, status=payload.status, note=payload.note, actor=request.user
        )
    except services.PartnerRefused as exc:
        return _conflict(exc)


# --- contributions and approvals --------------------------------------------------------------


@router.get("/community/contributions", response={200: list[ContributionOut], **ERRORS})
@paginate(Pagination)
def list_contributions(request):
    membership = require(can_view_contributions, request.membership)
    return [_contribution(membership, c) for c in selectors.contributions_for(membership)]


@router.post("/community/partners/{partner_id}/contributions", response={201: ContributionOut, **ERRORS})
def create_contribution(request, partner_id: int, payload: ContributionIn):
    membership = _manager(request)
    partner = selectors.partner_get_for_user(membership, partner_id)
    contribution = services.contribution_create(partner=partner, actor=request.user, **payload.model_dump())
    return Status(201, _contribution(membership, selectors.contribution_get_for_user(membership, contribution.pk)))


@router.get("/community/contributions/{contribution_id}", response={200: ContributionOut, **ERRORS})
def get_contribution(request, contribution_id: int):
    membership = require(can_view_contributions, request.membership)
    return _contribution(membership, selectors.contribution_get_for_user(membership, contribution_id))


@router.get("/community/contributions/{contribution_id}/use", response={200: UseOut, **ERRORS})
def contribution_use(request, contribution_id: int, query: Query[UseQuery]):
    """May the contribution be reused or exported on a day (default today)? Exports must ask."""
    membership = require(can_view_contributions, request.membership)
    contribution = selectors.contribution_get_for_user(membership, contribution_id)
    return _use(contribution, query.purpose, query.on or timezone.localdate())


@router.post("/community/contributions/{contribution_id}/approvals", response={201: ApprovalOut, **ERRORS})
def record_approval(request, contribution_id: int, payload: ApprovalIn):
    membership = require(can_view_contributions, request.membership)
    contribution = selectors.contribution_get_for_user(membership, contribution_id)
    _manager(request)
    approval = services.approval_record(contribution=contribution, actor=request.user, **payload.model_dump())
    return Status(201, _approval(approval, names=True))


@router.post("/community/approvals/{approval_id}/revoke", response={200: ApprovalOut, **ERRORS})
def revoke_approval(request, approval_id: int):
    membership = _manager(request)
    approval = selectors.approval_get_for_user(membership, approval_id)
    return _approval(services.approval_revoke(approval=approval, actor=request.user), names=True)
