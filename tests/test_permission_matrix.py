"""The permission matrix (issue 9): every URL of the project, called by every role, with the ids of
the caller's own organization and with the equivalent ids of another organization.

The routes are generated, not listed: ``matrix_helpers`` walks ``communitas.urls`` (pages and the
django-ninja API) and reads the methods of each API path from the OpenAPI schema. Each route must
have an expectation below (who may read it, who may write through it), or be exempt with a
reason; a new view without one fails ``test_every_route_is_in_the_matrix``.

The callers: a member of the first organization in every role, a facilitator who is a licensed
clinician, a coordinator of both organizations (signed in to, and with a token for, the first),
and nobody. For every route and every caller:

1. another organization's object answers 403 or 404, never its data: no response shows the other
   organization's names, pseudonyms, emails or row ids (they all start at ``FOREIGN_IDS``);
2. an anonymous caller is sent to the login page (pages) or gets 401 (API);
3. a role the permission predicates deny gets 403 or 404 on its own organization's objects, a role
   they allow gets the page; and some texts of the first organization (names, emails, notes,
   reflections, approvers) reach only the roles that may read them (``secrets``).

Routes naming several objects are also called with one of them from the other organization.
Unsafe methods (POST, PUT, PATCH, DELETE) are sent with minimal bodies by every caller except a
permitted one on their own organization's objects: the answer is a 4xx and nothing is written; a
body naming another organization's object may be refused or ignored, but no row may end up
pointing across organizations. Each request runs in a savepoint that is rolled back.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from communitas.accounts.permissions import can_manage_organization
from communitas.community.circle_permissions import (
    can_manage_community,
    can_open_circles,
    can_see_approvers,
    can_view_contributions,
    can_view_partners,
    can_view_referrals,
)
from communitas.community.permissions import (
    can_manage_pods,
    can_manage_space_links,
    can_read_reflections,
    can_record_never_together,
    can_view_pods,
    sees_all_pods,
)
from communitas.compliance.permissions import (
    can_edit_legal_status,
    can_manage_reporting_settings,
    can_manage_rule_packs,
    can_record_client_data,
    can_view_compliance,
)
from communitas.core.ops_views import can_operate_site
from communitas.facilitators.permissions import (
    can_manage_facilitators,
    can_read_supervision_notes,
    can_view_facilitators,
    can_view_profile,
)
from communitas.insights.permissions import can_read_research
from communitas.interop.permissions import can_file_reports
from communitas.outcomes.permissions import can_manage_assessments, can_view_outcomes
from communitas.participants.permissions import (
    can_decide_record_requests,
    can_destroy_records,
    can_edit_participants,
    can_view_participants,
)
from communitas.programs.calendar_permissions import (
    can_create_facilitator_feed,
    can_revoke_feed,
    can_view_calendar,
)
from communitas.programs.permissions import (
    can_decide_screening,
    can_manage_programs,
    can_view_clinical,
    can_view_roster,
)
from communitas.programs.session_services import circle_set_members
from communitas.safety.permissions import can_handle_alerts, can_record_adverse_events
from tests.facilitator_helpers import make_profile
from tests.matrix_helpers import (
    API_OPERATIONS,
    API_PREFIX,
    KWARG_OBJECTS,
    OTHER,
    PHQ9,
    PRINCIPALS,
    URL_PATTERNS,
    Cast,
    Outcome,
    Pred,
    Role,
    Route,
    api_routes,
    build_cast,
    call,
    cross_tenant_links,
    fill,
    ids_in,
    is_signed_link,
    leaks,
    login_redirect,
    page_routes,
    placeholders,
    reads_request_data,
    reset_id_sequences,
    slots_of,
    variants,
)

# --- expectations --------------------------------------------------------------------------------


def role(predicate) -> Pred:
    return lambda m, w: predicate(m)


ANYONE: Pred = lambda m, w: True  # noqa: E731
NOBODY: Pred = lambda m, w: False  # noqa: E731


def _leads_circle(m, w) -> bool:
    """Coordinators see every circle; a guide sees the circles they facilitate (only ``w.profile``'s)."""
    return can_manage_community(m) or (can_open_circles(m) and m.user_id == w.profile.user_id)


def _sees_pod(m, w) -> bool:
    """Coordinators see every pod; staff see pods holding a member of a circle they facilitate."""
    return sees_all_pods(m) or (can_view_pods(m) and m.user_id == w.profile.user_id)


SAME = object()  # ``write`` defaults to ``read``: whoever may open the form may send it


@dataclass(frozen=True)
class Page:
    read: Pred | None  # who gets ``ok`` for GET with their own ids; None: the page takes POST only
    write: Any = SAME  # who may POST (their own ids); the others get 403/404 and write nothing
    ok: frozenset = frozenset({200})
    query: dict = field(default_factory=dict)  # GET filters; "@name" ids may be ignored when foreign
    body: dict = field(default_factory=dict)  # "@name": that object's id in the caller's or other world
    objects: dict = field(default_factory=dict)  # URL kwarg -> world object, where the default differs


def post_only(write: Pred, **kw) -> Page:
    return Page(read=None, write=write, **kw)


def get_only(read: Pred, **kw) -> Page:
    """A page whose view has no POST branch (checked: its code reads no form): it answers POST like
    GET, which the read matrix covers, so only the anonymous POST is sent."""
    return Page(read=read, write=None, **kw)


V, E, M = role(can_view_participants), role(can_edit_participants), role(can_manage_programs)
CLINICAL, ROSTER, MANAGE_COMMUNITY = role(can_view_clinical), role(can_view_roster), role(can_manage_community)
REPORTERS, RESEARCH = role(can_file_reports), role(can_read_research)
AE, FACILITATOR_MANAGERS = role(can_record_adverse_events), role(can_manage_facilitators)

PAGES: dict[str, Page] = {
    "home": get_only(ANYONE, ok=frozenset({200, 302})),
    "accounts:otp_verify": Page(ANYONE, ok=frozenset({302})),
    "accounts:otp_setup": Page(ANYONE),
    "accounts:switch_organization": post_only(ANYONE, body={"organization": "@org"}),
    "accounts:organization_settings": Page(role(can_manage_organization)),
    "accounts:api_tokens": Page(ANYONE),
    "accounts:api_token_revoke": post_only(lambda m, w: m.user_id == w.spare_token.user_id),
    "participants:list": get_only(V),
    "participants:create": Page(E),
    "participants:detail": get_only(V),
    "participants:edit": Page(E),
    "participants:archive": post_only(E),
    "participants:support_add": post_only(E),
    "participants:support_edit": Page(E),
    "participants:support_remove": post_only(E),
    "participants:record_requests": get_only(role(can_decide_record_requests)),
    "participants:records": get_only(V),
    "participants:record_request_add": post_only(role(can_decide_record_requests)),
    "participants:record_request_decide": post_only(role(can_decide_record_requests)),
    "participants:record_destroy": post_only(role(can_destroy_records)),
    "programs:list": get_only(ROSTER),
    "programs:consent_documents": Page(M),
    "programs:new": Page(M),
    "programs:detail": get_only(CLINICAL),
    "programs:edit": Page(M),
    "programs:invite": post_only(M),
    "programs:settings": post_only(M, body={"registration": "closed", "consent_documents": "@document"}),
    "programs:roster": get_only(ROSTER),
    "programs:enrollment": get_only(CLINICAL),
    "programs:decide": post_only(role(lambda m: can_view_clinical(m) and can_decide_screening(m))),
    "programs:measure": post_only(CLINICAL),
    "programs:document": post_only(M),
    "programs:status": post_only(M),
    "programs:withdraw": post_only(M),
    "programs:retreat_new": Page(M),
    "programs:retreat": get_only(CLINICAL),
    "programs:retreat_enroll": post_only(M, body={"participant": "@participant"}),
    "programs:circle_new": post_only(M),
    "programs:circle": Page(CLINICAL, write=M, body={"members": "@participant", "facilitators": "@profile"}),
    "programs:session_new": Page(M, query={"retreat": "@retreat", "circle": "@circle"}),
    "programs:session": get_only(CLINICAL),
    "programs:session_action": post_only(CLINICAL),
    "programs:calendar": get_only(role(can_view_calendar)),
    "programs:calendar_feeds": Page(
        role(can_view_calendar),
        write=lambda m, w: can_create_facilitator_feed(m, w.profile),
        body={"facilitator": "@profile"},
    ),
    "programs:calendar_feed_revoke": post_only(lambda m, w: can_revoke_feed(m, w.calendar_feed)),
    "outcomes:home": get_only(role(can_view_outcomes)),
    "outcomes:program": get_only(role(can_view_outcomes)),
    "outcomes:anchor": post_only(role(can_manage_assessments)),
    "outcomes:participant": get_only(role(can_view_outcomes)),
    "outcomes:link": post_only(role(can_manage_assessments)),
    "safety:alerts": get_only(role(can_handle_alerts)),
    "safety:alert": Page(role(can_handle_alerts)),
    "safety:settings": Page(role(can_manage_organization)),
    "safety:adverse_events": get_only(AE),
    "safety:adverse_event_record": Page(AE),
    "safety:adverse_event": get_only(AE),
    "safety:follow_up_add": post_only(AE),
    "safety:follow_up_complete": post_only(AE),
    "safety:follow_ups_overdue": get_only(AE),
    "facilitators:list": get_only(role(can_view_facilitators)),
    "facilitators:create": Page(FACILITATOR_MANAGERS),
    "facilitators:detail": get_only(lambda m, w: can_view_profile(m, w.profile)),
    "facilitators:edit": Page(FACILITATOR_MANAGERS),
    "facilitators:credential_add": Page(FACILITATOR_MANAGERS),
    "facilitators:credential_verify": post_only(FACILITATOR_MANAGERS),
    "facilitators:training_add": Page(FACILITATOR_MANAGERS),
    "facilitators:competency_add": Page(FACILITATOR_MANAGERS),
    "facilitators:supervision_add": Page(FACILITATOR_MANAGERS),
    "compliance:rule_packs": get_only(role(can_view_compliance)),
    "compliance:rule_pack_add": Page(role(can_manage_rule_packs)),
    "compliance:rule_pack": get_only(role(can_view_compliance)),
    "compliance:legal_status": get_only(role(can_view_compliance)),
    "compliance:legal_status_add": Page(lambda m, w: can_edit_legal_status(m.user)),
    # deployment staff only: background task attempts of every organization (core.ops_views)
    "ops_tasks": get_only(lambda m, w: can_operate_site(m.user)),
    "compliance:client_data": Page(role(can_record_client_data)),
    "compliance:reporting_settings": Page(role(can_manage_reporting_settings)),
    "community:circles": get_only(role(can_open_circles)),
    "community:circle": get_only(_leads_circle),
    "community:series_new": Page(MANAGE_COMMUNITY),
    "community:series_extend": post_only(MANAGE_COMMUNITY),
    "community:series_cancel": post_only(MANAGE_COMMUNITY),
    "community:meeting_cancel": post_only(MANAGE_COMMUNITY, objects={"session_id": "meeting"}),
    "community:agreement_publish": Page(MANAGE_COMMUNITY),
    "community:agreement_record": post_only(MANAGE_COMMUNITY, body={"participant": "@participant"}),
    "community:waitlist": get_only(_leads_circle),
    "community:circle_join": post_only(MANAGE_COMMUNITY, body={"participant": "@participant"}),
    "community:circle_leave": post_only(MANAGE_COMMUNITY, body={"participant": "@participant"}),
    "community:waitlist_offer": post_only(MANAGE_COMMUNITY),
    "community:waitlist_action": post_only(MANAGE_COMMUNITY),
    "community:formation": Page(M),
    "community:matching_profile": Page(M),
    "community:formation_run": get_only(M),
    "community:formation_rerun": post_only(M),
    "community:formation_apply": post_only(M),
    "community:partners": get_only(role(can_view_partners)),
    "community:partner_new": Page(MANAGE_COMMUNITY),
    "community:partner": get_only(role(can_view_partners)),
    "community:partner_edit": Page(MANAGE_COMMUNITY),
    "community:contribution_new": post_only(MANAGE_COMMUNITY),
    "community:contributions": get_only(role(can_view_contributions)),
    "community:contribution": Page(role(can_view_contributions), write=MANAGE_COMMUNITY),
    "community:approval_revoke": post_only(MANAGE_COMMUNITY),
    "community:referrals": Page(role(can_view_referrals), write=MANAGE_COMMUNITY, body={"partner": "@partner"}),
    "community:referral_status": post_only(MANAGE_COMMUNITY),
    "community:pods_home": get_only(role(can_view_pods)),
    "community:retreat_pods": get_only(role(can_view_pods)),
    "community:pods_propose": post_only(role(can_manage_pods)),
    "community:pod_move": post_only(role(can_manage_pods), body={"participant": "@participant", "pod": "@pod"}),
    "community:pods_send": post_only(role(can_manage_pods)),
    "community:pod": get_only(_sees_pod),
    "community:pod_close": post_only(role(can_manage_pods)),
    "community:never_together": Page(
        role(can_record_never_together), body={"first": "@participant", "second": "@participant2", "reason": "conflict"}
    ),
    "community:never_together_remove": post_only(role(can_record_never_together)),
    # peer supporters reach only the people of a circle they facilitate (fixed by the matrix)
    "community:participant_reflections": get_only(
        lambda m, w: can_read_reflections(m) and (can_view_participants(m) or m.user_id == w.profile.user_id)
    ),
    "community:space_links": Page(role(can_manage_space_links)),
    "community:space_link_revoke": post_only(role(can_manage_space_links)),
    "insights:home": get_only(RESEARCH),
    "insights:dashboard": get_only(RESEARCH),
    "insights:analysis_request": post_only(RESEARCH),
    "insights:analysis_panel": get_only(RESEARCH, objects={"run_id": "analysis_run"}),
    "insights:dataset": get_only(RESEARCH),
    "insights:dataset_parquet": get_only(RESEARCH),
    "insights:dictionary": get_only(RESEARCH),
    "reports:home": get_only(REPORTERS),
    "reports:sb303": get_only(REPORTERS),
    "reports:research": Page(
        RESEARCH, body={"project": "@research_project", "columns": "participant", "dates": "days"}
    ),
    "reports:research_project_create": post_only(RESEARCH),
    "reports:redcap": get_only(REPORTERS),
    "reports:fhir": get_only(REPORTERS),
    "reports:fhir_import": Page(REPORTERS),
    "reports:colorado": get_only(REPORTERS, query={"start": "2026-01-01", "end": "2026-03-31"}),
    "reports:sharing": Page(REPORTERS),
    "reports:sharing_revoke": post_only(REPORTERS),
    "reports:sharing_received": get_only(REPORTERS),
    "reports:sharing_bundle": get_only(REPORTERS, objects={"agreement_id": "agreement_received"}),
}

# Routes that take no role: public pages, and the participant's pages reached with a signed link
# (the token is the credential; ``test_signed_link_pages_refuse_a_forged_token`` covers them).
EXEMPT = {
    "healthz": "public health check",
    "accounts:login": "public sign-in page",
    "accounts:logout": "public; ends the caller's session",
    "robots.txt": "public",
    "set_language": "public language switch (django.conf.urls.i18n)",
    "api:openapi-json": "the API description, the same for everyone (test_the_api_description_is_public...)",
    "api:api-root": "django-ninja's docs root; docs are off (docs_url=None)",
}


@dataclass(frozen=True)
class Api:
    allow: Pred  # GET: who reads it with their own ids; unsafe: who may write through it
    body: dict | None = None
    query: dict = field(default_factory=dict)
    objects: dict = field(default_factory=dict)


def _day(n: int = 0) -> str:
    return (timezone.localdate() + datetime.timedelta(days=n)).isoformat()


def _moment(hours: int = 0) -> str:
    return (timezone.now() + datetime.timedelta(hours=hours)).isoformat()


OUTCOMES, FACILITATOR_VIEWERS = role(can_view_outcomes), role(can_view_facilitators)
API: dict[str, Api] = {
    "GET /participants": Api(V),
    "POST /participants": Api(E, {"display_name": "Matrix Probe"}),
    "GET /participants/{participant_id}": Api(V),
    "PATCH /participants/{participant_id}": Api(E, {"pronouns": "they/them"}),
    "DELETE /participants/{participant_id}": Api(E),
    "GET /participants/{participant_id}/support-persons": Api(V),
    "POST /participants/{participant_id}/support-persons": Api(E, {"name": "Matrix Probe", "relationship": "friend"}),
    "GET /participants/{participant_id}/support-persons/{person_id}": Api(V),
    "PATCH /participants/{participant_id}/support-persons/{person_id}": Api(E, {"notes": "probe"}),
    "DELETE /participants/{participant_id}/support-persons/{person_id}": Api(E),
    "GET /instruments": Api(OUTCOMES),
    "GET /instruments/{code}": Api(OUTCOMES),
    "GET /participants/{participant_id}/assessments": Api(OUTCOMES),
    "POST /assessments/{assessment_id}/links": Api(role(can_manage_assessments)),
    "POST /assessments/{assessment_id}/response": Api(
        role(can_manage_assessments), {"answers": PHQ9, "language": "en"}
    ),
    "GET /programs/{program_id}/schedules": Api(OUTCOMES),
    "PUT /programs/{program_id}/schedules/{code}": Api(role(can_manage_assessments), {}),
    "POST /screen": Api(
        V, {"substance": "psilocybin", "jurisdiction": "US-OR", "answers": {"age": 40, "phq9_item9": 0}}
    ),
    "GET /facilitators": Api(FACILITATOR_VIEWERS),
    "POST /facilitators": Api(FACILITATOR_MANAGERS, {"display_name": "Matrix Probe"}),
    "GET /facilitators/{profile_id}": Api(lambda m, w: can_view_profile(m, w.profile)),
    "PATCH /facilitators/{profile_id}": Api(FACILITATOR_MANAGERS, {"bio": "probe"}),
    "GET /facilitators/{profile_id}/credentials": Api(lambda m, w: can_view_profile(m, w.profile)),
    "POST /facilitators/{profile_id}/credentials": Api(
        FACILITATOR_MANAGERS,
        {"kind": "oregon_facilitator_license", "issuing_jurisdiction": "US-OR", "valid_from": _day(-1)},
    ),
    "GET /programs": Api(ROSTER),
    "POST /programs": Api(M, {"name": "Matrix Probe", "substance": "psilocybin", "jurisdiction": "US-OR"}),
    "GET /programs/{program_id}": Api(ROSTER),
    "PATCH /programs/{program_id}": Api(M, {"description": "probe"}),
    "GET /programs/{program_id}/roster": Api(ROSTER),
    "GET /programs/{program_id}/retreats": Api(CLINICAL),
    "POST /programs/{program_id}/retreats": Api(
        M, {"name": "Probe", "starts_on": _day(30), "ends_on": _day(31), "capacity": 5}
    ),
    "GET /retreats/{retreat_id}": Api(CLINICAL),
    "POST /retreats/{retreat_id}/enrollments": Api(M, {"participant_id": "@participant"}),
    "GET /programs/{program_id}/circles": Api(CLINICAL),
    "POST /programs/{program_id}/circles": Api(M, {"name": "Probe", "retreat_id": "@retreat"}),
    "GET /circles/{circle_id}": Api(CLINICAL),
    "PUT /circles/{circle_id}/members": Api(M, {"participant_ids": ["@participant"], "facilitator_ids": ["@profile"]}),
    "GET /programs/{program_id}/sessions": Api(CLINICAL),
    "POST /programs/{program_id}/sessions": Api(
        M,
        {
            "kind": "preparation",
            "title": "Probe",
            "planned_start": _moment(2),
            "planned_end": _moment(3),
            "facilitator_ids": ["@profile"],
            "participants": [{"participant_id": "@participant"}],
        },
    ),
    "GET /sessions/{session_id}": Api(CLINICAL),
    "POST /sessions/{session_id}/start": Api(CLINICAL, {}),
    "POST /sessions/{session_id}/end": Api(CLINICAL, {}),
    "POST /sessions/{session_id}/doses": Api(
        CLINICAL,
        {
            "participant_id": "@participant",
            "product": "Probe",
            "unique_id": "probe-1",
            "amount_mg": "5",
            "kind": "initial",
            "taken_at": _moment(),
        },
    ),
    "POST /sessions/{session_id}/vitals": Api(
        CLINICAL, {"participant_id": "@participant", "taken_at": _moment(), "heart_rate": 70}
    ),
    "GET /compliance/rule-packs": Api(role(can_view_compliance)),
    "POST /compliance/rule-packs": Api(role(can_manage_rule_packs), {"name": "probe"}),
    "GET /compliance/rule-packs/{pack_id}": Api(role(can_view_compliance)),
    "GET /compliance/lawfulness": Api(
        role(can_view_compliance),
        query={"jurisdiction": "US-OR", "substance": "psilocybin", "framework": "licensed_service_center"},
    ),
    "GET /compliance/legal-status": Api(role(can_view_compliance)),
    "POST /compliance/legal-status": Api(
        lambda m, w: can_edit_legal_status(m.user),
        {
            "jurisdiction": "US-WA",
            "substance": "psilocybin",
            "statuses": ["decriminalized"],
            "effective_from": _day(),
            "legal_basis": "probe",
            "source": "probe",
        },
    ),
    "GET /compliance/participants/{participant_id}/client-data": Api(role(can_record_client_data)),
    "POST /compliance/participants/{participant_id}/client-data": Api(role(can_record_client_data), {"withheld": True}),
    "GET /compliance/reporting-settings": Api(role(can_manage_reporting_settings)),
    "PUT /compliance/reporting-settings": Api(
        role(can_manage_reporting_settings), {"opt_out_scope": "everything", "threshold": 11}
    ),
    "GET /community/circles": Api(role(can_open_circles)),
    "GET /community/circles/{circle_id}/series": Api(_leads_circle),
    "POST /community/circles/{circle_id}/series": Api(
        MANAGE_COMMUNITY,
        {
            "mode": "online",
            "meeting_link": "https://meet.example.org/probe",
            "weekday": 1,
            "start_time": "18:30",
            "duration_minutes": 90,
            "time_zone": "America/Los_Angeles",
            "starts_on": _day(14),
            "meeting_count": 1,
        },
    ),
    "GET /community/series/{series_id}": Api(_leads_circle),
    "POST /community/series/{series_id}/extend": Api(MANAGE_COMMUNITY, {"meetings": 1}),
    "POST /community/series/{series_id}/cancel": Api(MANAGE_COMMUNITY),
    "POST /community/meetings/{session_id}/cancel": Api(MANAGE_COMMUNITY, objects={"session_id": "meeting"}),
    "GET /community/circles/{circle_id}/agreement": Api(_leads_circle),
    "POST /community/circles/{circle_id}/agreement": Api(MANAGE_COMMUNITY, {"body": "We listen to each other."}),
    "POST /community/circles/{circle_id}/agreement/acceptances": Api(
        MANAGE_COMMUNITY, {"participant_id": "@participant"}
    ),
    "GET /community/circles/{circle_id}/waitlist": Api(_leads_circle),
    "POST /community/circles/{circle_id}/join": Api(MANAGE_COMMUNITY, {"participant_id": "@participant"}),
    "POST /community/circles/{circle_id}/leave": Api(MANAGE_COMMUNITY, {"participant_id": "@participant"}),
    "POST /community/waitlist/{entry_id}/{action}": Api(MANAGE_COMMUNITY),
    "POST /community/retreats/{retreat_id}/formation-runs": Api(M, {"min_sizes": {}, "time_limit_s": 1}),
    "GET /community/formation-runs/{run_id}": Api(M),
    "POST /community/formation-runs/{run_id}/apply": Api(M),
    "GET /community/retreats/{retreat_id}/pods": Api(role(can_view_pods)),
    "POST /community/retreats/{retreat_id}/pods/proposals": Api(role(can_manage_pods)),
    "POST /community/retreats/{retreat_id}/pods/move": Api(
        role(can_manage_pods), {"participant_id": "@participant", "pod_id": "@pod"}
    ),
    "POST /community/retreats/{retreat_id}/pods/send": Api(role(can_manage_pods)),
    "GET /community/pods/{pod_id}": Api(_sees_pod),
    "POST /community/pods/{pod_id}/close": Api(role(can_manage_pods)),
    "GET /community/pods/{pod_id}/check-ins": Api(_sees_pod),
    "GET /community/never-together": Api(role(can_record_never_together)),
    "POST /community/never-together": Api(
        role(can_record_never_together), {"participant_ids": ["@participant", "@participant2"], "reason": "conflict"}
    ),
    "DELETE /community/never-together/{pair_id}": Api(role(can_record_never_together)),
    "GET /community/partners": Api(role(can_view_partners)),
    "POST /community/partners": Api(MANAGE_COMMUNITY, {"name": "Probe", "kind": "clinic"}),
    "GET /community/partners/{partner_id}": Api(role(can_view_partners)),
    "PATCH /community/partners/{partner_id}": Api(MANAGE_COMMUNITY, {"description": "probe"}),
    "GET /community/participants/{participant_id}/referrals": Api(role(can_view_referrals)),
    "POST /community/participants/{participant_id}/referrals": Api(MANAGE_COMMUNITY, {"partner_id": "@partner"}),
    "POST /community/referrals/{referral_id}/status": Api(MANAGE_COMMUNITY, {"status": "made"}),
    "GET /community/contributions": Api(role(can_view_contributions)),
    "POST /community/partners/{partner_id}/contributions": Api(
        MANAGE_COMMUNITY, {"title": "Probe", "kind": "knowledge"}
    ),
    "GET /community/contributions/{contribution_id}": Api(role(can_view_contributions)),
    "GET /community/contributions/{contribution_id}/use": Api(
        role(can_view_contributions), query={"purpose": "export"}
    ),
    "POST /community/contributions/{contribution_id}/approvals": Api(
        MANAGE_COMMUNITY, {"approved_by_name": "Probe", "scope": "export", "approved_on": _day()}
    ),
    "POST /community/approvals/{approval_id}/revoke": Api(MANAGE_COMMUNITY),
    # as the page: peer supporters reach only members of circles they facilitate
    "GET /community/participants/{participant_id}/reflections": Api(
        lambda m, w: can_read_reflections(m) and (can_view_participants(m) or m.user_id == w.profile.user_id)
    ),
    "GET /fhir/Questionnaire": Api(OUTCOMES),
    "GET /fhir/Questionnaire/{code}": Api(OUTCOMES),
    "GET /fhir/QuestionnaireResponse": Api(OUTCOMES, query={"patient": "@participant"}),
    "GET /fhir/QuestionnaireResponse/{response_id}": Api(OUTCOMES),
    "GET /fhir/Observation": Api(OUTCOMES, query={"patient": "@participant"}),
    "GET /fhir/Observation/{score_id}": Api(OUTCOMES),
    "GET /sharing/agreements": Api(REPORTERS),
    "POST /sharing/agreements": Api(
        REPORTERS,
        {
            "recipient": "matrix-juniper",
            "title": "Probe",
            "participant_ids": ["@participant"],
            "scopes": ["participation"],
            "starts_on": _day(),
            "ends_on": _day(5),
        },
    ),
    "POST /sharing/agreements/{agreement_id}/revoke": Api(REPORTERS),
    "GET /sharing/agreements/{agreement_id}/bundle": Api(REPORTERS, objects={"agreement_id": "agreement_received"}),
}

# --- the cast and their requests ----------------------------------------------------------------


@pytest.fixture(scope="module")
def cast(django_db_setup, django_db_blocker):
    """Both organizations' data, built once for the module inside a transaction rolled back at the end."""
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    immediate = {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=fast, TASKS={"default": immediate, "analysis": immediate}),
    ):
        atomic = transaction.atomic()
        atomic.__enter__()
        quiet = logging.getLogger("django.request")
        level, quiet.level = quiet.level, logging.ERROR  # thousands of expected 403/404 warnings
        started, requests = time.monotonic(), Counter()
        try:
            the_cast = build_cast(secrets)
            requests = the_cast.requests
            yield the_cast
        finally:
            quiet.level = level
            print(  # shown with -s
                f"\npermission matrix: {len(PAGE_ROUTES)} pages, {len(API_READS) + len(API_WRITES)} API operations,"
                f" {len(PRINCIPALS)} roles + anonymous; {sum(requests.values())} requests"
                f" {dict(requests)} in {time.monotonic() - started:.1f} s"
            )
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            reset_id_sequences()


