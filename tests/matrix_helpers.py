"""The cast, the data and the plumbing of the permission matrix (``test_permission_matrix.py``).

- One organization with a member in every role, and a second organization with the same full data
  set, so every URL can be called with an id of the caller's own organization and with the
  equivalent id of the other one. A third organization only exchanges data-sharing agreements with
  both. Everything goes through the services, like real data. Each organization's names carry one
  surname (``OWN`` or ``OTHER``), and every row of the other organization is created after the id
  sequences jump to ``FOREIGN_IDS``: a response leaking it is easy to spot by name or by id.
- The routes, walked from ``communitas.urls`` and the API's OpenAPI schema; how a route's URL,
  query and body are filled from either organization; one request in a savepoint that is rolled
  back, with what it wrote, what it shows and which rows it left pointing across organizations.
"""

from __future__ import annotations

import datetime
import inspect
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from communitas.accounts import services as account_services
from communitas.accounts.middleware import SESSION_ORG_KEY
from communitas.accounts.models import Membership, Organization, User
from communitas.api import api
from communitas.community import circle_services, partner_services, pod_services, reflection_services
from communitas.community.formation_services import formation_run_create
from communitas.community.links import community_link_create
from communitas.community.models import CircleWaitlistEntry, Pod, PodMember
from communitas.compliance.services import client_data_record, organization_rule_pack_add
from communitas.facilitators import services as facilitator_services
from communitas.insights.services import analysis_run_request
from communitas.interop.models import ExportLog
from communitas.interop.research_export import project_create
from communitas.interop.sb303 import Quarter
from communitas.interop.services import export_log_record
from communitas.interop.sharing import agreement_create
from communitas.outcomes import services as outcomes
from communitas.participants.record_services import record_request_create
from communitas.participants.services import support_person_create
from communitas.programs.calendar_services import calendar_feed_create
from communitas.programs.models import Enrollment, Session
from communitas.programs.session_services import (
    circle_create,
    circle_set_members,
    note_add,
    retreat_create,
    retreat_enroll,
    session_plan,
)
from communitas.safety import services as safety
from tests.circle_helpers import series_fields
from tests.facilitator_helpers import add_credential, make_profile
from tests.factories import OrganizationFactory, make_user
from tests.journey_helpers import oregon_program
from tests.session_helpers import make_ready

Role = Membership.Role
OWN, OTHER = "Brightwater", "Quillfeather"
FIRST_NAMES = ("Odalys", "Tobiah", "Wren", "Ismay", "Corvin")
PHQ9 = {str(n): 1 for n in range(1, 10)}
# Principals of the own organization: every role, a facilitator who is a licensed clinician, and a
# coordinator who coordinates the other organization too (signed in to, and with a token for, the own).
CLINICIAN, BOTH = "clinician", "coordinator_of_both"
PRINCIPALS = (*Role.values, CLINICIAN, BOTH)


@dataclass
class World:
    """One organization's data: ``objects`` by the name the matrix fills URL kwargs from."""

    org: Organization
    coordinator: User
    objects: dict = field(default_factory=dict)
    people: list = field(default_factory=list)

    def __getattr__(self, name):
        try:
            return self.__dict__["objects"][name]
        except KeyError:
            raise AttributeError(name) from None

    def sentinels(self) -> list[str]:
        """Strings that only this organization's data contains."""
        people = [p.pseudonym for p in self.people] + [p.email for p in self.people]
        return [self.org.slug, *people]


def _today() -> datetime.date:
    return timezone.localdate()


def _days(n: int) -> datetime.date:
    return _today() + datetime.timedelta(days=n)


def principal(org: Organization, role: str, *, also: Organization | None = None) -> User:
    """A member of ``org`` in ``role`` (``CLINICIAN``: a facilitator who is a licensed clinician;
    ``BOTH``: a coordinator of ``org`` and of ``also``)."""
    real = {CLINICIAN: Role.FACILITATOR, BOTH: Role.COORDINATOR}.get(role, role)
    user = make_user(org, real, email=f"{role}@{org.slug}.example")
    if role == CLINICIAN:
        Membership.objects.filter(user=user, organization=org).update(is_clinician=True)
    if role == BOTH and also is not None:
        account_services.membership_create(user=user, organization=also, role=Role.COORDINATOR)
    return user


