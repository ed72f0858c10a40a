"""The one API style: errors are ``{"error": <code>, "detail": <message or list>}``."""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import TextChoices
from django.http import Http404
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.pagination import LimitOffsetPagination
from pydantic import Field, WithJsonSchema

logger = logging.getLogger(__name__)

STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_error",
    429: "too_many_requests",
}


MAX_OFFSET = 2**31 - 1  # any larger offset skips every row anyway, and would overflow the database's integer


def inline_choices(choices: type[TextChoices]) -> WithJsonSchema:
    """Document a model's choices inline, as ``Annotated[Session.Kind, inline_choices(Session.Kind)]``.
    django-ninja keys schema components by the enum's short name, so ``Session.Kind``,
    ``Credential.Kind`` and ``Partner.Kind`` would collapse into one ``Kind`` component of
    ``/api/v1/openapi.json`` that documents the wrong values for all but one."""
    return WithJsonSchema({"type": "string", "enum": [str(value) for value in choices.values]})


class Pagination(LimitOffsetPagination):
    """``?limit=&offset=`` pages whose bounds the database can take: past them is a 422, not a 500."""

    class Input(Schema):
        limit: int = Field(settings.NINJA_PAGINATION_PER_PAGE, ge=1, le=settings.NINJA_PAGINATION_MAX_LIMIT)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)


def error_response(api: NinjaAPI, request, status: int, detail):
    return api.create_response(request, {"error": STATUS_CODES.get(status, "error"), "detail": detail}, status=status)


def _clean_validation_errors(errors) -> list[dict]:
    return [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in errors
    ]


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(ValidationError)
    def _validation(request, exc):
        return error_response(api, request, 422, _clean_validation_errors(exc.errors))

    @api.exception_handler(DjangoValidationError)
    def _model_validation(request, exc):
        detail = (
            [
                {"loc": ["body", field], "msg": " ".join(str(m) for m in msgs), "type": "invalid"}
                for field, msgs in exc.message_dict.items()
            ]
            if hasattr(exc, "error_dict")
            else [{"loc": ["body"], "msg": " ".join(exc.messages), "type": "invalid"}]
        )
        return error_response(api, request, 422, detail)

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request, exc):
        return error_response(api, request, 401, "Send a valid token as 'Authorization: Bearer <token>'.")

    @api.exception_handler(HttpError)
    def _http(request, exc):
        return error_response(api, request, exc.status_code, str(exc))

    @api.exception_handler(Http404)
    def _not_found(request, exc):
        return error_response(api, request, 404, "Not found.")

    @api.exception_handler(PermissionDenied)
    def _forbidden(request, exc):
        return error_response(api, request, 403, "Your role does not allow this.")

    @api.exception_handler(RequestDataTooBig)
    def _too_big(request, exc):
        return error_response(api, request, 413, "Request body too large.")

    @api.exception_handler(Exception)
    def _unexpected(request, exc):
        logger.exception("unhandled API error", exc_info=exc)
        return error_response(api, request, 500, "Internal error; it has been logged.")
