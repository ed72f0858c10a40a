"""People for ``seed-scale``: participants (identity encrypted by the model's own fields), their
blind search index, support people, enrolments, consents, intakes and screenings (run through
the screening engine once per kind of answers) and the documents Oregon requires before dosing."""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator
from dataclasses import dataclass

from communitas.core.crypto import blind_token
from communitas.demo import people
from communitas.demo.scale_context import Context
from communitas.demo.scale_plan import Person, ascii_name
from communitas.demo.scale_writer import Table
from communitas.participants import search
from communitas.participants.models import (
    ConsentDecision,
    ConsentSignature,
    Participant,
    ParticipantSearchToken,
    SupportPerson,
)
from communitas.participants.services import PSEUDONYM_ALPHABET
from communitas.programs.models import Enrollment, ParticipantDocument
from communitas.programs.readiness import documents_for
from communitas.safety.models import Intake, Screening, ScreeningDecision
from communitas.safety.screening.decisions import clearable
from communitas.safety.screening.engine import screen
from communitas.safety.screening.intake_form import to_screening

SCOPES = ["participation", "research", "state_reporting", "supportive_touch", "contact_support_people",
          "share_reflections"]  # fmt: skip
CLEAN = {"pregnant": "no", "breastfeeding": "no", "phq9_item9": "0", "harm_ideation": "no", "medications": ""}
INTAKE_VARIANTS: dict[
    str, tuple[dict, int]
] = {  # what people tell us, and how often (the engine decides what it means)
    "clean": ({}, 60),
    "ibuprofen": ({"medications": "ibuprofen"}, 12),
    "levothyroxine": ({"medications": "levothyroxine"}, 8),
    "sertraline": ({"medications": "sertraline"}, 12),  # eligible, with a caution
    "review": ({"conditions": ["seizure_disorder"], "medications": "Lexapro 10 mg"}, 8),  # a clinician clears it
}
EXCLUDED = {"medications": "lithium carbonate 300 mg"}
CLEARED = "Reviewed with the participant's neurologist: seizure-free for 6 years on current treatment; cleared."
DOCUMENTS_PENDING = 2  # applicants whose screening is done have this many documents on file
SUPPORT_COUNTS = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2]


@dataclass(frozen=True)
class ScreeningTemplate:
    answers: dict
    outcome: str
    escalate: bool
    rule_ids: list[str]
    reasons: list[dict]
    rules_version: str


def screening_templates(substance: str, jurisdiction: str, today: datetime.date) -> dict[str, ScreeningTemplate]:
    """Each kind of intake answers, screened once by the real engine."""
    templates = {}
    for name, answers in [*((n, a) for n, (a, _w) in INTAKE_VARIANTS.items()), ("excluded", EXCLUDED)]:
        form = {**CLEAN, "date_of_birth": "1980-01-01", **answers}
        result = screen(to_screening(form, today=today), substance=substance, jurisdiction=jurisdiction)
        data = result.as_dict()
        templates[name] = ScreeningTemplate(
            answers={**CLEAN, **answers},
            outcome=result.outcome,
            escalate=result.escalate,
            rule_ids=[r["rule"] for r in data["reasons"]],
            reasons=data["reasons"],
            rules_version=result.rules_version,
        )
    return templates


def enrollment_status(person: Person, today: datetime.date, administration: datetime.date) -> str:
    if person.kind == "A":
        return "completed" if (today - administration).days > 395 else "enrolled"
    return {"P": "paused", "W": "withdrawn", "X": "withdrawn", "E": "enrolled", "Q": "applicant"}[person.kind]


def _pseudonyms(rng: random.Random, n: int) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        candidate = "P-" + "".join(rng.choice(PSEUDONYM_ALPHABET) for _ in range(6))
        if candidate not in seen:
            seen.add(candidate)
            out.append(candidate)
    return out