def partner_organization() -> tuple[Organization, User, list]:
    """The third organization: it shares one participant with each of the others."""
    org = OrganizationFactory(name="Juniper Research Site", slug="matrix-juniper", kind="research_site")
    coordinator = principal(org, Role.COORDINATOR)
    program, document = oregon_program(org, name="Juniper study")
    person = make_ready(program, document, coordinator, display_name="Juniper Person", preferred_language="en")
    return org, coordinator, [person]


def build_world(org: Organization, coordinator: User, facilitator: User, surname: str, partner) -> World:
    """Every kind of object a URL names, in ``org``; ``facilitator`` facilitates its circle."""
    world = World(org=org, coordinator=coordinator)
    _people_and_program(world, facilitator, surname)
    _circle(world, surname)
    _outcomes_and_safety(world, surname)
    _community(world, surname)
    _records_and_reports(world, surname, partner)
    return world


def _people_and_program(world: World, facilitator: User, surname: str) -> None:
    org, actor, o = world.org, world.coordinator, world.objects
    program, document = oregon_program(org, name=f"{surname} psilocybin program")
    profile = make_profile(org, actor, display_name=f"Ana {surname}", user=facilitator, languages=["en", "es"])
    o["credential"] = add_credential(profile, actor)
    people = [
        make_ready(
            program,
            document,
            actor,
            display_name=f"{first} {surname}",
            email=f"{first.lower()}@{surname.lower()}.example",
            preferred_language="en",
            accessibility_needs=f"A quiet room, please ({first} {surname}).",
        )
        for first in FIRST_NAMES
    ]
    world.people = people
    o.update(program=program, document=document, profile=profile, participant=people[0], participant2=people[1])
    o["support_person"] = _support_person(people[0], surname)
    o["enrollment"] = Enrollment.objects.get(program=program, participant=people[0])
    start = timezone.now() + datetime.timedelta(hours=1)
    o["session"] = session_plan(
        program=program,
        actor=actor,
        kind="preparation",
        title=f"{surname} preparation",
        planned_start=start,
        planned_end=start + datetime.timedelta(hours=1),
        facilitators=[profile],
        participants=people[:3],
    )
    o["supervision"] = facilitator_services.supervision_entry_add(
        profile=profile, actor=actor, supervisor=actor, met_on=_today(), minutes=60, notes=f"Supervised ({surname})."
    )
    o["note"] = note_add(
        participant=people[0], author=facilitator, body=f"Breathed through it ({surname}).", session=o["session"]
    )


def _support_person(participant, surname: str):
    return support_person_create(
        participant=participant, actor=None, name=f"Sam {surname}", relationship="friend", may_contact=True
    )


def _circle(world: World, surname: str) -> None:
    actor, o, people = world.coordinator, world.objects, world.people
    retreat = retreat_create(
        program=o["program"],
        actor=actor,
        name=f"{surname} retreat",
        starts_on=_days(-10),
        ends_on=_days(-7),
        capacity=30,
    )
    for person in people:
        retreat_enroll(retreat=retreat, participant=person, actor=actor)
    circle = circle_create(program=o["program"], actor=actor, name=f"{surname} circle", capacity=3, retreat=retreat)
    circle_set_members(circle=circle, actor=actor, participants=people[:3], facilitators=[o["profile"]])
    circle_services.circle_join(circle=circle, participant=people[3], actor=actor)  # full: waitlisted
    series = circle_services.series_create(
        circle=circle, actor=actor, **series_fields(title=f"{surname} meeting", meeting_count=3)
    )
    circle_services.agreement_publish(circle=circle, actor=actor, body=f"We listen. ({surname})")
    o.update(
        retreat=retreat,
        circle=circle,
        series=series,
        waitlist_entry=CircleWaitlistEntry.objects.get(circle=circle),
        meeting=Session.objects.filter(series_meeting__series=series).order_by("planned_start").first(),
    )
    o["formation_run"] = formation_run_create(retreat=retreat, actor=actor, time_limit_s=1, min_sizes={circle.pk: 0})


