"""May a partner's contribution (knowledge, data, a practice) be reused or exported?

Following the CARE Principles for Indigenous Data Governance (Carroll, S. R., Garba, I.,
Figueroa-Rodríguez, O. L. et al. 2020, "The CARE Principles for Indigenous Data Governance",
Data Science Journal 19:43, doi:10.5334/dsj-2020-043): *Authority to control* means the community
that contributed knowledge or data decides about its use, and *Responsibility* and *Ethics* mean
the program shows how it honours that decision. So a contribution that requires the partner's
approval is refused for reuse or export unless a recorded approval covers that purpose on that
day: its scope names the purpose (or both), the day falls from ``approved_on`` through
``expires_on``, and the partner has not revoked it before that day. No approval, an expired or
revoked one, or one for the other purpose: refused.

``contribution_may_be_used`` is the one check every export (issue 8) and every reuse must call;
``use_decision`` is the same rule over plain data, tested without a database.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from communitas.community.models import ContributionApproval, PartnerContribution

PURPOSES = ("reuse", "export")
CARE_CITATION = 'Carroll et al. 2020, "The CARE Principles for Indigenous Data Governance", Data Science Journal 19:43'


class ContributionUseRefused(PermissionError):
    def __init__(self, decision: UseDecision):
        super().__init__(f"use refused: {decision.reason}")
        self.decision = decision


@dataclass(frozen=True)
class ApprovalFacts:
    id: int | None
    scope: str  # reuse | export | both
    approved_on: datetime.date
    expires_on: datetime.date | None = None
    revoked_on: datetime.date | None = None


@dataclass(frozen=True)
class UseDecision:
    allowed: bool
    reason: (
        str  # no_approval_needed | approved | no_approval | not_for_this_purpose | not_yet_valid | expired | revoked
    )
    approval_id: int | None = None


def _covers(scope: str, purpose: str) -> bool:
    return scope in (purpose, ContributionApproval.Scope.BOTH)


def _problem(approval: ApprovalFacts, on: datetime.date) -> str:
    if on < approval.approved_on:
        return "not_yet_valid"
    if approval.expires_on is not None and on > approval.expires_on:
        return "expired"
    if approval.revoked_on is not None and on >= approval.revoked_on:
        return "revoked"
    return ""


def use_decision(
    *, requires_approval: bool, approvals: Iterable[ApprovalFacts], purpose: str, on: datetime.date
) -> UseDecision:
    """The rule, over plain data. The reason for a refusal names the closest miss."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose is one of {PURPOSES}")
    if not requires_approval:
        return UseDecision(True, "no_approval_needed")
    every = list(approvals)
    relevant = [a for a in every if _covers(a.scope, purpose)]
    if not relevant:
        return UseDecision(False, "not_for_this_purpose" if every else "no_approval")
    problems = []
    for approval in relevant:
        problem = _problem(approval, on)
        if not problem:
            return UseDecision(True, "approved", approval.id)
        problems.append(problem)
    return UseDecision(False, next(r for r in ("revoked", "expired", "not_yet_valid") if r in problems))


def approval_facts(approval: ContributionApproval) -> ApprovalFacts:
    revoked = timezone.localdate(approval.revoked_at) if approval.revoked_at else None
    return ApprovalFacts(approval.pk, approval.scope, approval.approved_on, approval.expires_on, revoked)


def contribution_use_decision(
    contribution: PartnerContribution, purpose: str, on: datetime.date | None = None
) -> UseDecision:
    approvals = ContributionApproval.objects.filter(
        contribution_id=contribution.pk, organization_id=contribution.organization_id
    )
    return use_decision(
        requires_approval=contribution.requires_partner_approval,
        approvals=[approval_facts(a) for a in approvals],
        purpose=purpose,
        on=on or timezone.localdate(),
    )


def contribution_may_be_used(contribution: PartnerContribution, purpose: str, on: datetime.date) -> bool:
    """True when ``contribution`` may be put to ``purpose`` ("reuse" or "export") on day ``on``.
    Exports and reuses call this and leave out whatever it refuses."""
    return contribution_use_decision(contribution, purpose, on).allowed


def require_contribution_use(contribution: PartnerContribution, purpose: str, on: datetime.date) -> UseDecision:
    """As ``contribution_may_be_used``, raising ``ContributionUseRefused`` with the reason."""
    decision = contribution_use_decision(contribution, purpose, on)
    if not decision.allowed:
        raise ContributionUseRefused(decision)
    return decision
