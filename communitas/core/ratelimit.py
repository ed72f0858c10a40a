"""Rate limits on the participant links (``/a/``, ``/c/``, ``/join/``): pages opened without an
account, where the token in the address is the only credential.

Two fixed-window counters per client address, kept in Django's cache:

- every request under those prefixes (``COMMUNITAS_LINK_RATE_PER_MINUTE``, default 120 a minute);
- failed link lookups, i.e. answers 404 or 410 there: a token that is unknown, tampered, expired
  or revoked, or a row that is not the link's (``COMMUNITAS_LINK_FAILURE_LIMIT``, default 20 in
  ten minutes). Someone guessing tokens reaches this one long before the other.

A client past either limit gets 429 with ``Retry-After`` until its window ends, and the view is
not called, so a refused POST writes nothing. The first refusal in a window writes one audit entry
(``core.link_rate_limit.exceeded``) naming the limit and a keyed hash of the address, never the
token or the address. Limits are read from settings on every request; 0 turns one off.

The counters live in the ``default`` cache. The default local-memory cache counts per process:
with several worker processes each allows the full limit, so production with more than one
process points ``CACHES`` at a shared cache (``COMMUNITAS_CACHE_URL=redis://...``).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.crypto import salted_hmac

from communitas.core.audit import audit_record

log = logging.getLogger(__name__)

PREFIXES = ("/a/", "/c/", "/join/")
FAILED_STATUSES = frozenset({404, 410})
REQUEST_WINDOW = 60
FAILURE_WINDOW = 600
DEFAULT_EXEMPT = ("127.0.0.0/8", "::1/128")  # the machine itself: health checks, local tools, tests


@dataclass(frozen=True)
class Limit:
    name: str  # "requests" | "failed_links"
    allowed: int
    window: int


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def client_ip(request) -> str:
    """The client's address: ``REMOTE_ADDR``, or, behind ``COMMUNITAS_TRUSTED_PROXY_COUNT``
    proxies, the ``X-Forwarded-For`` entry the outermost trusted proxy appended.

    Each proxy appends the address it received the request from, so with N trusted proxies the
    N-th entry from the right is the client as the outermost one saw it; entries further left
    were written by the client and are ignored. A shorter header (a request that skipped an
    outer proxy) leaves its leftmost entry, still written by one of ours."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = _setting("COMMUNITAS_TRUSTED_PROXY_COUNT", 0)
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    candidate = forwarded[-min(proxies, len(forwarded))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def _exempt(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    networks = getattr(settings, "COMMUNITAS_LINK_RATE_EXEMPT", DEFAULT_EXEMPT)
    return any(address in ipaddress.ip_network(net, strict=False) for net in networks)


def client_key(request) -> str | None:
    """A keyed hash naming the client (IPv6: its /64, which one subscriber usually holds whole),
    or None when it is not limited: an exempt address, or none that can be read (pooling every
    such client into one budget would let one of them lock out the rest)."""
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:  # a dual-stack socket's IPv4 client
        address = address.ipv4_mapped
    if _exempt(address):
        return None
    scope = str(ipaddress.ip_network(f"{address}/64", strict=False)) if address.version == 6 else str(address)
    return salted_hmac("communitas.core.ratelimit", scope).hexdigest()[:24]


def _limits() -> tuple[Limit, Limit]:
    return (
        Limit("requests", _setting("COMMUNITAS_LINK_RATE_PER_MINUTE", 120), REQUEST_WINDOW),
        Limit("failed_links", _setting("COMMUNITAS_LINK_FAILURE_LIMIT", 20), FAILURE_WINDOW),
    )


def _now() -> float:
    return time.time()


def _key(limit: Limit, client: str, now: float, suffix: str = "") -> str:
    return f"communitas:ratelimit:{limit.name}{suffix}:{client}:{int(now // limit.window)}"


def _retry_after(limit: Limit, now: float) -> int:
    return max(1, math.ceil(limit.window - now % limit.window))


def _increment(key: str, timeout: int) -> int:
    cache.add(key, 0, timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout)
        return 1


def _refusing_limit(client: str, now: float) -> Limit | None:
    """Counts this request and answers the limit it goes past, if any."""
    requests, failures = _limits()
    if requests.allowed > 0 and _increment(_key(requests, client, now), requests.window + 5) > requests.allowed:
        return requests
    if failures.allowed > 0 and cache.get(_key(failures, client, now), 0) >= failures.allowed:
        return failures
    return None


def _note_failure(client: str, now: float) -> None:
    failures = _limits()[1]
    if failures.allowed > 0:
        _increment(_key(failures, client, now), failures.window + 5)


def _audit_once(request, limit: Limit, client: str, now: float) -> None:
    if not cache.add(_key(limit, client, now, ":noted"), 1, limit.window + 5):
        return
    prefix = next(p for p in PREFIXES if request.path_info.startswith(p))
    audit_record(
        action="core.link_rate_limit.exceeded",
        data={
            "limit": limit.name,
            "allowed": limit.allowed,
            "window_seconds": limit.window,
            "prefix": prefix,
            "method": request.method,
            "client": client[:12],
        },
    )


def _refusal(request, limit: Limit, now: float):
    language = request.GET.get("lang")
    if language not in {code for code, _name in settings.LANGUAGES}:
        language = translation.get_language()
    retry = _retry_after(limit, now)
    with translation.override(language):
        response = render(
            request, "ratelimited.html", {"language": language, "minutes": math.ceil(retry / 60)}, status=429
        )
    response["Retry-After"] = str(retry)
    response["X-Robots-Tag"] = "noindex, nofollow"
    add_never_cache_headers(response)
    return response


class LinkRateLimitMiddleware:
    """Applies the limits above to the participant-link prefixes and nothing else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(PREFIXES):
            return self.get_response(request)
        client, now = client_key(request), _now()
        if client is None:
            return self.get_response(request)
        try:
            refused = _refusing_limit(client, now)
        except Exception:  # an unreachable cache must not take the participant pages down
            log.warning("link rate limit: cache unavailable, not limiting", exc_info=True)
            return self.get_response(request)
        if refused is not None:
            _audit_once(request, refused, client, now)
            return _refusal(request, refused, now)
        response = self.get_response(request)
        if response.status_code in FAILED_STATUSES:
            try:
                _note_failure(client, now)
            except Exception:
                log.warning("link rate limit: cache unavailable, failure not counted", exc_info=True)
        return response