def _outcomes_and_safety(world: World, surname: str) -> None:
    actor, o = world.coordinator, world.objects
    outcomes.schedule_set(program=o["program"], instrument_code="phq9", actor=None)
    planned = outcomes.enrollment_anchor_set(enrollment=o["enrollment"], administration_date=_days(7), actor=None)
    response, _created = outcomes.response_submit(assessment=planned[0], answers=PHQ9, language="en", source="staff")
    o.update(assessment=planned[1], response=response, score=response.score)
    o["assessment_link"] = outcomes.assessment_link_create(assessment=planned[1], actor=None)
    o["alert"] = safety.safety_alert_raise(
        participant=o["participant"],
        flag="matrix_check",
        summary=f"Call back about the PHQ-9 ({surname})",
        source=response,
    )
    o["adverse_event"] = safety.adverse_event_record(
        participant=o["participant"],
        actor=actor,
        jurisdiction="US-OR",
        session_ref="Saturday circle",
        during_administration=False,
        kind="behavioral",
        onset_at=timezone.now() - datetime.timedelta(hours=3),
        description=f"{surname} felt anxious.",
        severity="mild",
        serious=False,
        emergency_services=False,
        outcome="resolved",
        relatedness="possible",
    )
    o["follow_up"] = safety.follow_up_add(
        event=o["adverse_event"], actor=actor, title=f"Call {surname} back", due_on=_days(3), assigned_to=actor
    )


def _community(world: World, surname: str) -> None:
    org, actor, o, people = world.org, world.coordinator, world.objects, world.people
    link, token = community_link_create(participant=o["participant"], actor=actor)
    o.update(community_link=link, space_token=token)
    o["reflection"] = reflection_services.reflection_create(
        participant=o["participant"], body=f"A quiet morning by the river ({surname}).", visibility="my_facilitators"
    )
    o["neighbour_reflection"] = reflection_services.reflection_create(
        participant=people[1], body=f"Not yours to change ({surname}).", visibility="my_circle"
    )
    pod_services.pods_propose(retreat=o["retreat"], actor=actor)
    pod_services.pods_send(retreat=o["retreat"], actor=actor)
    o["pod"] = Pod.objects.get(retreat=o["retreat"], members__participant=o["participant"])
    accepted = [
        pod_services.pod_respond(member=member, accept=True)
        for member in PodMember.objects.filter(pod=o["pod"]).order_by("pk")
    ]
    o["check_in"] = pod_services.check_in_log(
        member=accepted[0], on=_today(), mode="call", note=f"We talked about sleep ({surname}).", note_shared=True
    )
    o["never_together"] = pod_services.never_together_record(
        first=people[3], second=people[4], reason="conflict", actor=actor
    )
    partner = partner_services.partner_create(
        organization=org, actor=actor, name=f"{surname} Integration Clinic", kind="clinic", languages=["en"]
    )
    contribution = partner_services.contribution_create(
        partner=partner, actor=actor, title=f"{surname} songs", kind="knowledge", governance_note="Circle use only."
    )
    o.update(partner=partner, contribution=contribution)
    o["approval"] = partner_services.approval_record(
        contribution=contribution,
        actor=actor,
        approved_by_name=f"Elder {surname}",
        scope="export",
        approved_on=_today(),
    )
    o["referral"] = partner_services.referral_create(participant=o["participant"], partner=partner, actor=actor)
    membership = Membership.objects.get(user=actor, organization=org)
    o["calendar_feed"], _raw = calendar_feed_create(membership=membership, actor=actor, facilitator=o["profile"])