def write_participants(ctx: Context) -> None:
    persons = ctx.plan.persons
    ids = ctx.writer.ids(Participant, len(persons))
    pseudonyms = _pseudonyms(ctx.rng, len(persons))
    table = Table(
        Participant,
        ["id", "organization_id", "created_at", "updated_at", "pseudonym", "display_name", "legal_name", "email",
         "phone", "date_of_birth", "preferred_language", "pronouns", "cultural_background", "accessibility_needs",
         "archived_at"],
    )  # fmt: skip
    archived = {}
    for person, pk in zip(persons, ids, strict=True):
        person.pk = pk
        if person.withdrawn_on and (ctx.plan.today - person.withdrawn_on).days > 60 and ctx.rng.random() < 0.3:
            archived[pk] = datetime.datetime.combine(
                person.withdrawn_on + datetime.timedelta(days=30), datetime.time(12), tzinfo=datetime.UTC
            )

    def rows() -> Iterator[tuple]:
        for person, pseudonym in zip(persons, pseudonyms, strict=True):
            yield (
                person.pk, ctx.org_id, person.registered, archived.get(person.pk, person.registered), pseudonym,
                person.display_name, person.legal_name, person.email, person.phone, person.date_of_birth,
                person.language, person.pronouns, person.background, person.accessibility, archived.get(person.pk),
            )  # fmt: skip

    ctx.progress.start("participants", len(persons))
    ctx.writer.write(table, rows(), count_progress=True)
    ctx.progress.finish()
    ctx.counts["archived"] = len(archived)
    _search_tokens(ctx, set(archived))


def _search_tokens(ctx: Context, archived: set[int]) -> None:
    """The blind index a participant search reads (none for archived people, as on archive)."""
    scope = search.scope(ctx.org_id)
    cache: dict[str, str] = {}

    def token(term: str) -> str:
        found = cache.get(term)
        if found is None:
            found = cache[term] = blind_token(scope, term)
        return found

    table = Table(ParticipantSearchToken, ["organization_id", "participant_id", "token"])

    def rows() -> Iterator[tuple]:
        for person in ctx.plan.persons:
            ctx.progress.advance()
            if person.pk in archived:
                continue
            terms = search.index_terms(
                names=[person.display_name, person.legal_name], email=person.email, phone=person.phone
            )
            for value in sorted({token(t) for t in terms}):
                yield (ctx.org_id, person.pk, value)

    ctx.progress.start("search index", len(ctx.plan.persons))
    ctx.writer.write(table, rows())
    ctx.progress.finish()


def write_support_people(ctx: Context) -> None:
    rng = ctx.rng
    table = Table(
        SupportPerson,
        ["organization_id", "created_at", "updated_at", "participant_id", "name", "relationship", "email", "phone",
         "may_contact", "notes"],
    )  # fmt: skip

    def rows() -> Iterator[tuple]:
        for person in ctx.plan.persons:
            ctx.progress.advance()
            for _ in range(rng.choice(SUPPORT_COUNTS)):
                community = rng.choice(list(people.FIRST_NAMES))
                first = rng.choice(people.FIRST_NAMES[community])
                name = f"{first} {rng.choice(people.SURNAMES[community])}"
                email = f"{ascii_name(first)}{rng.randint(10, 99)}@example.org"
                yield (
                    ctx.org_id, person.registered, person.registered, person.pk, name,
                    rng.choice(people.SUPPORT_RELATIONSHIPS), email if rng.random() < 0.7 else "",
                    f"+1 {rng.choice(people.AREA_CODES['cascadia'])} 555 01{rng.randint(0, 99):02d}",
                    rng.random() < 0.65, rng.choice(people.SUPPORT_NOTES),
                )  # fmt: skip

    ctx.progress.start("support people", len(ctx.plan.persons))
    ctx.writer.write(table, rows())
    ctx.progress.finish()


