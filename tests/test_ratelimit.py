"""Rate limits on participant links (/a/, /c/, /join/): per client address, every request and,
more strictly, failed link lookups (token guessing). Past a limit: 429, Retry-After, nothing
written but one audit entry per window."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.utils import timezone

from communitas.community.links import community_link_create
from communitas.core import ratelimit
from communitas.core.models import AuditEntry
from communitas.outcomes.models import AssessmentLink, Response
from communitas.programs import services as programs
from communitas.programs.invitations import token_for as invitation_token
from tests.journey_helpers import oregon_program
from tests.outcomes_helpers import baseline_link

pytestmark = pytest.mark.django_db

VISITOR = "203.0.113.7"  # TEST-NET-3: not loopback, so limited
NEIGHBOUR = "198.51.100.20"
EXCEEDED = "core.link_rate_limit.exceeded"


@pytest.fixture(autouse=True)
def _fresh_counts():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def limits(settings):
    settings.COMMUNITAS_LINK_RATE_PER_MINUTE = 5
    settings.COMMUNITAS_LINK_FAILURE_LIMIT = 3
    return settings


@pytest.fixture
def clock(monkeypatch):
    """Seconds since the epoch as the limiter sees them; starts at the beginning of a window."""
    now = {"t": 1_800_000_000.0}
    monkeypatch.setattr(ratelimit, "_now", lambda: now["t"])
    return now


@pytest.fixture
def visitor():
    return Client(REMOTE_ADDR=VISITOR)


@pytest.fixture
def baseline(org, participant):
    return baseline_link(org, participant)


@pytest.fixture
def space_token(participant, alice):
    return community_link_create(participant=participant, actor=alice)[1]


@pytest.fixture
def invitation_path(org):
    program, _document = oregon_program(org)
    return f"/join/{invitation_token(programs.invitation_create(program=program, actor=None))}/"


def _exceeded():
    return AuditEntry.objects.filter(action=EXCEEDED)


# --- every request ------------------------------------------------------------------------------


def test_it_refuses_a_client_past_the_request_limit_with_429_and_retry_after(limits, clock, visitor, baseline):
    _assessment, _link, token = baseline
    clock["t"] += 15  # 45 seconds left in the minute

    answers = [visitor.get(f"/a/{token}/").status_code for _ in range(5)]
    refused = visitor.get(f"/a/{token}/")

    assert answers == [200] * 5
    assert refused.status_code == 429
    assert refused["Retry-After"] == "45"
    assert "Please wait a moment" in refused.content.decode()
    assert "no-cache" in refused["Cache-Control"] or "no-store" in refused["Cache-Control"]


def test_it_counts_every_participant_prefix_together(limits, clock, visitor, baseline, space_token, invitation_path):
    _assessment, _link, token = baseline
    paths = [f"/a/{token}/", f"/c/{space_token}/", invitation_path] * 2

    statuses = [visitor.get(path).status_code for path in paths]

    assert statuses[:5] == [200] * 5 and statuses[5] == 429


def test_it_lets_the_client_in_again_in_the_next_window(limits, clock, visitor, space_token):
    for _ in range(6):
        visitor.get(f"/c/{space_token}/")
    assert visitor.get(f"/c/{space_token}/").status_code == 429

    clock["t"] += 60

    assert visitor.get(f"/c/{space_token}/").status_code == 200


def test_it_counts_each_address_on_its_own(limits, clock, visitor, space_token):
    for _ in range(6):
        visitor.get(f"/c/{space_token}/")

    assert visitor.get(f"/c/{space_token}/").status_code == 429
    assert Client(REMOTE_ADDR=NEIGHBOUR).get(f"/c/{space_token}/").status_code == 200


def test_it_leaves_staff_pages_and_the_api_alone(limits, clock, org, alice):
    staff = Client(REMOTE_ADDR=VISITOR)
    staff.force_login(alice)

    statuses = {staff.get(path).status_code for path in ["/participants/", "/api/v1/participants", "/healthz"] * 4}

    assert 429 not in statuses


def test_it_does_not_limit_the_machine_itself(limits, clock, client, space_token):
    """Loopback (local tools, health checks, the test client) is exempt by default."""
    statuses = {client.get(f"/c/{space_token}/").status_code for _ in range(10)}
    statuses |= {client.get("/c/forged-token/").status_code for _ in range(10)}

    assert statuses == {200, 404}


def test_it_reads_the_limits_at_request_time_and_zero_turns_one_off(limits, clock, visitor, space_token):
    limits.COMMUNITAS_LINK_RATE_PER_MINUTE = 0

    assert {visitor.get(f"/c/{space_token}/").status_code for _ in range(12)} == {200}


# --- failed link lookups -------------------------------------------------------------------------


def test_it_refuses_a_token_guesser_even_a_working_link_after_the_failure_limit(
    limits, clock, visitor, space_token, baseline
):
    limits.COMMUNITAS_LINK_RATE_PER_MINUTE = 100
    _assessment, _link, token = baseline
    guesses = [visitor.get(path).status_code for path in ["/a/guess-1/", "/c/guess-2/", "/join/guess-3/"]]

    refused = [visitor.get(f"/c/{space_token}/"), visitor.post(f"/a/{token}/", {"item-1": "2"})]

    assert guesses == [404, 404, 404]
    assert [r.status_code for r in refused] == [429, 429]
    assert refused[0]["Retry-After"] == "600"
    clock["t"] += 600
    assert visitor.get(f"/c/{space_token}/").status_code == 200


def test_it_counts_expired_and_revoked_links_as_failures(limits, clock, visitor, baseline, alice):
    limits.COMMUNITAS_LINK_RATE_PER_MINUTE = 100
    limits.COMMUNITAS_LINK_FAILURE_LIMIT = 2
    _assessment, link, token = baseline
    AssessmentLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(days=1))

    statuses = [visitor.get(f"/a/{token}/").status_code for _ in range(3)]

    assert statuses == [410, 410, 429]


def test_working_links_do_not_count_as_failures(limits, clock, visitor, space_token):
    limits.COMMUNITAS_LINK_RATE_PER_MINUTE = 100

    statuses = {visitor.get(f"/c/{space_token}/").status_code for _ in range(20)}

    assert statuses == {200}


# --- what a refusal does -------------------------------------------------------------------------


def test_a_refused_post_writes_nothing_but_one_audit_entry(limits, clock, visitor, baseline):
    assessment, _link, token = baseline
    for _ in range(5):
        visitor.get(f"/a/{token}/")
    before = AuditEntry.objects.count()

    saved = visitor.post(f"/a/{token}/save", {"item-1": "2", "item-2": "1"})
    submitted = visitor.post(f"/a/{token}/", {**{f"item-{n}": "0" for n in range(1, 10)}, "action": "submit"})

    assessment.refresh_from_db()
    assert saved.status_code == submitted.status_code == 429
    assert assessment.draft_answers == {}
    assert not Response.objects.filter(assessment=assessment).exists()
    assert AuditEntry.objects.count() == before + 1
    assert _exceeded().count() == 1


def test_it_audits_the_first_refusal_in_a_window_without_token_or_address(limits, clock, visitor, space_token):
    for _ in range(9):
        visitor.get(f"/c/{space_token}/")

    entry = _exceeded().get()
    assert entry.organization_id is None and entry.actor_id is None
    assert entry.data["limit"] == "requests" and entry.data["allowed"] == 5 and entry.data["prefix"] == "/c/"
    stored = repr(entry.data)
    assert space_token not in stored and VISITOR not in stored and space_token[:20] not in stored

    clock["t"] += 60
    for _ in range(6):
        visitor.get(f"/c/{space_token}/")
    assert _exceeded().count() == 2  # a new window, a new crossing


def test_it_audits_each_limit_and_each_client_separately(limits, clock, visitor):
    limits.COMMUNITAS_LINK_RATE_PER_MINUTE = 100
    neighbour = Client(REMOTE_ADDR=NEIGHBOUR)
    for _ in range(5):
        visitor.get("/c/guess/")
        neighbour.get("/a/guess/")

    entries = list(_exceeded().order_by("seq"))
    assert [e.data["limit"] for e in entries] == ["failed_links", "failed_links"]
    assert entries[0].data["client"] != entries[1].data["client"]


def test_the_refusal_page_meets_the_strict_csp_and_speaks_spanish(limits, clock, visitor, space_token):
    for _ in range(5):
        visitor.get(f"/c/{space_token}/")

    page = visitor.get(f"/c/{space_token}/?lang=es")
    html = page.content.decode()

    assert page.status_code == 429
    assert '<html lang="es">' in html
    assert "'unsafe-inline'" not in page["Content-Security-Policy"]
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
    assert re.search(r"<style\b|\sstyle\s*=|\son[a-z]+\s*=", html) is None
    assert page["X-Robots-Tag"] == "noindex, nofollow"


# --- the client's address ----------------------------------------------------------------------

rf = RequestFactory()


def _ip(settings, proxies: int, forwarded: str | None, remote: str = "10.0.0.2") -> str:
    settings.COMMUNITAS_TRUSTED_PROXY_COUNT = proxies
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return ratelimit.client_ip(rf.get("/c/x/", **meta))


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "10.0.0.2"),  # no proxy: the header is the client's own words
        (1, None, "10.0.0.2"),
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # a spoofed entry on the left is ignored
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.9", "198.51.100.1"),  # the outer proxy's entry
        (2, "198.51.100.1", "198.51.100.1"),  # fewer entries than proxies: the leftmost
        (1, "not-an-address", "10.0.0.2"),
        (1, " 2001:db8::1 ", "2001:db8::1"),
    ],
)
def test_it_takes_the_address_the_trusted_proxies_saw(settings, proxies, forwarded, expected):
    assert _ip(settings, proxies, forwarded) == expected


def test_behind_a_proxy_clients_are_limited_one_by_one(limits, clock, settings, space_token):
    settings.COMMUNITAS_TRUSTED_PROXY_COUNT = 1
    proxy = Client(REMOTE_ADDR="127.0.0.1")

    for _ in range(5):
        proxy.get(f"/c/{space_token}/", HTTP_X_FORWARDED_FOR=f"1.2.3.4, {VISITOR}")

    assert proxy.get(f"/c/{space_token}/", HTTP_X_FORWARDED_FOR=f"9.9.9.9, {VISITOR}").status_code == 429
    assert proxy.get(f"/c/{space_token}/", HTTP_X_FORWARDED_FOR=NEIGHBOUR).status_code == 200


def test_it_counts_an_ipv6_client_by_its_64_network():
    one = ratelimit.client_key(rf.get("/c/x/", REMOTE_ADDR="2001:db8:1:2::1"))
    same = ratelimit.client_key(rf.get("/c/x/", REMOTE_ADDR="2001:db8:1:2:ffff::9"))
    other = ratelimit.client_key(rf.get("/c/x/", REMOTE_ADDR="2001:db8:1:3::1"))

    assert one == same != other
    assert one is not None and "2001" not in one


def test_it_counts_an_ipv4_client_of_a_dual_stack_socket_by_its_ipv4_address():
    mapped = ratelimit.client_key(rf.get("/c/x/", REMOTE_ADDR="::ffff:203.0.113.7"))
    other = ratelimit.client_key(rf.get("/c/x/", REMOTE_ADDR="::ffff:203.0.113.8"))

    assert mapped == ratelimit.client_key(rf.get("/c/x/", REMOTE_ADDR="203.0.113.7")) != other
    assert ratelimit.client_key(rf.get("/c/x/", REMOTE_ADDR="::ffff:127.0.0.1")) is None


def test_it_does_not_limit_loopback_or_an_unreadable_address():
    assert ratelimit.client_key(rf.get("/c/x/", REMOTE_ADDR="127.0.0.1")) is None
    assert ratelimit.client_key(rf.get("/c/x/", REMOTE_ADDR="::1")) is None
    assert ratelimit.client_key(rf.get("/c/x/", REMOTE_ADDR="")) is None


def test_an_unreachable_cache_lets_participants_through(limits, clock, visitor, space_token, monkeypatch):
    class Down:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise ConnectionError("cache down")

            return fail

    monkeypatch.setattr(ratelimit, "cache", Down())

    assert {visitor.get(f"/c/{space_token}/").status_code for _ in range(7)} == {200}
    assert visitor.get("/c/guess/").status_code == 404


def _redis_up() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _redis_up(), reason="no Redis at 127.0.0.1:6379")
def test_with_a_redis_cache_every_process_reads_one_count(limits, clock, settings, space_token):
    import uuid

    import redis

    prefix = f"communitas-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": prefix,
        }
    }
    server = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        for _ in range(5):
            assert Client(REMOTE_ADDR=VISITOR).get(f"/c/{space_token}/").status_code == 200
        # another worker process sees the same count in Redis and refuses the sixth
        assert server.keys(f"{prefix}:*"), "the counts live in Redis"
        assert Client(REMOTE_ADDR=VISITOR).get(f"/c/{space_token}/").status_code == 429
    finally:
        for key in server.scan_iter(f"{prefix}:*"):
            server.delete(key)
