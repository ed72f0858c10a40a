"""The security properties that come from settings and the sign-in machinery: TLS-only cookies,
HSTS, the SSL redirect and the proxy header under COMMUNITAS_SECURE; session expiry and sign-out
on a password change; login throttling per account and address (behind a proxy too); and staff
who owe a second factor reaching nothing through the API either."""

import runpy
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from communitas.accounts import services as account_services
from communitas.accounts.models import Membership
from tests.factories import PASSWORD, make_user

Role = Membership.Role
SETTINGS_FILE = Path(__file__).resolve().parent.parent / "communitas" / "settings.py"
TLS_SETTINGS = (
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_PROXY_SSL_HEADER",
)
HTTPS = {"HTTP_X_FORWARDED_PROTO": "https"}


def _settings_under(monkeypatch, tmp_path, **env) -> dict:
    """The settings module as a fresh process with ``env`` would evaluate it."""
    monkeypatch.setenv("COMMUNITAS_DATA_DIR", str(tmp_path))
    for name in ("COMMUNITAS_SECURE", "COMMUNITAS_SESSION_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


def _login(client, email, password=PASSWORD, **extra):
    return client.post(reverse("accounts:login"), {"email": email, "password": password}, **extra)


def _signed_in(client) -> bool:
    return client.get(reverse("participants:list")).status_code == 200


# --- COMMUNITAS_SECURE ---------------------------------------------------------------------------


def test_secure_mode_turns_on_tls_only_cookies_hsts_the_redirect_and_the_proxy_header(monkeypatch, tmp_path):
    secure = _settings_under(monkeypatch, tmp_path, COMMUNITAS_SECURE="1")

    assert secure["SESSION_COOKIE_SECURE"] is True and secure["CSRF_COOKIE_SECURE"] is True
    assert secure["SECURE_SSL_REDIRECT"] is True
    assert secure["SECURE_HSTS_SECONDS"] >= 31536000
    assert secure["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert secure["SESSION_COOKIE_HTTPONLY"] is True and secure["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_without_secure_mode_plain_http_still_works_for_development(monkeypatch, tmp_path):
    plain = _settings_under(monkeypatch, tmp_path)

    assert [plain[name] for name in TLS_SETTINGS] == [False, False, False, 0, None]


@pytest.fixture
def secure_site(settings, monkeypatch, tmp_path):
    """This test process running with the settings COMMUNITAS_SECURE=1 produces."""
    secure = _settings_under(monkeypatch, tmp_path, COMMUNITAS_SECURE="1")
    for name in (*TLS_SETTINGS, "SECURE_REDIRECT_EXEMPT"):
        setattr(settings, name, secure[name])
    return settings


def test_secure_mode_redirects_plain_http_to_https(secure_site, alice):
    r = Client().get(reverse("accounts:login"))

    assert r.status_code == 301
    assert r["Location"] == "https://testserver/accounts/login/"


@pytest.mark.django_db
def test_secure_mode_answers_a_local_health_probe_over_plain_http(secure_site):
    assert Client().get("/healthz").status_code == 200
    assert Client().get("/robots.txt").status_code == 301  # only the probe is exempt


def test_secure_mode_trusts_the_proxys_https_header_and_sends_hsts(secure_site, alice):
    r = Client().get(reverse("accounts:login"), **HTTPS)

    assert r.status_code == 200
    assert r["Strict-Transport-Security"].startswith("max-age=31536000")


def test_secure_mode_sends_session_and_csrf_cookies_only_over_tls(secure_site, alice):
    client = Client()
    page = client.get(reverse("accounts:login"), **HTTPS)
    signed_in = _login(client, alice.email, **HTTPS)

    assert signed_in.status_code == 302
    session, csrf = signed_in.cookies["sessionid"], page.cookies["csrftoken"]
    assert session["secure"] is True and session["httponly"] is True and session["samesite"] == "Lax"
    assert csrf["secure"] is True


# --- sessions ------------------------------------------------------------------------------------


def test_sessions_last_twelve_hours_unless_configured(monkeypatch, tmp_path):
    assert _settings_under(monkeypatch, tmp_path)["SESSION_COOKIE_AGE"] == 12 * 3600
    assert _settings_under(monkeypatch, tmp_path, COMMUNITAS_SESSION_SECONDS="3600")["SESSION_COOKIE_AGE"] == 3600


def test_a_session_ends_when_its_age_is_reached(client, alice, monkeypatch):
    signed_in = _login(client, alice.email)
    start = timezone.now()

    assert signed_in.cookies["sessionid"]["max-age"] == 12 * 3600
    monkeypatch.setattr(timezone, "now", lambda: start + timedelta(hours=11, minutes=59))
    assert _signed_in(client)
    monkeypatch.setattr(timezone, "now", lambda: start + timedelta(hours=12, minutes=1))
    assert client.get(reverse("participants:list")).url.startswith(reverse("accounts:login"))


def test_a_password_change_signs_out_every_other_session(client, alice):
    _login(client, alice.email)
    assert _signed_in(client)

    alice.set_password("an entirely new passphrase")
    alice.save(update_fields=["password"])

    assert not _signed_in(client)


def test_signing_in_starts_a_new_session_key(client, alice):
    client.get(reverse("accounts:login"))
    client.session.save()
    before = client.session.session_key

    _login(client, alice.email)

    assert client.session.session_key != before


# --- login throttling per account and address ----------------------------------------------------


def _fail_until_locked(client, email, **extra):
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        _login(client, email, "wrong password entirely", **extra)


def test_a_lock_holds_for_the_attacking_address_but_not_a_colleagues(alice):
    attacker, colleague = Client(REMOTE_ADDR="203.0.113.66"), Client(REMOTE_ADDR="198.51.100.5")
    _fail_until_locked(attacker, alice.email)

    assert _login(attacker, alice.email).status_code == 429
    assert _login(colleague, alice.email).status_code == 302


def test_without_a_trusted_proxy_a_forged_forwarded_header_does_not_escape_the_lock(alice):
    attacker = Client(REMOTE_ADDR="203.0.113.66")
    _fail_until_locked(attacker, alice.email, HTTP_X_FORWARDED_FOR="10.1.1.1")

    assert _login(attacker, alice.email, HTTP_X_FORWARDED_FOR="10.2.2.2").status_code == 429


def test_behind_a_trusted_proxy_locks_are_per_client(settings, alice):
    settings.COMMUNITAS_TRUSTED_PROXY_COUNT = 1
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    _fail_until_locked(proxy, alice.email, HTTP_X_FORWARDED_FOR="203.0.113.66")

    assert _login(proxy, alice.email, HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.66").status_code == 429
    assert _login(Client(REMOTE_ADDR="10.0.0.2"), alice.email, HTTP_X_FORWARDED_FOR="198.51.100.5").status_code == 302


# --- the second factor on the API ----------------------------------------------------------------


@pytest.fixture
def staff_token(org):
    user = make_user(org, Role.COORDINATOR, email="dana@cascadia.example")
    _token, raw = account_services.api_token_create(user=user, organization=org, name="script")
    return user, {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_an_api_token_stops_working_while_its_owner_owes_a_second_factor(client, org, staff_token):
    user, bearer = staff_token
    assert client.get("/api/v1/participants", **bearer).status_code == 200

    account_services.organization_set_two_factor(organization=org, required=True, actor=None)

    assert client.get("/api/v1/participants", **bearer).status_code == 401
    TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    assert client.get("/api/v1/participants", **bearer).status_code == 200


def test_an_unconfirmed_authenticator_does_not_count(client, org, staff_token):
    user, bearer = staff_token
    account_services.organization_set_two_factor(organization=org, required=True, actor=None)
    TOTPDevice.objects.create(user=user, name="Phone", confirmed=False)

    assert client.get("/api/v1/participants", **bearer).status_code == 401


def test_the_deploy_check_warns_when_tls_is_on_and_the_proxy_is_not_counted(settings):
    from django.core import checks

    settings.SECURE = True
    settings.COMMUNITAS_TRUSTED_PROXY_COUNT = 0
    warned = [m.id for m in checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])]
    assert "communitas.W001" in warned

    settings.COMMUNITAS_TRUSTED_PROXY_COUNT = 1
    warned = [m.id for m in checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])]
    assert "communitas.W001" not in warned
