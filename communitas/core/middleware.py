"""Strict Content-Security-Policy (no inline script or style) and related headers."""

import secrets

CSP = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CSP.format(nonce=request.csp_nonce))
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            response.setdefault("Cache-Control", "no-store")
        return response


class ApiErrorShapeMiddleware:
    """Responses Django or django-ninja make outside the API's exception handlers (an unknown
    route, a method the route does not allow) get the API's error shape too."""

    CODES = {404: "not_found", 405: "method_not_allowed"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code in self.CODES
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            from django.http import JsonResponse

            detail = "No such endpoint." if response.status_code == 404 else f"{request.method} is not allowed here."
            shaped = JsonResponse(
                {"error": self.CODES[response.status_code], "detail": detail}, status=response.status_code
            )
            if response.has_header("Allow"):
                shaped["Allow"] = response["Allow"]
            return shaped
        return response