def write_enrollments(ctx: Context) -> None:
    persons, cohorts = ctx.plan.persons, ctx.plan.cohorts
    ctx.enrollment_ids = ctx.writer.ids(Enrollment, len(persons))
    table = Table(
        Enrollment,
        ["id", "organization_id", "created_at", "updated_at", "program_id", "participant_id", "retreat_id", "status",
         "administration_date"],
    )  # fmt: skip

    def rows() -> Iterator[tuple]:
        for person, pk in zip(persons, ctx.enrollment_ids, strict=True):
            cohort = cohorts[person.cohort]
            placed = person.kind in "APWE"
            changed = person.withdrawn_on or cohort.starts_on
            updated = ctx.cap(datetime.datetime.combine(changed, datetime.time(17), tzinfo=datetime.UTC))
            yield (
                pk, ctx.org_id, person.registered, max(updated, person.registered), ctx.program_ids[cohort.program],
                person.pk, ctx.retreat_ids[cohort.index] if placed else None,
                enrollment_status(person, ctx.plan.today, cohort.administration),
                cohort.administration if placed else None,
            )  # fmt: skip

    ctx.progress.start("enrollments", len(persons))
    ctx.writer.write(table, rows(), count_progress=True)
    ctx.progress.finish()


def write_consents(ctx: Context) -> None:
    """Everyone past registration signed the consent document in their language: participation
    always, each other scope with 80% (as in the demo); a few later withdrew research."""
    rng = ctx.rng
    signers = [p for p in ctx.plan.persons if not (p.kind == "Q" and p.step == 0)]
    signature_ids = ctx.writer.ids(ConsentSignature, len(signers))
    signed_at = {}
    for person in signers:
        when = person.registered + datetime.timedelta(hours=rng.randint(1, 240))
        signed_at[person.index] = ctx.cap(when)
    signatures = Table(
        ConsentSignature,
        ["id", "organization_id", "created_at", "updated_at", "participant_id", "document_id", "typed_name",
         "document_hash", "signed_at", "via"],
    )  # fmt: skip

    def signature_rows() -> Iterator[tuple]:
        for person, pk in zip(signers, signature_ids, strict=True):
            document_id, body_hash = ctx.consent_documents.get(person.language, ctx.consent_documents["en"])
            when = signed_at[person.index]
            yield (
                pk, ctx.org_id, when, when, person.pk, document_id, person.display_name, body_hash, when,
                "link" if rng.random() < 0.85 else "staff",
            )  # fmt: skip

    ctx.progress.start("consent signatures", len(signers))
    ctx.writer.write(signatures, signature_rows(), count_progress=True)
    ctx.progress.finish()
    decisions = Table(
        ConsentDecision,
        ["organization_id", "created_at", "updated_at", "participant_id", "signature_id", "scope", "granted",
         "withdrawn_at"],
    )  # fmt: skip

    def decision_rows() -> Iterator[tuple]:
        for person, signature_id in zip(signers, signature_ids, strict=True):
            ctx.progress.advance()
            when = signed_at[person.index]
            for scope in SCOPES:
                granted = scope == "participation" or rng.random() < 0.8
                withdrawn = None
                if granted and scope == "research" and rng.random() < (0.15 if person.kind == "W" else 0.015):
                    withdrawn = ctx.cap(when + datetime.timedelta(days=rng.randint(20, 400)))
                yield (ctx.org_id, when, withdrawn or when, person.pk, signature_id, scope, granted, withdrawn)

    ctx.progress.start("consent decisions", len(signers))
    ctx.writer.write(decisions, decision_rows())
    ctx.progress.finish()


def _intake_variant(rng: random.Random, person: Person) -> str | None:
    """Which intake answers a person gave (None: no intake yet)."""
    if person.kind == "X":
        return "excluded"
    if person.kind == "Q":
        return {0: None, 1: "draft", 2: "review", 3: "clean"}[person.step]
    names = list(INTAKE_VARIANTS)
    return rng.choices(names, weights=[w for _a, w in INTAKE_VARIANTS.values()])[0]