def _records_and_reports(world: World, surname: str, partner) -> None:
    org, actor, o = world.org, world.coordinator, world.objects
    partner_org, partner_actor, partner_people = partner
    o["record_request"] = record_request_create(
        participant=o["participant"], kind="correction", text=f"Fix my name ({surname})."
    )
    client_data_record(participant=o["participant"], answers={"veteran": "yes"}, withheld=False, actor=actor)
    o["rule_pack"] = organization_rule_pack_add(actor=actor, organization=org, data=rule_pack(surname))
    o["analysis_run"] = analysis_run_request(program=o["program"], instrument_code="phq9", actor=actor, enqueue=False)
    o["export_log"] = export_log_record(
        organization_id=org.pk,
        kind=ExportLog.Kind.REDCAP,
        via="web",
        actor=actor,
        fields=["record_id"],
        rows=1,
        content="x",
    )
    o["research_project"] = project_create(organization=org, name=f"{surname} study", actor=actor)
    dates = {"starts_on": _today(), "ends_on": _days(30), "scopes": ["participation"]}
    o["agreement_owned"] = agreement_create(
        organization=org,
        actor=actor,
        recipient=partner_org,
        title=f"{surname} to Juniper",
        participant_ids=[o["participant"].pk],
        **dates,
    )
    o["agreement_received"] = agreement_create(
        organization=partner_org,
        actor=partner_actor,
        recipient=org,
        title=f"Juniper to {surname}",
        participant_ids=[p.pk for p in partner_people],
        **dates,
    )
    o["spare_token"], _raw = account_services.api_token_create(user=actor, organization=org, name="spare")


def rule_pack(surname: str) -> dict:
    return {
        "jurisdiction": "US-CO",
        "name": f"{surname} staffing policy",
        "substance": "psilocybin",
        "unit": "mg psilocin",
        "effective_from": "2026-01-01",
        "sources": {"POL": "Written staffing policy v3 (2026-01-01)"},
        "group_ratio": {
            "rule": "POL-RATIO",
            "bands": [{"min_mg": 0, "clients_per_facilitator": 4, "source": "POL", "effective_from": "2026-01-01"}],
        },
        "documents": [],
    }


# --- routes, requests and what they show ----------------------------------------------------------

Pred = Callable[[Membership, Any], bool]  # (the caller's membership, the caller's world) -> allowed

# URL kwargs -> the world object whose id fills them (unless a route says otherwise), and the
# kwargs that are not ids (the same for every caller).
KWARG_OBJECTS = {
    "participant_id": "participant",
    "person_id": "support_person",
    "request_id": "record_request",
    "program_id": "program",
    "enrollment_id": "enrollment",
    "retreat_id": "retreat",
    "circle_id": "circle",
    "session_id": "session",
    "feed_id": "calendar_feed",
    "assessment_id": "assessment",
    "alert_id": "alert",
    "event_id": "adverse_event",
    "task_id": "follow_up",
    "profile_id": "profile",
    "credential_id": "credential",
    "pack_id": "rule_pack",
    "series_id": "series",
    "entry_id": "waitlist_entry",
    "run_id": "formation_run",
    "partner_id": "partner",
    "contribution_id": "contribution",
    "approval_id": "approval",
    "referral_id": "referral",
    "pod_id": "pod",
    "pair_id": "never_together",
    "link_id": "community_link",
    "agreement_id": "agreement_owned",
    "token_id": "spare_token",
    "response_id": "response",
    "score_id": "score",
    "reflection_id": "reflection",
}
CONSTANT_KWARGS = {
    "code": "phq9",
    "quarter": Quarter.of(timezone.localdate()).previous().label,
    "programs:session_action action": "start",
    "community:waitlist_action action": "confirm",
    "POST /community/waitlist/{entry_id}/{action} action": "confirm",
}


# --- the routes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # a page's URL name (its path when unnamed), or "METHOD /path" of an API operation
    template: str  # the URL with {kwarg} placeholders
    kwargs: tuple[str, ...]
    method: str = "GET"
    view: Any = field(default=None, compare=False)


