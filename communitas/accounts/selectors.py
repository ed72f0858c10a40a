from django.db.models import QuerySet
from django.http import Http404
from django_otp.plugins.otp_totp.models import TOTPDevice

from communitas.accounts.models import ApiToken, Membership, User


def memberships_for_user(user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user, is_active=True)
        .select_related("organization")
        .order_by("organization__name")
    )


def membership_get_for_user(user: User, organization_id) -> Membership:
    """The user's active membership in that organization; 404 when there is none (or the id
    is not a number)."""
    try:
        organization_id = int(organization_id)
    except (TypeError, ValueError):
        raise Http404("no such organization") from None
    if not 0 < organization_id < 2**63:
        raise Http404("no such organization")
    membership = memberships_for_user(user).filter(organization_id=organization_id).first()
    if membership is None:
        raise Http404("no such organization")
    return membership


def api_tokens_for_user(user: User, organization_id: int) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user, organization_id=organization_id).order_by("-created_at")


def api_token_get_for_user(user: User, organization_id: int, token_id) -> ApiToken:
    token = api_tokens_for_user(user, organization_id).filter(pk=token_id).first()
    if token is None:
        raise Http404("no such token")
    return token


def user_has_confirmed_totp(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def totp_pending_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