# The status-only roster names the people for retreat, hospitality and peer-support staff.
NAMES_ALSO_ON = frozenset({"programs:roster"})


def secrets(world) -> dict[bytes, tuple[Pred, frozenset]]:
    """What the first organization's own responses show only to some of its roles: text -> (who
    may see it, the routes where whoever opens them may)."""
    names = {p.display_name: (V, NAMES_ALSO_ON) for p in world.people}
    facilitator = lambda m, w: m.user_id == w.profile.user_id  # noqa: E731 - facilitates their circle
    return {
        text.encode(): rule if isinstance(rule, tuple) else (rule, frozenset())
        for text, rule in {
            **names,
            **{p.email: V for p in world.people},
            **{p.accessibility_needs: V for p in world.people},
            world.supervision.notes: lambda m, w: can_read_supervision_notes(m, w.profile),
            world.note.body: lambda m, w: m.user_id == w.note.author_id,  # shared with nobody
            world.check_in.note: NOBODY,  # staff never read check-in notes
            world.support_person.name: V,
            world.adverse_event.description: AE,
            world.alert.summary: role(lambda m: can_handle_alerts(m) or can_view_participants(m)),
            world.approval.approved_by_name: role(can_see_approvers),
            # shared with the facilitators of their circle, and with the circle
            world.reflection.body: facilitator,
            world.neighbour_reflection.body: facilitator,
        }.items()
    }