def _walk(patterns, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace]))
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        else:
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield prefix + str(pattern.pattern), name or prefix + str(pattern.pattern), pattern


def placeholders(django_path: str) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", django_path)


URL_PATTERNS = list(_walk(get_resolver().url_patterns))
API_PREFIX = "/api/v1"
OPENAPI = api.get_openapi_schema(path_prefix="")
API_OPERATIONS = [
    (method.upper(), path, operation)
    for path, operations in OPENAPI["paths"].items()
    for method, operation in operations.items()
]


SIGNED_LINK_PREFIXES = ("a/", "join/", "c/", "calendar/")


def is_signed_link(template: str) -> bool:
    return template.startswith(SIGNED_LINK_PREFIXES)


def page_routes(exempt) -> list[Route]:
    """Every page but the exempt ones and the signed-link pages (no role: the link is the credential)."""
    routes = {}
    for template, name, pattern in URL_PATTERNS:
        if template.startswith("api/") or name in exempt or is_signed_link(template):
            continue
        path = placeholders(template)
        routes[name] = Route(name, path, tuple(re.findall(r"{(\w+)}", path)), view=pattern.callback)
    return list(routes.values())


def api_routes(*, safe: bool) -> list[Route]:
    return [
        Route(f"{method} {path}", API_PREFIX + path, tuple(re.findall(r"{(\w+)}", path)), method)
        for method, path, _op in API_OPERATIONS
        if (method == "GET") == safe
    ]


# --- the cast ------------------------------------------------------------------------------------


@dataclass
class Cast:
    own: Any
    other: Any
    members: dict[str, Membership]
    clients: dict[str, Client]
    tokens: dict[str, dict]
    sentinels: list[bytes]
    secrets: dict[bytes, tuple[Pred, frozenset]]
    baseline: tuple = ()  # the row counts every request starts from (each one is rolled back)
    requests: Counter = field(default_factory=Counter)


def build_cast(secrets) -> Cast:
    partner = partner_organization()
    own_org = OrganizationFactory(name=f"{OWN} Service Center", slug="matrix-own")
    # created before the ids jump: its name and id are in the organization menu of BOTH
    other_org = OrganizationFactory(name="Stillwater Retreats", slug="matrix-other")
    users = {p: principal(own_org, p, also=other_org) for p in PRINCIPALS}
    own = build_world(own_org, users[Role.COORDINATOR], users[Role.FACILITATOR], OWN, partner)
    members = {
        p: Membership.objects.select_related("user", "organization").get(user=u, organization=own_org)
        for p, u in users.items()
    }
    clients, tokens = {"anonymous": Client()}, {"anonymous": {}}
    for p, user in users.items():
        clients[p] = Client()
        clients[p].force_login(user)
        session = clients[p].session
        session[SESSION_ORG_KEY] = own_org.pk
        session.save()
        _token, raw = account_services.api_token_create(user=user, organization=own_org, name="matrix")
        tokens[p] = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    jump_id_sequences(FOREIGN_IDS)  # from here on, every row belongs to the other organization
    other_staff = principal(other_org, Role.COORDINATOR), principal(other_org, Role.FACILITATOR)
    other = build_world(other_org, *other_staff, OTHER, partner)
    sentinels = [OTHER.encode(), *(s.encode() for s in other.sentinels())]
    return Cast(own, other, members, clients, tokens, sentinels, secrets(own), baseline=_counts())


# --- one request ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    status: int
    body: bytes = b""
    location: str = ""
    written: bool = False
    error: str = ""
    crossed: tuple = ()  # tables where a row now points at another organization's row
    foreign_ids: frozenset = frozenset()  # the other organization's row ids the body shows


COUNTED_TABLES = (
    "core_auditentry",
    "interop_exportlog",
    "participants_participant",
    "participants_supportperson",
    "programs_enrollment",
    "programs_session",
    "community_circlewaitlistentry",
    "community_reflection",
    "insights_analysisrun",
    "community_formationrun",
    "community_pod",
    "community_referral",
    "interop_datasharingagreement",
    "accounts_apitoken",
)
COUNTS_SQL = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {t})" for t in COUNTED_TABLES)


