"""CARE-principle governance of partner contributions (Carroll et al. 2020, Data Science Journal
19:43): reuse or export is refused unless a current approval from the partner covers it."""

import datetime
import json

import pytest

from communitas.accounts.models import Membership
from communitas.community import partner_services as services
from communitas.community.governance import (
    ApprovalFacts,
    ContributionUseRefused,
    contribution_may_be_used,
    require_contribution_use,
    use_decision,
)
from communitas.community.models import ContributionApproval
from communitas.core.models import AuditEntry
from tests.api_helpers import call
from tests.circle_helpers import assert_error
from tests.conftest import bearer
from tests.factories import make_user

Role = Membership.Role
D = datetime.date
JAN1, JUN30 = D(2026, 1, 1), D(2026, 6, 30)


def _decide(*approvals, purpose="export", on=D(2026, 3, 1), requires=True):
    return use_decision(requires_approval=requires, approvals=list(approvals), purpose=purpose, on=on)


# --- the rule, without a database --------------------------------------------------------------


def test_a_contribution_that_needs_no_approval_may_be_used():
    assert _decide(requires=False) == _decide(requires=False, purpose="reuse")
    assert _decide(requires=False).allowed and _decide(requires=False).reason == "no_approval_needed"


def test_without_an_approval_use_is_refused():
    assert (_decide().allowed, _decide().reason) == (False, "no_approval")


@pytest.mark.parametrize(
    ("scope", "purpose", "allowed"),
    [("export", "export", True), ("reuse", "export", False), ("both", "export", True), ("both", "reuse", True)],
)
def test_an_approval_covers_only_its_scope(scope, purpose, allowed):
    decision = _decide(ApprovalFacts(7, scope, JAN1, JUN30), purpose=purpose)
    assert decision.allowed is allowed
    assert decision.reason == ("approved" if allowed else "not_for_this_purpose")
    assert decision.approval_id == (7 if allowed else None)


@pytest.mark.parametrize(
    ("on", "reason"),
    [(D(2025, 12, 31), "not_yet_valid"), (JAN1, "approved"), (JUN30, "approved"), (D(2026, 7, 1), "expired")],
)
def test_an_approval_holds_from_its_date_through_its_expiry(on, reason):
    assert _decide(ApprovalFacts(1, "both", JAN1, JUN30), on=on).reason == reason


def test_a_revoked_approval_covers_nothing_from_the_day_it_was_revoked():
    revoked = ApprovalFacts(1, "export", JAN1, None, revoked_on=D(2026, 3, 1))
    assert _decide(revoked, on=D(2026, 2, 28)).allowed
    assert _decide(revoked, on=D(2026, 3, 1)).reason == "revoked"


def test_one_current_approval_is_enough_among_lapsed_ones():
    lapsed = ApprovalFacts(1, "export", D(2025, 1, 1), D(2025, 12, 31))
    current = ApprovalFacts(2, "both", JAN1, None)
    assert _decide(lapsed, current).approval_id == 2
    assert _decide(lapsed).reason == "expired"


def test_it_knows_only_reuse_and_export():
    with pytest.raises(ValueError, match="purpose"):
        _decide(purpose="sell")


# --- with the database -------------------------------------------------------------------------


@pytest.fixture
def partner(org, alice):
    return services.partner_create(
        organization=org, actor=alice, name="Kichwa wisdom keepers' council", kind="indigenous_wisdom_keepers"
    )


@pytest.fixture
def contribution(partner, alice):
    return services.contribution_create(
        partner=partner,
        actor=alice,
        title="Plant medicine preparation songs",
        kind="knowledge",
        governance_note="Shared for circle use only; the council decides on any other use.",
    )


def test_exports_are_refused_until_the_partner_approves_and_again_once_revoked(contribution, alice):
    today = datetime.date.today()
    assert not contribution_may_be_used(contribution, "export", today)
    with pytest.raises(ContributionUseRefused) as refused:
        require_contribution_use(contribution, "export", today)
    assert refused.value.decision.reason == "no_approval"
    approval = services.approval_record(
        contribution=contribution,
        actor=alice,
        approved_by_name="Mama Rosa Yupanqui",
        approved_by_role="Council elder",
        scope="export",
        approved_on=today,
        expires_on=today + datetime.timedelta(days=90),
    )
    assert contribution_may_be_used(contribution, "export", today)
    assert not contribution_may_be_used(contribution, "reuse", today)
    assert not contribution_may_be_used(contribution, "export", today + datetime.timedelta(days=91))
    services.approval_revoke(approval=approval, actor=alice)
    assert not contribution_may_be_used(contribution, "export", today)
    recorded = AuditEntry.objects.get(action="community.contribution_approval.recorded")
    assert "Rosa" not in json.dumps(recorded.data) and recorded.data["scope"] == "export"
    assert AuditEntry.objects.filter(action="community.contribution_approval.revoked").count() == 1