# --- the checks ---------------------------------------------------------------------------------

DENIED = frozenset({403, 404})


def _overshared(cast: Cast, who: str, outcome: Outcome, route_key: str) -> list[str]:
    member = cast.members.get(who)
    return [
        text.decode()
        for text, (pred, also_on) in cast.secrets.items()
        if text in outcome.body and route_key not in also_on and (member is None or not pred(member, cast.own))
    ]


class Findings(list):
    def __init__(self, route: Route):
        super().__init__()
        self.route = route

    def check(self, ok: bool, cast: Cast, who: str, what: str, outcome: Outcome, expected: str) -> None:
        leaked = leaks(cast, outcome)
        if leaked:
            self.append(f"{who} {what}: shows the other organization's {leaked}")
        if outcome.foreign_ids:
            self.append(f"{who} {what}: shows ids of the other organization's rows {sorted(outcome.foreign_ids)}")
        overshared = _overshared(cast, who, outcome, self.route.key)
        if overshared:
            self.append(f"{who} {what}: shows its role {overshared}")
        if outcome.crossed:
            self.append(f"{who} {what}: linked its rows to the other organization's in {list(outcome.crossed)}")
        if outcome.error:
            self.append(f"{who} {what}: 500 {outcome.error}")
        elif not ok:
            self.append(f"{who} {what}: {outcome.status} {outcome.location}, expected {expected}")

    def done(self) -> None:
        if self:
            pytest.fail(f"{self.route.key}:\n  " + "\n  ".join(self), pytrace=False)


