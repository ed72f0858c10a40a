"""Sets ``request.membership`` and ``request.organization`` for signed-in staff, and sends
staff who still owe a second factor to the verification or set-up page."""

from django.shortcuts import redirect
from django.urls import reverse

from communitas.accounts.selectors import memberships_for_user

SESSION_ORG_KEY = "organization_id"
SESSION_OTP_KEY = "otp_device_confirmed"
OPEN_PREFIXES = ("/static/", "/i18n/", "/api/", "/healthz")


class OrganizationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = None
        request.organization = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            memberships = list(memberships_for_user(user))
            wanted = request.session.get(SESSION_ORG_KEY)
            chosen = next((m for m in memberships if m.organization_id == wanted), None)
            chosen = chosen or (memberships[0] if memberships else None)
            request.memberships = memberships
            request.membership = chosen
            request.organization = chosen.organization if chosen else None
            detour = self._second_factor_detour(request)
            if detour:
                return redirect(detour)
        return self.get_response(request)

    def _second_factor_detour(self, request) -> str | None:
        if request.path.startswith(OPEN_PREFIXES) or request.user.is_verified():
            return None
        verify, setup, logout = (reverse(f"accounts:{n}") for n in ("otp_verify", "otp_setup", "logout"))
        if request.path in (verify, setup, logout):
            return None
        if request.session.get(SESSION_OTP_KEY):
            return verify
        if request.organization is not None and request.organization.require_two_factor:
            return setup
        return None
