"""/api/v1/openapi.json documents each choice field with its own values (no shared ``Kind``)."""

import pytest

from communitas.community.models import Partner, PartnerContribution, Referral
from communitas.facilitators.models import Credential
from communitas.programs.models import DoseRecord, Session


@pytest.fixture(scope="module")
def components():
    from communitas.api import api

    return api.get_openapi_schema()["components"]["schemas"]


@pytest.mark.parametrize(
    ("schema", "field", "choices"),
    [
        ("SessionIn", "kind", Session.Kind),
        ("DoseIn", "kind", DoseRecord.Kind),
        ("CredentialIn", "kind", Credential.Kind),
        ("PartnerIn", "kind", Partner.Kind),
        ("ContributionIn", "kind", PartnerContribution.Kind),
        ("ReferralStatusIn", "status", Referral.Status),
    ],
)
def test_each_choice_field_documents_its_own_values(components, schema, field, choices):
    documented = components[schema]["properties"][field]
    assert documented.get("enum") == list(choices.values), documented