def _page(route: Route) -> Page:
    assert route.key in PAGES, f"{route.key} ({route.template}) has no expectation in PAGES and is not EXEMPT"
    return PAGES[route.key]


def _api(route: Route) -> Api:
    assert route.key in API, f"{route.key} has no expectation in API"
    return API[route.key]


PAGE_ROUTES = page_routes(EXEMPT)
API_READS, API_WRITES = api_routes(safe=True), api_routes(safe=False)


def _foreign_ok(outcome: Outcome) -> bool:
    """An allowed caller naming another organization's object in a form or body on their own
    data: refused, or saved without it; never a link from their rows to the other organization."""
    return outcome.status < 500 and not outcome.crossed


def check_anonymous(cast, findings, method: str, url: str, *, api_call=False, body=None, post_only=False) -> None:
    """Invariant 2, once per route (the login check comes before any lookup)."""
    outcome = call(cast, "anonymous", method, url, api_call=api_call, body=body)
    if api_call:
        ok, expected = outcome.status == 401, "401"
    else:
        ok, expected = login_redirect(outcome) or (post_only and outcome.status == 405), "the login page"
    findings.check(ok and not outcome.written, cast, "anonymous", f"{method} {url}", outcome, expected)


@pytest.mark.django_db
@pytest.mark.parametrize("route", PAGE_ROUTES, ids=lambda r: r.key)
def test_each_role_reads_only_the_pages_it_may(cast, route):
    page, findings = _page(route), Findings(route)
    slots = slots_of(route, page.objects, None, page.query)
    # a POST-only page answers GET with 405 before it looks anything up: its own ids are enough
    for variant in variants(slots) if page.read else variants({}):
        url, _ = fill(cast, route, slots, variant, None, page.query)
        if not variant.foreign:
            check_anonymous(cast, findings, "GET", url, post_only=page.read is None)
        # a POST-only page answers any member's GET with 405 (require_POST): one member is enough
        for who, member in cast.members.items() if page.read else [("coordinator", cast.members["coordinator"])]:
            if variant.mixed and not page.read(member, cast.own):
                continue  # denied outright: the "other" variant already asked
            outcome = call(cast, who, "GET", url)
            if page.read is None:
                ok, expected = outcome.status == 405, "405 (POST only)"
            elif variant.path_foreign:
                ok, expected = outcome.status in DENIED, "403/404 for the other organization's ids"
            elif page.read(member, cast.own):
                ok, expected = outcome.status in page.ok, f"{sorted(page.ok)} (allowed)"
            else:
                ok, expected = outcome.status in DENIED, "403/404 (role denied)"
            findings.check(ok, cast, who, f"GET {url} [{variant.label}]", outcome, expected)
    findings.done()


