import base64

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token

from communitas.accounts import selectors, services
from communitas.accounts.forms import ApiTokenForm, LoginForm, OtpForm, TwoFactorPolicyForm
from communitas.accounts.middleware import SESSION_ORG_KEY, SESSION_OTP_KEY
from communitas.accounts.permissions import can_manage_organization
from communitas.core.audit import audit_record


def _next_url(request, fallback: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def login_view(request):
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].lower()
        user = authenticate(request, email=email, password=form.cleaned_data["password"])
        if user is not None:
            login(request, user)
            request.session[SESSION_OTP_KEY] = selectors.user_has_confirmed_totp(user)
            audit_record(action="accounts.user.logged_in", actor=user)
            return redirect(_next_url(request))
        form.add_error(None, _("That email and password do not match an active account."))
    return render(request, "accounts/login.html", {"form": form, "next": request.GET.get("next", "")})


@require_POST
def logout_view(request):
    if request.user.is_authenticated:
        audit_record(action="accounts.user.logged_out", actor=request.user)
    logout(request)
    return redirect("accounts:login")


@login_required
def otp_verify(request):
    if not selectors.user_has_confirmed_totp(request.user):
        # No code can ever match; send them to set up a device instead of a dead end.
        return redirect("accounts:otp_setup")
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["code"].strip())
        if device is not None:
            otp_login(request, device)
            audit_record(action="accounts.user.second_factor_verified", actor=request.user)
            return redirect(_next_url(request))
        form.add_error("code", _("That code is not valid. Codes change every 30 seconds."))
    return render(request, "accounts/otp_verify.html", {"form": form})


def _qr_data_uri(uri: str) -> str:
    svg = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage).to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


@login_required
def otp_setup(request):
    if selectors.user_has_confirmed_totp(request.user) and not request.user.is_verified():
        # Replacing an authenticator takes the current one: a password alone must not enrol
        # a new device (that would sidestep the second factor entirely).
        return redirect("accounts:otp_verify")
    device = selectors.totp_pending_device(request.user) or services.totp_device_start(user=request.user)
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.totp_device_confirm(device=device, code=form.cleaned_data["code"].strip()):
            otp_login(request, device)
            request.session[SESSION_OTP_KEY] = True
            messages.success(request, _("Two-factor sign-in is on for your account."))
            return redirect("home")
        form.add_error("code", _("That code is not valid. Check the time on your phone and try again."))
    secret = base64.b32encode(device.bin_key).decode()
    context = {"form": form, "qr": _qr_data_uri(device.config_url), "secret": secret}
    return render(request, "accounts/otp_setup.html", context)


@require_POST
@login_required
def switch_organization(request):
    membership = selectors.membership_get_for_user(request.user, request.POST.get("organization"))
    request.session[SESSION_ORG_KEY] = membership.organization_id
    return redirect("home")


@login_required
def api_tokens(request):
    if request.organization is None:
        raise PermissionDenied
    form = ApiTokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        _token, created = services.api_token_create(
            user=request.user, organization=request.organization, **form.cleaned_data
        )
        form = ApiTokenForm()
    tokens = selectors.api_tokens_for_user(request.user, request.organization.pk)
    return render(request, "accounts/api_tokens.html", {"form": form, "tokens": tokens, "created": created})


@require_POST
@login_required
def api_token_revoke(request, token_id: int):
    if request.organization is None:
        raise PermissionDenied
    token = selectors.api_token_get_for_user(request.user, request.organization.pk, token_id)
    services.api_token_revoke(token=token, actor=request.user)
    messages.success(request, _("Token revoked."))
    return redirect("accounts:api_tokens")


@login_required
def organization_settings(request):
    if not can_manage_organization(request.membership):
        raise PermissionDenied
    org = request.organization
    form = TwoFactorPolicyForm(request.POST or None, initial={"require_two_factor": org.require_two_factor})
    if request.method == "POST" and form.is_valid():
        services.organization_set_two_factor(
            organization=org, required=form.cleaned_data["require_two_factor"], actor=request.user
        )
        messages.success(request, _("Settings saved."))
        return redirect("accounts:organization_settings")
    return render(request, "accounts/organization_settings.html", {"form": form})
