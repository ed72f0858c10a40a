"""`communitas organization-create` and `communitas staff-add`: set up a site without a shell;
bad input changes nothing; every creation is audited."""

import pytest
from django.core.management import CommandError, call_command

from communitas.accounts.models import Membership, Organization, User
from communitas.core.models import AuditEntry

pytestmark = pytest.mark.django_db
GOOD = "a long enough passphrase 7"


def _create_org(**overrides):
    args = {"name": "Cascadia Community Psilocybin", "slug": "cascadia", "kind": "service_center"}
    args.update(overrides)
    call_command("organization_create", jurisdiction="US-OR", **args)


def test_it_creates_an_organization_and_audits_it(capsys):
    _create_org()
    org = Organization.objects.get(slug="cascadia")
    assert (org.name, org.kind, org.jurisdiction) == ("Cascadia Community Psilocybin", "service_center", "US-OR")
    assert AuditEntry.objects.filter(action="accounts.organization.created", organization_id=org.pk).exists()
    assert "slug cascadia" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"slug": "not a slug"}, "--slug"), ({"name": "  "}, "--name is empty")],
)
def test_it_refuses_bad_organization_input_and_creates_nothing(overrides, message):
    with pytest.raises(CommandError, match=message):
        _create_org(**overrides)
    assert not Organization.objects.exists()


def test_it_refuses_a_slug_in_use():
    _create_org()
    with pytest.raises(CommandError, match="exists already"):
        _create_org(name="Another")
    assert Organization.objects.count() == 1


@pytest.fixture
def cascadia():
    _create_org()
    return Organization.objects.get(slug="cascadia")


def test_it_adds_a_new_staff_member_with_a_password_from_the_environment(cascadia, monkeypatch):
    monkeypatch.setenv("MAYA_PASSWORD", GOOD)
    call_command(
        "staff_add", organization="cascadia", email="Maya@Cascadia.example", role="admin", name="Maya Ortiz",
        password_env="MAYA_PASSWORD",
    )  # fmt: skip
    user = User.objects.get(email="maya@cascadia.example")
    assert user.full_name == "Maya Ortiz"
    assert user.check_password(GOOD) and user.is_active
    assert Membership.objects.get(user=user, organization=cascadia).role == "admin"
    assert AuditEntry.objects.filter(action="accounts.membership.created", organization_id=cascadia.pk).exists()


def test_it_asks_for_the_password_twice_on_the_terminal(cascadia, monkeypatch):
    answers = iter([GOOD, GOOD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    call_command("staff_add", organization="cascadia", email="nora@cascadia.example", role="facilitator")
    assert User.objects.get(email="nora@cascadia.example").check_password(GOOD)


def test_it_adds_an_existing_account_to_another_organization_without_touching_its_password(cascadia, monkeypatch):
    monkeypatch.setenv("PW", GOOD)
    call_command("staff_add", organization="cascadia", email="sam@example.org", role="coordinator", password_env="PW")
    call_command(
        "organization_create", name="Stillwater Retreats", slug="stillwater", kind="retreat_center", jurisdiction=""
    )
    monkeypatch.setenv("PW", "something else entirely 9")
    call_command("staff_add", organization="stillwater", email="sam@example.org", role="facilitator")

    sam = User.objects.get(email="sam@example.org")
    assert sam.check_password(GOOD)
    assert sorted(sam.memberships.values_list("organization__slug", "role")) == [
        ("cascadia", "coordinator"),
        ("stillwater", "facilitator"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "env", "message"),
    [
        ({"organization": "nowhere"}, GOOD, "No organization"),
        ({"email": "not-an-email"}, GOOD, "not an email address"),
        ({}, "short", "too short"),
        ({}, "", "empty or not set"),
    ],
)
def test_it_refuses_bad_staff_input_and_creates_nothing(cascadia, monkeypatch, kwargs, env, message):
    monkeypatch.setenv("PW", env)
    args = {"organization": "cascadia", "email": "rae@cascadia.example", "role": "hospitality", "password_env": "PW"}
    with pytest.raises(CommandError, match=message):
        call_command("staff_add", **{**args, **kwargs})
    assert not User.objects.exists()


def test_it_refuses_differing_passwords_and_a_second_membership(cascadia, monkeypatch):
    answers = iter([GOOD, GOOD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    with pytest.raises(CommandError, match="differ"):
        call_command("staff_add", organization="cascadia", email="rae@cascadia.example", role="hospitality")
    assert not User.objects.exists()

    monkeypatch.setenv("PW", GOOD)
    call_command(
        "staff_add", organization="cascadia", email="rae@cascadia.example", role="hospitality", password_env="PW"
    )
    with pytest.raises(CommandError, match="already a member"):
        call_command("staff_add", organization="cascadia", email="rae@cascadia.example", role="admin")
    assert Membership.objects.get(user__email="rae@cascadia.example").role == "hospitality"