@pytest.mark.django_db
@pytest.mark.parametrize("route", PAGE_ROUTES, ids=lambda r: r.key)
def test_each_role_writes_only_through_the_pages_it_may(cast, route):
    page, findings = _page(route), Findings(route)
    write = page.read if page.write is SAME else page.write
    if write is None:
        assert not reads_request_data(route.view), f"{route.key} reads a form now: give it a write expectation"
    slots = slots_of(route, page.objects, page.body, {})
    for variant in variants(slots):
        url, body = fill(cast, route, slots, variant, page.body, {})
        if not variant.foreign:
            check_anonymous(cast, findings, "POST", url, body=body)
        for who, member in cast.members.items() if write else ():
            allowed = write(member, cast.own)
            if (allowed and not variant.foreign) or (variant.mixed and not allowed):
                continue  # a permitted write on one's own data (the app's own tests), or a mixed probe of a denied role
            outcome = call(cast, who, "POST", url, body=body, links=allowed)
            if variant.path_foreign or not allowed:
                ok, expected = outcome.status in DENIED and not outcome.written, "403/404, nothing written"
            else:
                ok, expected = _foreign_ok(outcome), "no row linked to the other organization"
            findings.check(ok, cast, who, f"POST {url} {body or ''} [{variant.label}]", outcome, expected)
    findings.done()