def _counts() -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(COUNTS_SQL)
        return cursor.fetchone()


def _tenant_link_queries() -> list[str]:
    """One query per foreign key between two organization-scoped tables (and per many-to-many
    table joining two): the rows whose two ends belong to different organizations."""
    q = connection.ops.quote_name

    def scoped(model) -> bool:
        return any(f.attname == "organization_id" for f in model._meta.concrete_fields)

    queries = []
    for model in apps.get_models(include_auto_created=True):
        table = model._meta.db_table
        links = [f for f in model._meta.concrete_fields if f.many_to_one and scoped(f.related_model)]
        ends = [(f, f.related_model._meta.db_table, f.related_model._meta.pk.column) for f in links]
        if scoped(model):
            queries += [
                f"SELECT '{table}.{f.column}' FROM {q(table)} a JOIN {q(other)} b ON a.{q(f.column)} = b.{q(pk)} "
                "WHERE a.organization_id <> b.organization_id"
                for f, other, pk in ends
            ]
        elif model._meta.auto_created and len(ends) == 2:
            (f1, t1, pk1), (f2, t2, pk2) = ends
            queries.append(
                f"SELECT '{table}' FROM {q(table)} a JOIN {q(t1)} b ON a.{q(f1.column)} = b.{q(pk1)} "
                f"JOIN {q(t2)} c ON a.{q(f2.column)} = c.{q(pk2)} WHERE b.organization_id <> c.organization_id"
            )
    return queries


def cross_tenant_links() -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(_tenant_link_queries()))
        return tuple(sorted({row[0] for row in cursor.fetchall()}))


def call(
    cast: Cast, who: str, method: str, url: str, *, api_call: bool = False, body=None, links: bool = False
) -> Outcome:
    """One request in a savepoint rolled back afterwards; an exception is a 500. ``written``
    compares the row counts with the cast's baseline (a test that writes outside ``call`` must not
    rely on it). With ``links``, also which rows the request left pointing across organizations."""
    client = cast.clients["anonymous" if api_call else who]
    kwargs: dict = dict(cast.tokens[who]) if api_call else {}
    if body is not None:
        if api_call:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        else:
            kwargs["data"] = body
    cast.requests[(api_call, method)] += 1
    try:
        with transaction.atomic():
            response = getattr(client, method.lower())(url, **kwargs)
            content = b"".join(response.streaming_content) if response.streaming else response.content
            written = _counts() != cast.baseline
            crossed = cross_tenant_links() if links else ()
            transaction.set_rollback(True)
    except Exception as exc:  # a crash is a finding, reported with the rest
        return Outcome(500, error=f"{type(exc).__name__}: {exc}")
    shown = ids_in(content) if _is_text(response.get("Content-Type", "")) else set()
    foreign = frozenset(shown - ids_in(f"{url} {json.dumps(body, default=str)}".encode()))
    location = response.get("Location", "")
    return Outcome(response.status_code, content, location, written, crossed=crossed, foreign_ids=foreign)


# Every row of the other organization is created after the id sequences jump to FOREIGN_IDS, so any
# such number in a response (a link, a JSON id, a form option) that the request did not carry
# itself is a row of the other organization.
FOREIGN_IDS = 9_100_000
FOREIGN_ID = re.compile(rb"(?<![0-9A-Za-z])91[0-9]{5}(?![0-9A-Za-z])")


def ids_in(text: bytes) -> set[int]:
    return {int(found) for found in FOREIGN_ID.findall(text)}


def _is_text(content_type: str) -> bool:
    return content_type.startswith("text/") or "json" in content_type


