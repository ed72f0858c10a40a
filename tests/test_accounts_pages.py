"""Sign-in, lockout, sign-out, the organization switcher, API tokens, two-factor sign-in,
organization settings, security headers and password hashing."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from communitas import settings as real_settings
from communitas.accounts import services as account_services
from communitas.accounts.middleware import SESSION_ORG_KEY
from communitas.accounts.models import ApiToken, Membership, User
from communitas.core.models import AuditEntry
from tests.factories import PASSWORD, OrganizationFactory, make_user

Role = Membership.Role
LOGIN = "/accounts/login/"
NEW_TOKEN = re.compile(r'id="new-token">\s*(cmt_[^<\s]+)\s*<')


def _login(client, email, password=PASSWORD, **extra):
    return client.post(reverse("accounts:login"), {"email": email, "password": password, **extra})


def _signed_in_user_id(client):
    return client.session.get("_auth_user_id")


def _code(device, offset=0):
    value = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{(value + offset) % 10**device.digits:0{device.digits}d}"


def _logged_in_entries(user):
    return AuditEntry.objects.filter(action="accounts.user.logged_in", actor_id=user.pk).count()


# --- sign in --------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["alice@cascadia.example", "Alice@Cascadia.Example", "ALICE@CASCADIA.EXAMPLE"])
def test_it_signs_in_with_email_in_any_case_and_audits_it(client, alice, typed):
    r = _login(client, typed)

    assert r.status_code == 302
    assert r.url == reverse("home")
    assert _signed_in_user_id(client) == str(alice.pk)
    assert _logged_in_entries(alice) == 1
    assert client.get(reverse("home")).url == reverse("participants:list")


def test_it_follows_a_local_next_url_but_not_an_external_one(client, alice):
    local = _login(client, alice.email, next="/accounts/tokens/")
    client.post(reverse("accounts:logout"))
    external = _login(client, alice.email, next="https://evil.example/phish")

    assert local.url == "/accounts/tokens/"
    assert external.url == reverse("home")


@pytest.mark.parametrize(
    ("email", "password"),
    [("alice@cascadia.example", "wrong password entirely"), ("nobody@cascadia.example", PASSWORD)],
)
def test_it_refuses_a_wrong_password_or_unknown_email_with_the_same_error(client, alice, email, password):
    r = _login(client, email, password)

    assert r.status_code == 200
    assert "That email and password do not match an active account." in r.content.decode()
    assert _signed_in_user_id(client) is None
    assert _logged_in_entries(alice) == 0


def test_it_refuses_an_inactive_user(client, alice):
    User.objects.filter(pk=alice.pk).update(is_active=False)

    r = _login(client, alice.email)

    assert r.status_code == 200
    assert _signed_in_user_id(client) is None


def test_it_still_signs_in_after_fewer_failures_than_the_limit(client, alice):
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, alice.email, "wrong password entirely").status_code == 200

    r = _login(client, alice.email)

    assert r.status_code == 302
    assert _signed_in_user_id(client) == str(alice.pk)


def _assert_locked_out(response):
    assert response.status_code == 429
    assert "accounts/locked_out.html" in [t.name for t in response.templates]
    assert "Too many attempts" in response.content.decode()


def test_it_locks_an_account_after_the_failure_limit_even_for_the_right_password(client, alice):
    assert django_settings.AXES_FAILURE_LIMIT == 5
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        _login(client, alice.email, "wrong password entirely")

    r = _login(client, alice.email)

    _assert_locked_out(r)
    assert _signed_in_user_id(client) is None
    assert _logged_in_entries(alice) == 0


def test_it_counts_failures_for_one_account_whatever_the_case_of_the_email(client, alice):
    spellings = ["alice@cascadia.example", "ALICE@cascadia.example", "Alice@Cascadia.example", "aLiCe@CASCADIA.example"]
    for i in range(django_settings.AXES_FAILURE_LIMIT):
        _login(client, spellings[i % len(spellings)], "wrong password entirely")

    r = _login(client, "alice@CASCADIA.EXAMPLE")

    _assert_locked_out(r)
    assert _signed_in_user_id(client) is None


def test_it_locks_only_the_attacked_account(client, alice, bob):
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        _login(client, alice.email, "wrong password entirely")

    r = _login(Client(), bob.email)

    assert r.status_code == 302


# --- sign out -------------------------------------------------------------------------------


def test_it_does_not_sign_out_on_get(alice_client, alice):
    r = alice_client.get(reverse("accounts:logout"))

    assert r.status_code == 405
    assert _signed_in_user_id(alice_client) == str(alice.pk)
    assert alice_client.get(reverse("participants:list")).status_code == 200


def test_it_signs_out_on_post_and_audits_it(alice_client, alice):
    r = alice_client.post(reverse("accounts:logout"))

    assert r.status_code == 302
    assert r.url == reverse("accounts:login")
    assert _signed_in_user_id(alice_client) is None
    assert alice_client.get(reverse("participants:list")).url.startswith(LOGIN)
    assert AuditEntry.objects.filter(action="accounts.user.logged_out", actor_id=alice.pk).count() == 1


# --- organization switcher ------------------------------------------------------------------


@pytest.fixture
def alice_in_two_orgs(alice, other_org):
    account_services.membership_create(user=alice, organization=other_org, role=Role.COORDINATOR)
    return alice


def test_it_shows_the_switcher_only_to_members_of_several_organizations(
    alice_in_two_orgs, alice_client, bob_client, org, other_org
):
    two = alice_client.get(reverse("participants:list")).content.decode()
    one = bob_client.get(reverse("participants:list")).content.decode()

    assert 'id="org-switch"' in two
    assert f'<option value="{org.pk}" selected>{org.name}</option>' in two
    assert f'<option value="{other_org.pk}" >{other_org.name}</option>' in two
    assert 'id="org-switch"' not in one


def test_it_switches_to_another_organization_the_user_belongs_to(
    alice_in_two_orgs, alice_client, participant, outsider_participant, other_org
):
    r = alice_client.post(reverse("accounts:switch_organization"), {"organization": other_org.pk})

    assert r.status_code == 302
    assert alice_client.session[SESSION_ORG_KEY] == other_org.pk
    listing = alice_client.get(reverse("participants:list")).content.decode()
    assert "Dale Whitcomb" in listing
    assert "Marisol Quispe" not in listing
    assert alice_client.get(reverse("participants:detail", args=[participant.pk])).status_code == 404
    assert alice_client.get(reverse("participants:detail", args=[outsider_participant.pk])).status_code == 200


@pytest.mark.parametrize("target", ["stranger", "inactive", "garbage", "huge", "missing"])
def test_it_answers_404_when_switching_to_an_organization_the_user_does_not_belong_to(
    alice_in_two_orgs, alice_client, participant, other_org, target
):
    stranger = OrganizationFactory(name="Elsewhere", slug="elsewhere")
    Membership.objects.filter(user=alice_in_two_orgs, organization=other_org).update(is_active=False)
    data = {
        "stranger": {"organization": stranger.pk},
        "inactive": {"organization": other_org.pk},
        "garbage": {"organization": "1 OR 1=1"},
        "huge": {"organization": "9" * 30},
        "missing": {},
    }[target]

    r = alice_client.post(reverse("accounts:switch_organization"), data)

    assert r.status_code == 404
    assert SESSION_ORG_KEY not in alice_client.session
    assert "Marisol Quispe" in alice_client.get(reverse("participants:list")).content.decode()


def test_it_falls_back_to_an_active_membership_when_the_chosen_one_is_deactivated(
    alice_in_two_orgs, alice_client, participant, outsider_participant, other_org
):
    alice_client.post(reverse("accounts:switch_organization"), {"organization": other_org.pk})
    Membership.objects.filter(user=alice_in_two_orgs, organization=other_org).update(is_active=False)

    listing = alice_client.get(reverse("participants:list")).content.decode()

    assert "Marisol Quispe" in listing
    assert "Dale Whitcomb" not in listing
    assert alice_client.get(reverse("participants:detail", args=[outsider_participant.pk])).status_code == 404


def test_it_does_not_switch_on_get(alice_in_two_orgs, alice_client, other_org):
    r = alice_client.get(reverse("accounts:switch_organization"), {"organization": other_org.pk})

    assert r.status_code == 405
    assert SESSION_ORG_KEY not in alice_client.session


# --- API tokens -----------------------------------------------------------------------------


def test_it_shows_a_new_token_once_and_stores_only_its_hash(client, alice_client, alice, org, participant):
    r = alice_client.post(reverse("accounts:api_tokens"), {"name": "reporting", "days": 30})

    assert r.status_code == 200
    raw = NEW_TOKEN.search(r.content.decode()).group(1)
    token = ApiToken.objects.get(user=alice, name="reporting")
    assert token.organization == org
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in repr(model_to_dict(token))
    assert raw.startswith(token.prefix)
    assert abs(token.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    assert AuditEntry.objects.filter(action="accounts.api_token.created", object_id=str(token.pk)).count() == 1
    again = alice_client.get(reverse("accounts:api_tokens")).content.decode()
    assert raw not in again
    assert "reporting" in again
    assert client.get("/api/v1/participants", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200


def test_it_rerenders_an_invalid_token_request_without_creating_one(alice_client, alice):
    r = alice_client.post(reverse("accounts:api_tokens"), {"name": "", "days": 5000})

    assert r.status_code == 200
    assert set(r.context["form"].errors) == {"name", "days"}
    assert NEW_TOKEN.search(r.content.decode()) is None
    assert not ApiToken.objects.exists()


def test_it_revokes_ones_own_token(client, alice_client, alice, org):
    token, raw = account_services.api_token_create(user=alice, organization=org, name="script")

    r = alice_client.post(reverse("accounts:api_token_revoke", args=[token.pk]))

    assert r.status_code == 302
    assert r.url == reverse("accounts:api_tokens")
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert client.get("/api/v1/participants", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    assert AuditEntry.objects.filter(action="accounts.api_token.revoked", object_id=str(token.pk)).count() == 1


@pytest.mark.parametrize("owner_name", ["bob", "charlie"])
def test_it_answers_404_when_revoking_someone_elses_token(request, client, alice_client, org, other_org, owner_name):
    owner = request.getfixturevalue(owner_name)
    owner_org = org if owner_name == "bob" else other_org
    token, raw = account_services.api_token_create(user=owner, organization=owner_org, name="theirs")

    r = alice_client.post(reverse("accounts:api_token_revoke", args=[token.pk]))

    assert r.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert client.get("/api/v1/participants", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code in (200, 403)
    assert "theirs" not in alice_client.get(reverse("accounts:api_tokens")).content.decode()


def test_it_does_not_revoke_on_get(alice_client, alice, org):
    token, _raw = account_services.api_token_create(user=alice, organization=org, name="script")

    assert alice_client.get(reverse("accounts:api_token_revoke", args=[token.pk])).status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


# --- two-factor sign-in ---------------------------------------------------------------------


@pytest.fixture
def two_factor_org(org):
    return account_services.organization_set_two_factor(organization=org, required=True, actor=None)


@pytest.fixture
def alice_device(alice):
    return TOTPDevice.objects.create(user=alice, name="Phone", confirmed=True)


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/participants/",
        "/participants/new/",
        "/accounts/tokens/",
        "/accounts/organization/settings/",
        "/accounts/two-factor/",
    ],
)
def test_it_sends_staff_of_a_two_factor_organization_without_a_device_to_setup(
    two_factor_org, alice_client, participant, url
):
    r = alice_client.get(url)

    assert r.status_code == 302
    assert r.url == reverse("accounts:otp_setup")


def test_it_leaves_health_checks_and_sign_out_open_while_two_factor_is_owed(two_factor_org, alice_client, alice):
    assert alice_client.get("/healthz").status_code == 200
    r = alice_client.post(reverse("accounts:logout"))
    assert r.status_code == 302
    assert r.url == reverse("accounts:login")
    assert _signed_in_user_id(alice_client) is None


def test_it_does_not_ask_for_two_factor_when_the_organization_does_not_require_it(alice_client, participant):
    assert alice_client.get(reverse("participants:list")).status_code == 200


def test_it_lets_staff_in_after_setting_up_an_authenticator(two_factor_org, client, alice, participant):
    _login(client, alice.email)
    assert client.get(reverse("participants:list")).url == reverse("accounts:otp_setup")

    page = client.get(reverse("accounts:otp_setup"))
    device = TOTPDevice.objects.get(user=alice, confirmed=False)
    r = client.post(reverse("accounts:otp_setup"), {"code": _code(device)})

    assert page.status_code == 200
    assert page.content.decode().count("data:image/svg+xml;base64,") == 1
    assert r.status_code == 302
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.get(reverse("participants:list")).status_code == 200
    assert AuditEntry.objects.filter(action="accounts.totp_device.confirmed", actor_id=alice.pk).count() == 1


def test_it_rejects_a_wrong_setup_code(two_factor_org, alice_client, alice):
    alice_client.get(reverse("accounts:otp_setup"))
    device = TOTPDevice.objects.get(user=alice, confirmed=False)

    r = alice_client.post(reverse("accounts:otp_setup"), {"code": _code(device, offset=500_000)})

    assert r.status_code == 200
    assert "code" in r.context["form"].errors
    device.refresh_from_db()
    assert device.confirmed is False
    assert alice_client.get(reverse("participants:list")).url == reverse("accounts:otp_setup")


def test_it_asks_a_user_with_an_authenticator_for_a_code_after_the_password(client, alice, alice_device, participant):
    _login(client, alice.email)

    assert client.get(reverse("participants:list")).url == reverse("accounts:otp_verify")
    assert client.get(reverse("accounts:api_tokens")).url == reverse("accounts:otp_verify")

    r = client.post(reverse("accounts:otp_verify"), {"code": _code(alice_device)})

    assert r.status_code == 302
    assert client.get(reverse("participants:list")).status_code == 200
    assert AuditEntry.objects.filter(action="accounts.user.second_factor_verified", actor_id=alice.pk).count() == 1


def test_it_rejects_a_wrong_sign_in_code(client, alice, alice_device):
    _login(client, alice.email)

    r = client.post(reverse("accounts:otp_verify"), {"code": _code(alice_device, offset=500_000)})

    assert r.status_code == 200
    assert "code" in r.context["form"].errors
    assert client.get(reverse("participants:list")).url == reverse("accounts:otp_verify")


@pytest.mark.parametrize("org_requires", [False, True])
def test_it_does_not_let_a_password_alone_enrol_a_new_authenticator_in_place_of_the_old_one(
    request, client, alice, alice_device, org_requires
):
    if org_requires:
        request.getfixturevalue("two_factor_org")
    _login(client, alice.email)

    page = client.get(reverse("accounts:otp_setup"))
    rogue = account_services.totp_device_start(user=alice)
    r = client.post(reverse("accounts:otp_setup"), {"code": _code(rogue)})

    assert page.status_code == 302
    assert page.url == reverse("accounts:otp_verify")
    assert r.status_code == 302
    assert r.url == reverse("accounts:otp_verify")
    assert TOTPDevice.objects.get(pk=alice_device.pk).confirmed is True
    assert TOTPDevice.objects.get(pk=rogue.pk).confirmed is False
    assert client.get(reverse("participants:list")).url == reverse("accounts:otp_verify")


def test_it_lets_a_verified_user_replace_their_authenticator(client, alice, alice_device):
    _login(client, alice.email)
    client.post(reverse("accounts:otp_verify"), {"code": _code(alice_device)})

    assert client.get(reverse("accounts:otp_setup")).status_code == 200
    replacement = TOTPDevice.objects.get(user=alice, confirmed=False)
    r = client.post(reverse("accounts:otp_setup"), {"code": _code(replacement)})

    assert r.status_code == 302
    assert list(TOTPDevice.objects.filter(user=alice, confirmed=True)) == [replacement]


# --- organization settings ------------------------------------------------------------------


@pytest.fixture
def ada(org):
    return make_user(org, Role.ADMIN, email="ada@cascadia.example")


def test_it_lets_an_admin_require_two_factor(ada, org):
    client = Client()
    client.force_login(ada)

    page = client.get(reverse("accounts:organization_settings"))
    r = client.post(reverse("accounts:organization_settings"), {"require_two_factor": "on"})

    assert page.status_code == 200
    assert r.status_code == 302
    org.refresh_from_db()
    assert org.require_two_factor is True
    assert AuditEntry.objects.filter(action="accounts.organization.two_factor_changed", actor_id=ada.pk).count() == 1


@pytest.mark.parametrize("user_name", ["alice", "bob", "rita", "charlie"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_it_answers_403_to_non_admins_on_organization_settings(request, org, user_name, method):
    client = Client()
    client.force_login(request.getfixturevalue(user_name))

    r = getattr(client, method)(reverse("accounts:organization_settings"), {"require_two_factor": "on"})

    assert r.status_code == 403
    org.refresh_from_db()
    assert org.require_two_factor is False


def test_it_shows_the_organization_link_only_to_admins(ada, alice_client):
    admin_client = Client()
    admin_client.force_login(ada)
    url = reverse("accounts:organization_settings")

    assert url in admin_client.get(reverse("participants:list")).content.decode()
    assert url not in alice_client.get(reverse("participants:list")).content.decode()


# --- security headers -----------------------------------------------------------------------


def _csp(response):
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("signed_in", [False, True])
def test_it_sends_strict_security_headers_on_html_pages(client, alice_client, participant, signed_in):
    r = alice_client.get(reverse("participants:list")) if signed_in else client.get(reverse("accounts:login"))

    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/html")
    csp = _csp(r)
    assert csp["default-src"] == ["'self'"]
    for directive in ("script-src", "style-src"):
        assert "'self'" in csp[directive]
        assert "'unsafe-inline'" not in csp[directive]
        assert "'unsafe-eval'" not in csp[directive]
        assert "*" not in csp[directive]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert r["X-Frame-Options"] == "DENY"
    assert r["X-Content-Type-Options"] == "nosniff"


def test_it_keeps_signed_in_pages_out_of_caches(alice_client, participant):
    r = alice_client.get(reverse("participants:detail", args=[participant.pk]))

    assert r["Cache-Control"] == "no-store"


def test_it_serves_pages_that_work_under_the_csp_with_no_inline_script_or_style(
    client, alice_client, participant, two_factor_org
):
    person = participant.support_persons.get()
    # Alice owes a second factor, so this also renders the setup page with its QR code.
    pages = [
        client.get(reverse("accounts:login")),
        alice_client.get(reverse("accounts:otp_setup")),
    ]
    account_services.organization_set_two_factor(organization=two_factor_org, required=False, actor=None)
    pages += [
        alice_client.get(reverse(name, args=args))
        for name, args in [
            ("participants:list", []),
            ("participants:create", []),
            ("participants:detail", [participant.pk]),
            ("participants:edit", [participant.pk]),
            ("participants:support_edit", [participant.pk, person.pk]),
            ("accounts:api_tokens", []),
        ]
    ]

    for r in pages:
        html = r.content.decode()
        assert r.status_code == 200, r
        assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
        assert re.search(r"<style\b", html) is None
        assert re.search(r"\sstyle\s*=", html) is None
        assert re.search(r"\son[a-z]+\s*=", html) is None
        assert "javascript:" not in html


# --- password hashing -----------------------------------------------------------------------


def test_it_hashes_passwords_with_argon2_under_the_real_settings(settings, client, org):
    settings.PASSWORD_HASHERS = real_settings.PASSWORD_HASHERS

    user = make_user(org, Role.COORDINATOR, email="hash@cascadia.example")

    stored = User.objects.get(pk=user.pk).password
    assert stored.startswith("argon2$argon2id$")
    assert PASSWORD not in stored
    assert _login(client, "hash@cascadia.example").status_code == 302
    assert _signed_in_user_id(client) == str(user.pk)