@pytest.mark.django_db
@pytest.mark.parametrize("route", API_READS, ids=lambda r: r.key)
def test_each_role_reads_only_the_api_it_may(cast, route):
    spec, findings = _api(route), Findings(route)
    slots = slots_of(route, spec.objects, None, spec.query)
    for variant in variants(slots):
        url, _ = fill(cast, route, slots, variant, None, spec.query)
        if not variant.foreign:
            check_anonymous(cast, findings, "GET", url, api_call=True)
        for who, member in cast.members.items():
            if variant.mixed and not spec.allow(member, cast.own):
                continue
            outcome = call(cast, who, "GET", url, api_call=True)
            if variant.foreign:
                ok, expected = outcome.status in DENIED, "403/404 for the other organization's ids"
            elif spec.allow(member, cast.own):
                ok, expected = outcome.status == 200, "200 (allowed)"
            else:
                ok, expected = outcome.status in DENIED, "403/404 (role denied)"
            findings.check(ok, cast, who, f"GET {url} [{variant.label}]", outcome, expected)
    findings.done()


@pytest.mark.django_db
@pytest.mark.parametrize("route", API_WRITES, ids=lambda r: r.key)
def test_each_role_writes_only_through_the_api_it_may(cast, route):
    spec, findings = _api(route), Findings(route)
    slots = slots_of(route, spec.objects, spec.body, spec.query)
    for variant in variants(slots):
        url, body = fill(cast, route, slots, variant, spec.body, spec.query)
        if not variant.foreign:
            check_anonymous(cast, findings, route.method, url, api_call=True, body=body)
        for who, member in cast.members.items():
            allowed = spec.allow(member, cast.own)
            if (allowed and not variant.foreign) or (variant.mixed and not allowed):
                continue
            outcome = call(cast, who, route.method, url, api_call=True, body=body, links=allowed)
            if variant.path_foreign or not allowed:
                ok, expected = 400 <= outcome.status < 500 and not outcome.written, "4xx, nothing written"
            else:
                ok, expected = _foreign_ok(outcome), "no row linked to the other organization"
            label = f"{route.method} {url} {json.dumps(body) if body else ''} [{variant.label}]"
            findings.check(ok, cast, who, label, outcome, expected)
    findings.done()


