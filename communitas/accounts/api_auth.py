"""API authentication: bearer tokens, or the signed-in session (with CSRF) for the web UI."""

from ninja.security import HttpBearer, SessionAuth

from communitas.accounts.middleware import SESSION_OTP_KEY
from communitas.accounts.models import Membership
from communitas.accounts.selectors import user_has_confirmed_totp
from communitas.accounts.services import api_token_authenticate


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request, token):
        api_token = api_token_authenticate(token)
        if api_token is None:
            return None
        membership = (
            Membership.objects.filter(user=api_token.user, organization=api_token.organization, is_active=True)
            .select_related("organization")
            .first()
        )
        if membership is None:
            return None
        # An organization that requires two-factor sign-in lets no one in by token who has not
        # set up an authenticator (a token made before the rule does not get around it).
        if membership.organization.require_two_factor and not user_has_confirmed_totp(api_token.user):
            return None
        request.user = api_token.user
        request.membership, request.organization = membership, membership.organization
        return api_token


class VerifiedSessionAuth(SessionAuth):
    """The browser session, if it has passed any second factor it owes.

    A request without a session cookie has no session to use, so it is not CSRF-checked
    either: a script whose token is missing, expired or revoked gets 401, not a CSRF 403."""

    def _get_key(self, request):
        if not request.COOKIES.get(self.param_name):
            return None
        return super()._get_key(request)

    def authenticate(self, request, key):
        if key is None:
            return None
        user = super().authenticate(request, key)
        if user is None or getattr(request, "membership", None) is None:
            return None
        owes_factor = request.session.get(SESSION_OTP_KEY) or request.organization.require_two_factor
        if owes_factor and not user.is_verified():
            return None
        return user
