"""The shared cast: Alice coordinates at an Oregon service center, Bob facilitates there,
Rita researches there, Charlie coordinates a veterans' retreat (another organization)."""

import pytest
from django.test import Client

from communitas.accounts import services as account_services
from communitas.accounts.models import Membership
from tests.factories import OrganizationFactory, ParticipantFactory, make_support_person, make_user

Role = Membership.Role


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Analyses run on commit in the test's own thread (the thread backend has its own test).
    immediate = {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}
    settings.TASKS = {"default": immediate, "analysis": immediate}


@pytest.fixture
def org(db):
    return OrganizationFactory(name="Cascadia Community Psilocybin", slug="cascadia")


@pytest.fixture
def other_org(db):
    return OrganizationFactory(name="Stillwater Veterans Retreats", slug="stillwater", kind="retreat_center")


@pytest.fixture
def alice(org):
    return make_user(org, Role.COORDINATOR, email="alice@cascadia.example")


@pytest.fixture
def bob(org):
    return make_user(org, Role.FACILITATOR, email="bob@cascadia.example")


@pytest.fixture
def rita(org):
    return make_user(org, Role.RESEARCHER, email="rita@cascadia.example")


@pytest.fixture
def charlie(other_org):
    return make_user(other_org, Role.COORDINATOR, email="charlie@stillwater.example")


@pytest.fixture
def participant(org):
    p = ParticipantFactory(
        organization=org,
        display_name="Marisol Quispe",
        email="marisol@example.net",
        phone="+1 503 555 0147",
        preferred_language="es",
    )
    make_support_person(p, name="Tomás Quispe", relationship="family")
    return p


@pytest.fixture
def outsider_participant(other_org):
    p = ParticipantFactory(organization=other_org, display_name="Dale Whitcomb")
    make_support_person(p, name="June Whitcomb", relationship="partner")
    return p


def _client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(alice):
    return _client_for(alice)


@pytest.fixture
def bob_client(bob):
    return _client_for(bob)


@pytest.fixture
def charlie_client(charlie):
    return _client_for(charlie)


@pytest.fixture
def rita_client(rita):
    return _client_for(rita)


def bearer(user, organization):
    _token, raw = account_services.api_token_create(user=user, organization=organization, name="tests")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def alice_api(alice, org):
    return bearer(alice, org)


@pytest.fixture
def bob_api(bob, org):
    return bearer(bob, org)


@pytest.fixture
def rita_api(rita, org):
    return bearer(rita, org)


@pytest.fixture
def charlie_api(charlie, other_org):
    return bearer(charlie, other_org)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Expose each phase's report on the test item (browser tests screenshot on failure)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