# --- coverage and the exempt routes -------------------------------------------------------------


def test_every_route_is_in_the_matrix():
    """A new view or endpoint fails here until it has an expectation (or is exempt with a reason)."""
    pages = {r.key for r in PAGE_ROUTES}
    assert pages - set(PAGES) == set(), "pages without an expectation in PAGES"
    assert set(PAGES) - pages == set(), "expectations for pages that no longer exist"
    api_keys = {r.key for r in API_READS + API_WRITES}
    assert api_keys - set(API) == set(), "API operations without an expectation in API"
    assert set(API) - api_keys == set(), "expectations for API operations that no longer exist"
    documented = {API_PREFIX + path for _method, path, _op in API_OPERATIONS}
    for template, name, _pattern in URL_PATTERNS:
        if template.startswith("api/") and name not in EXEMPT:
            assert placeholders(template) in documented, f"{template} is routed but not in the OpenAPI schema"
    assert set(EXEMPT) <= {name for _t, name, _p in URL_PATTERNS}, "exempt names that no longer exist"


@pytest.mark.django_db
@pytest.mark.parametrize("template", sorted({t for t, _n, _p in URL_PATTERNS if is_signed_link(t)}), ids=lambda t: t)
def test_signed_link_pages_refuse_a_forged_token(cast, template):
    """Pages reached with a participant's signed link take no role: a forged token shows nothing."""
    url = "/" + re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: "1" if m.group(1) == "int" else "forged-token", template)
    for method in ("GET", "POST"):
        outcome = call(cast, "anonymous", method, url, body={} if method == "POST" else None)
        assert outcome.status in {404, 405, 410}, (method, url, outcome.status, outcome.error)
        assert not outcome.written and not leaks(cast, outcome)