def test_an_approval_cannot_expire_before_it_was_given(contribution, alice):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.approval_record(
            contribution=contribution,
            actor=alice,
            approved_by_name="Mama Rosa",
            scope="both",
            approved_on=JUN30,
            expires_on=JAN1,
        )
    assert ContributionApproval.objects.count() == 0


# --- pages and API -----------------------------------------------------------------------------


def test_a_coordinator_records_an_approval_on_the_contribution_page(contribution, alice_client):
    url = f"/community/contributions/{contribution.pk}/"
    assert "refused: no approval" in alice_client.get(url).content.decode()
    data = {"approved_by_name": "Mama Rosa", "scope": "both", "approved_on": "2026-01-01", "expires_on": "2025-01-01"}
    assert alice_client.post(url, data).status_code == 400
    data["expires_on"] = ""
    assert alice_client.post(url, data).status_code == 302
    page = alice_client.get(url).content.decode()
    assert "allowed (approved)" in page and "Mama Rosa" in page


def test_researchers_see_the_governance_status_but_not_who_approved(contribution, alice, org, client):
    services.approval_record(
        contribution=contribution, actor=alice, approved_by_name="Mama Rosa", scope="both", approved_on=JAN1
    )
    rita = make_user(org, Role.RESEARCHER)
    client.force_login(rita)
    page = client.get(f"/community/contributions/{contribution.pk}/")
    assert page.status_code == 200 and "Mama Rosa" not in page.content.decode()
    assert client.get("/community/contributions/").status_code == 200
    assert client.post(f"/community/contributions/{contribution.pk}/", {"scope": "both"}).status_code == 403
    body = call(client, "get", f"/community/contributions/{contribution.pk}", **bearer(rita, org)).json()
    assert body["approvals"][0]["approved_by_name"] is None and body["export"]["allowed"] is True


def test_the_use_endpoint_answers_the_export_check(contribution, alice, client, alice_api, charlie_api, org):
    path = f"/community/contributions/{contribution.pk}/use"
    answer = call(client, "get", path + "?purpose=export", **alice_api).json()
    assert (answer["allowed"], answer["reason"]) == (False, "no_approval")
    assert "CARE" in answer["principles"] or "Carroll" in answer["principles"]
    approval = call(
        client,
        "post",
        f"/community/contributions/{contribution.pk}/approvals",
        {"approved_by_name": "Mama Rosa", "scope": "export", "approved_on": "2026-01-01", "expires_on": "2026-06-30"},
        **alice_api,
    )
    assert approval.status_code == 201
    assert call(client, "get", path + "?purpose=export&on=2026-06-30", **alice_api).json()["allowed"] is True
    assert call(client, "get", path + "?purpose=export&on=2026-07-01", **alice_api).json()["reason"] == "expired"
    assert_error(call(client, "get", path + "?purpose=sell", **alice_api), 422)
    assert_error(call(client, "get", path + "?purpose=export", **charlie_api), 404)
    assert_error(call(client, "get", path + "?purpose=export", **bearer(make_user(org, Role.HOSPITALITY), org)), 403)
    revoked = call(client, "post", f"/community/approvals/{approval.json()['id']}/revoke", **alice_api)
    assert revoked.json()["revoked_at"]
    assert_error(call(client, "post", f"/community/approvals/{approval.json()['id']}/revoke", **charlie_api), 404)


def test_the_api_refuses_bad_approvals_and_changes_nothing(contribution, client, alice_api, bob_api):
    path = f"/community/contributions/{contribution.pk}/approvals"
    good = {"approved_by_name": "Mama Rosa", "scope": "both", "approved_on": "2026-01-01"}
    assert_error(call(client, "post", path, {**good, "expires_on": "2025-12-31"}, **alice_api), 422)
    assert_error(call(client, "post", path, {**good, "scope": "everything"}, **alice_api), 422)
    assert_error(call(client, "post", path, {**good, "approved_on": 20260101}, **alice_api), 422)
    assert_error(call(client, "post", path, good, **bob_api), 403)
    assert ContributionApproval.objects.count() == 0