def jump_id_sequences(start: int) -> None:
    """Make the next id of every table ``start`` (SQLite and PostgreSQL)."""
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            pk, table = model._meta.pk, model._meta.db_table
            if pk.get_internal_type() not in ("AutoField", "BigAutoField", "SmallAutoField"):
                continue
            if connection.vendor == "postgresql":
                cursor.execute("SELECT setval(pg_get_serial_sequence(%s, %s), %s)", [table, pk.column, start])
            else:
                cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [start, table])
                if cursor.rowcount == 0:
                    cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, start])


def reset_id_sequences() -> None:
    """PostgreSQL sequences ignore the rollback: put them back after the module."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), apps.get_models(include_auto_created=True)):
                cursor.execute(sql)


# --- filling URLs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    label: str  # "own", "other", or "other <slot>" (only that slot from the other organization)
    foreign: frozenset  # the slots filled from the other organization

    @property
    def mixed(self) -> bool:
        """Some ids from each organization: it probes the lookups of callers who get past the role check."""
        return self.label.startswith("other ")

    @property
    def path_foreign(self) -> bool:
        return any(not slot.startswith(("body:", "query:")) for slot in self.foreign)


def slots_of(route: Route, objects: dict, body: dict | None, query: dict) -> dict[str, str]:
    """Each id the request carries -> the world object that fills it."""
    slots = {}
    for kwarg in route.kwargs:
        if _constant(route, kwarg) is None:
            slots[kwarg] = objects.get(kwarg, KWARG_OBJECTS[kwarg])
    for where, values in (("body", body or {}), ("query", query)):
        for ref in _refs(values):
            slots[f"{where}:{ref}"] = ref
    return slots


def _refs(values) -> Iterator[str]:
    """The world objects a body or query names ("@participant"), anywhere in it."""
    if isinstance(values, dict):
        values = list(values.values())
    for value in values if isinstance(values, list) else [values]:
        if isinstance(value, dict | list):
            yield from _refs(value)
        elif isinstance(value, str) and value.startswith("@"):
            yield value[1:]


def _constant(route: Route, kwarg: str) -> str | None:
    return CONSTANT_KWARGS.get(f"{route.key} {kwarg}", CONSTANT_KWARGS.get(kwarg))


def variants(slots: dict) -> list[Variant]:
    found = [Variant("own", frozenset())]
    if slots:
        found.append(Variant("other", frozenset(slots)))
    if len(slots) > 1:
        found += [Variant(f"other {slot}", frozenset({slot})) for slot in slots]
    return found


def _world_for(cast: Cast, variant: Variant, slot: str):
    return cast.other if slot in variant.foreign else cast.own


def fill(cast: Cast, route: Route, slots: dict, variant: Variant, body, query) -> tuple[str, Any]:
    def pk(slot: str) -> int:
        world = _world_for(cast, variant, slot)
        name = slots[slot]
        return world.org.pk if name == "org" else getattr(world, name).pk

    def path_value(match) -> str:
        kwarg = match.group(1)
        return _constant(route, kwarg) or str(pk(kwarg))

    url = re.sub(r"{(\w+)}", path_value, route.template)
    filled_query = _resolve(query, "query", pk)
    if filled_query:
        url += "?" + "&".join(f"{k}={v}" for k, v in filled_query.items())
    return url, _resolve(body, "body", pk) if body is not None else None


def _resolve(values, where: str, pk):
    if isinstance(values, dict):
        return {k: _resolve(v, where, pk) for k, v in values.items()}
    if isinstance(values, list):
        return [_resolve(v, where, pk) for v in values]
    if isinstance(values, str) and values.startswith("@"):
        return pk(f"{where}:{values[1:]}")
    return values


def login_redirect(outcome: Outcome) -> bool:
    return outcome.status == 302 and outcome.location.startswith(reverse("accounts:login"))


def leaks(cast: Cast, outcome: Outcome) -> list[str]:
    return [s.decode() for s in cast.sentinels if s in outcome.body]


def reads_request_data(view) -> bool:
    """Whether a view's own code reads a form, a body or the method (decorators unwrapped)."""
    source = inspect.getsource(inspect.unwrap(view))
    return any(word in source for word in ("request.POST", "request.FILES", "request.body", "request.method"))