SIGNED_ROWS = sorted({t for t, _n, _p in URL_PATTERNS if is_signed_link(t) and "<int:" in t})
NEIGHBOURS = {"reflection_id": "neighbour_reflection"}  # the same organization, another participant


@pytest.mark.django_db
@pytest.mark.parametrize("template", SIGNED_ROWS, ids=lambda t: t)
def test_a_signed_link_reaches_only_its_own_participants_rows(cast, template):
    """A participant's link with the id of another organization's row (or a neighbour's) in the
    URL answers 404 and changes nothing; with their own rows the page works."""
    own, other = cast.own, cast.other

    def url(objects: dict) -> str:
        def value(match) -> str:
            kind, name = match.groups()
            return own.space_token if kind == "str" else str(objects.get(name, getattr(own, KWARG_OBJECTS[name])).pk)

        return "/" + re.sub(r"<(\w+):(\w+)>", value, template)

    kwargs = re.findall(r"<int:(\w+)>", template)
    foreign = [{k: getattr(other, KWARG_OBJECTS[k]) for k in kwargs}]
    foreign += [{k: getattr(own, NEIGHBOURS[k])} for k in kwargs if k in NEIGHBOURS]
    for objects in foreign:
        for method in ("GET", "POST"):
            outcome = call(cast, "anonymous", method, url(objects), body={} if method == "POST" else None)
            assert outcome.status in {404, 405} and not outcome.written, (method, url(objects), outcome.status)
            assert not leaks(cast, outcome) and not outcome.foreign_ids and not outcome.error
    assert call(cast, "anonymous", "GET", url({})).status in {200, 405}


@pytest.mark.django_db
def test_the_api_description_is_public_and_names_no_data(cast):
    outcome = call(cast, "anonymous", "GET", reverse("api:openapi-json"))
    assert outcome.status in {200, 401} and not leaks(cast, outcome)


@pytest.mark.django_db
def test_the_data_set_has_no_row_pointing_at_another_organization(cast):
    """The baseline of the cross-tenant link check: every world is self-contained."""
    assert cross_tenant_links() == ()


@pytest.mark.django_db
def test_the_leak_detector_sees_the_other_organizations_data_on_its_own_pages(cast):
    """A control: signed in to the other organization, its own list shows what the matrix looks for."""
    client = Client()
    client.force_login(cast.other.coordinator)
    outcome = Outcome(200, client.get("/participants/").content)
    assert OTHER in leaks(cast, outcome) and any(p.pseudonym in leaks(cast, outcome) for p in cast.other.people)
    assert cast.other.participant.pk in ids_in(outcome.body)  # its links carry its ids


@pytest.mark.django_db
def test_the_role_checks_see_what_they_look_for(cast):
    """A control for ``secrets``: the people allowed to read them do see them."""
    own = cast.own
    reflections = call(cast, "facilitator", "GET", f"/community/participants/{own.participant.pk}/reflections/")
    detail = call(cast, "coordinator", "GET", f"/participants/{own.participant.pk}/")
    event = call(cast, "facilitator", "GET", f"/safety/adverse-events/{own.adverse_event.pk}/")
    assert own.reflection.body.encode() in reflections.body
    assert own.support_person.name.encode() in detail.body and own.participant.email.encode() in detail.body
    assert own.adverse_event.description.encode() in event.body
    profile = call(cast, "coordinator", "GET", f"/facilitators/{own.profile.pk}/")
    session = call(cast, "facilitator", "GET", f"/programs/{own.program.pk}/sessions/{own.session.pk}/")
    space_pod = call(cast, "anonymous", "GET", f"/c/{own.space_token}/pods/{own.pod.pk}/")
    assert own.supervision.notes.encode() in profile.body and own.note.body.encode() in session.body
    assert own.check_in.note.encode() in space_pod.body  # its members read it; staff never do


# --- what the matrix found ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_peer_supporter_learns_no_name_from_the_reflections_page(cast):
    """Found by the matrix: every peer supporter opened /community/participants/<id>/reflections/
    for any participant of the organization, headed with their name (peer supporters see no
    identified records). Now 404 unless they facilitate one of the person's circles, and then the
    pseudonym and what was shared with them, not the name."""
    own = cast.own
    url = f"/community/participants/{own.participant.pk}/reflections/"
    assert call(cast, Role.PEER_SUPPORTER, "GET", url).status == 404
    peer = make_profile(own.org, own.coordinator, display_name="Kai", user=cast.members[Role.PEER_SUPPORTER].user)
    members = list(own.circle.members.all())
    circle_set_members(circle=own.circle, actor=own.coordinator, participants=members, facilitators=[own.profile, peer])
    page = call(cast, Role.PEER_SUPPORTER, "GET", url)
    assert page.status == 200 and own.reflection.body.encode() in page.body
    assert own.participant.pseudonym.encode() in page.body and own.participant.display_name.encode() not in page.body