def write_screenings(ctx: Context, substance: str, jurisdiction: str) -> None:
    rng = ctx.rng
    templates = screening_templates(substance, jurisdiction, ctx.plan.today)
    chosen = [(p, v) for p in ctx.plan.persons if (v := _intake_variant(rng, p)) is not None]
    intake_ids = ctx.writer.ids(Intake, len(chosen))
    screened = [(p, v, i) for (p, v), i in zip(chosen, intake_ids, strict=True) if v != "draft"]
    screening_ids = ctx.writer.ids(Screening, len(screened))
    submitted = {p.index: ctx.cap(p.registered + datetime.timedelta(days=rng.randint(2, 12))) for p, _v in chosen}
    intakes = Table(
        Intake,
        ["id", "organization_id", "created_at", "updated_at", "participant_id", "substance", "jurisdiction", "status",
         "answers", "submitted_at"],
    )  # fmt: skip

    def intake_rows() -> Iterator[tuple]:
        for (person, variant), pk in zip(chosen, intake_ids, strict=True):
            template = templates["clean" if variant == "draft" else variant]
            answers = {**template.answers, "date_of_birth": person.date_of_birth.isoformat()}
            when = submitted[person.index]
            if variant == "draft":
                answers = {k: v for k, v in answers.items() if k in ("date_of_birth", "pregnant", "breastfeeding")}
            status = "draft" if variant == "draft" else "submitted"
            yield (
                pk, ctx.org_id, person.registered, when, person.pk, substance, jurisdiction, status, answers,
                None if variant == "draft" else when,
            )  # fmt: skip

    ctx.progress.start("intakes", len(chosen))
    ctx.writer.write(intakes, intake_rows(), count_progress=True)
    ctx.progress.finish()
    _write_screenings(ctx, templates, screened, screening_ids, submitted, substance, jurisdiction)


def _write_screenings(ctx, templates, screened, screening_ids, submitted, substance, jurisdiction) -> None:
    table = Table(
        Screening,
        ["id", "organization_id", "created_at", "updated_at", "participant_id", "intake_id", "substance",
         "jurisdiction", "outcome", "escalate", "rule_ids", "reasons", "rules_version"],
    )  # fmt: skip
    to_clear = []

    def rows() -> Iterator[tuple]:
        for (person, variant, intake_id), pk in zip(screened, screening_ids, strict=True):
            template = templates[variant]
            when = submitted[person.index]
            if template.outcome == "needs_review" and person.kind != "Q":
                to_clear.append((pk, when, clearable(template.reasons)))
            yield (
                pk, ctx.org_id, when, when, person.pk, intake_id, substance, jurisdiction, template.outcome,
                template.escalate, template.rule_ids, template.reasons, template.rules_version,
            )  # fmt: skip

    ctx.progress.start("screenings", len(screened))
    ctx.writer.write(table, rows(), count_progress=True)
    ctx.progress.finish()
    decisions = Table(
        ScreeningDecision,
        ["organization_id", "created_at", "updated_at", "screening_id", "decided_by_id", "decision", "rule_ids",
         "reason"],
    )  # fmt: skip
    clinician = ctx.staff.clinician.pk
    ctx.writer.write(
        decisions,
        (
            (ctx.org_id, ctx.cap(w + datetime.timedelta(days=2)), ctx.cap(w + datetime.timedelta(days=2)), pk,
             clinician, "clear", rules, CLEARED)
            for pk, w, rules in to_clear
        ),
    )  # fmt: skip


def write_documents(ctx: Context, jurisdiction: str) -> None:
    """Every document the jurisdiction requires, for everyone placed at a retreat; applicants
    whose screening is done have the first few."""
    kinds = [d["kind"] for d in documents_for(jurisdiction)]
    coordinator = ctx.staff.coordinator.pk
    table = Table(
        ParticipantDocument,
        ["organization_id", "created_at", "updated_at", "enrollment_id", "kind", "completed_at", "completed_by_id"],
    )

    def rows() -> Iterator[tuple]:
        for person, enrollment_id in zip(ctx.plan.persons, ctx.enrollment_ids, strict=True):
            ctx.progress.advance()
            if person.kind in "APWE":
                done = kinds
            elif person.kind == "Q" and person.step == 3:
                done = kinds[:DOCUMENTS_PENDING]
            else:
                continue
            for n, kind in enumerate(done):
                when = ctx.cap(person.registered + datetime.timedelta(days=7 + n))
                yield (ctx.org_id, when, when, enrollment_id, kind, when, coordinator)

    ctx.progress.start("documents", len(ctx.plan.persons))
    ctx.writer.write(table, rows())
    ctx.progress.finish()
