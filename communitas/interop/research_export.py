"""The de-identified research export (issue 8): what a study receives about an organization's
participants, and nothing more.

How each person is protected (research/landscape.md §5: "consistent random codes and a consistent
random date offset per case; field allowlist"; research/regulatory.md §1.8 on small cells):

- **Consent.** Only participants whose newest research consent is a yes that has not been
  withdrawn, read through ``participants.selectors.research_participants`` (archived people are
  never in it), at the moment of the export.
- **Allow-list.** Only the columns in ``ALLOWED_FIELDS`` can be asked for; anything else (names,
  contact details, the organization's own pseudonym, the date of birth, item answers, notes and
  every other free text) is refused with an ``ExportError`` before anything is read or logged.
- **Codes.** A participant is ``R`` + 10 base-32 characters of HMAC-SHA256(project secret,
  ``"<organization id>:<participant id>"``): the same in every export to one project, unlinkable
  across projects (each has its own secret), never the organization's pseudonym. Programs and
  circles get codes keyed the same way (``PRG``/``GRP`` + 6 characters).
- **Dates.** ``dates="days"`` (the default) exports no calendar date at all, only
  ``days_from_baseline``; ``dates="shift"`` also allows the date columns, each moved by the
  participant's own offset: a whole number of days from -182 to -1 or 1 to 182 (never 0), derived
  from HMAC-SHA256(project secret, ``"date-shift:<organization id>:<participant id>"``), so every
  date of one person moves together and intervals are kept.
- **Quasi-identifiers** (``age_band``, ``county``, ``gender``, ``language``; the hierarchies are
  in ``LEVELS``) are generalised by global recoding until every group of participants sharing
  the exported values has at least k members (``anonymise``: every combination of levels is
  tried and the k-anonymous one losing the least detail is kept). If even full generalisation
  cannot reach k (fewer than k people in all), everyone is dropped and counted; a caller may also
  let up to ``max_suppressed`` outliers be dropped instead of coarsening everyone. The achieved k
  (the smallest group) is reported and logged. k defaults to the organization's
  ``ReportingSettings.small_cell_threshold``, else the deployment's (``insights.suppression``).
- **Log.** Every export writes one ``ExportLog`` (who, when, which columns, how many rows, the
  achieved k, the parameters and the SHA-256 of the CSV) and an audit entry
  ``interop.research.exported``.

County and gender come from the participant's newest Oregon 303 Client Data Form
(``compliance.ClientDataForm``); when that form says "do not share my data" (``withheld``) they are
``unknown``, and an older form is not used instead. Language is ``Participant.preferred_language``.

Limits: the k guarantee is over the four quasi-identifiers. Someone who also knows who sat in
which circle, or on which days people answered, could narrow a group further through ``group``
or the outcome rows; export those columns only to projects whose agreement covers that.
"""

from __future__ import annotations

import base64
import csv
import datetime
import hashlib
import hmac
import io
import itertools
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from communitas.accounts.models import Membership, Organization, User
from communitas.community.engagement import engagement_for
from communitas.compliance.models import ClientDataForm, ReportingSettings
from communitas.core.audit import audit_record
from communitas.insights.permissions import can_read_research
from communitas.insights.suppression import threshold
from communitas.interop.models import ExportLog, ResearchProject
from communitas.outcomes.models import Assessment, Response
from communitas.outcomes.schedules import ORDER
from communitas.participants.models import Participant
from communitas.participants.selectors import research_participants
from communitas.programs.models import Circle, Enrollment, Program

SUPPRESSED = "*"
UNKNOWN = "unknown"
MAX_SHIFT_DAYS = 182


class ExportError(ValueError):
    """A request the export refuses (message for the user); nothing is read, written or logged."""


# -- the allow-list ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    name: str
    grain: str  # "participant", "enrollment" (participant x program) or "response"
    type: str
    description: str
    date: bool = False  # a calendar date: only with dates="shift"
    quasi_identifier: bool = False


ALLOWED_FIELDS: tuple[Field, ...] = (
    Field("participant", "participant", "string", "Project code of the participant: R + 10 base-32 characters."),
    Field("age_band", "participant", "string", "Age at the export date, in bands (see generalisation).", False, True),
    Field("county", "participant", "string", "Oregon county, region, Oregon/outside (303 form).", False, True),
    Field("gender", "participant", "string", "Gender identity or a coarser group (303 form).", False, True),
    Field("language", "participant", "string", "Preferred language (primary subtag) or en/other.", False, True),
    Field("engagement", "participant", "number", "Circle sessions attended / offered since their first baseline."),
    Field("circle_sessions_attended", "participant", "integer", "Circle sessions attended since their baseline."),
    Field("circle_sessions_offered", "participant", "integer", "Circle sessions offered since their baseline."),
    Field("program", "enrollment", "string", "Project code of the program: PRG + 6 base-32 characters."),
    Field("group", "enrollment", "string", "Project code of their circle in the program, or solo-<participant>."),
    Field("grouped", "enrollment", "integer", "1 if the participant is in a circle of the program, 0 if not."),
    Field("administration_date", "enrollment", "date", "Administration session date, shifted.", True),
    Field("instrument", "response", "string", "Instrument code (e.g. phq9)."),
    Field("timepoint", "response", "string", "Timepoint code (baseline, week_1, month_1, ...)."),
    Field("wave", "response", "integer", "Order of the timepoint: 0 = baseline."),
    Field("days_from_baseline", "response", "integer", "Days from the baseline due date to this one."),
    Field("date", "response", "date", "Day the answers were submitted, shifted.", True),
    Field("score", "response", "number", "Total score (blank when the response was incomplete)."),
    Field("baseline_score", "response", "number", "The same instrument's baseline total in the program."),
)
FIELDS = {f.name: f for f in ALLOWED_FIELDS}
QUASI_IDENTIFIERS = tuple(f.name for f in ALLOWED_FIELDS if f.quasi_identifier)

NEVER_EXPORTED = {  # why the obvious candidates are not on the allow-list
    **dict.fromkeys(("name", "display_name", "legal_name", "typed_name", "email", "phone", "address"), "identity"),
    "pseudonym": "the organization's own code links back to its records; the project code is 'participant'",
    "id": "a database id links back to the organization's records; the project code is 'participant'",
    "date_of_birth": "identity; use age_band",
    "age": "an exact age is identifying; use age_band",
    "answers": "item answers can hold free text; only scores are exported",
    **dict.fromkeys(
        ("notes", "cultural_background", "accessibility_needs", "reflection", "comment", "pronouns"), "free text"
    ),
}


# -- codes and date shifts -----------------------------------------------------------------------


def _digest(project: ResearchProject, message: str) -> bytes:
    return hmac.new(project.secret.encode(), message.encode(), hashlib.sha256).digest()


def _code(digest: bytes, length: int) -> str:
    return base64.b32encode(digest).decode()[:length]


def participant_code(project: ResearchProject, participant_id: int) -> str:
    return "R" + _code(_digest(project, f"{project.organization_id}:{participant_id}"), 10)


def _object_code(project: ResearchProject, kind: str, pk: int) -> str:
    prefix = {"program": "PRG", "circle": "GRP"}[kind]
    return prefix + _code(_digest(project, f"{kind}:{project.organization_id}:{pk}"), 6)


def date_shift(project: ResearchProject, participant_id: int) -> int:
    """Days (-182..-1 or 1..182) every date of this participant moves by in this project."""
    digest = _digest(project, f"date-shift:{project.organization_id}:{participant_id}")
    value = int.from_bytes(digest[:8], "big") % (2 * MAX_SHIFT_DAYS)
    return value - MAX_SHIFT_DAYS if value < MAX_SHIFT_DAYS else value - MAX_SHIFT_DAYS + 1


# -- quasi-identifier hierarchies (pure) ---------------------------------------------------------

# A simple geographic grouping of whole counties into seven regions (Portland metro, Willamette
# Valley, Coast, Southern, Central, Columbia Gorge and north-central, Eastern), close to the
# regions Oregon agencies and guides commonly use; it is not an official OHA grouping.
REGIONS = {
    "portland_metro": ("multnomah", "washington", "clackamas", "columbia"),
    "willamette_valley": ("marion", "polk", "yamhill", "linn", "benton", "lane"),
    "coast": ("clatsop", "tillamook", "lincoln", "coos", "curry"),
    "southern": ("douglas", "jackson", "josephine", "klamath", "lake"),
    "central": ("deschutes", "crook", "jefferson"),
    "gorge_north_central": ("hood_river", "wasco", "sherman", "gilliam", "wheeler"),
    "eastern": ("morrow", "umatilla", "union", "wallowa", "baker", "grant", "harney", "malheur"),
}
COUNTY_REGION = {county: region for region, counties in REGIONS.items() for county in counties}
GENDER_GROUPS = {
    "woman": "woman",
    "transgender_woman": "woman",
    "man": "man",
    "transgender_man": "man",
    "nonbinary": "another_gender",
    "two_spirit": "another_gender",
    "another": "another_gender",
    "questioning": "another_gender",
}
LEVELS: dict[str, tuple[str, ...]] = {  # what each level of each quasi-identifier means
    "age_band": ("5-year bands", "10-year bands", "20-year bands", "suppressed"),
    "county": ("county", "region", "Oregon or outside Oregon", "suppressed"),
    "gender": ("gender identity", "woman, man or another gender", "suppressed"),
    "language": ("language", "English or another language", "suppressed"),
}


def _age_band(age: int, width: int, top: int) -> str:
    low = age // width * width
    return f"{top}+" if low >= top else f"{low}-{low + width - 1}"


def age_ladder(age: int | None) -> tuple[str, ...]:
    """5-year bands (90+ top-coded), 10-year bands (90+), 20-year bands (80+), suppressed."""
    if age is None:
        return (UNKNOWN, UNKNOWN, UNKNOWN, SUPPRESSED)
    return (_age_band(age, 5, 90), _age_band(age, 10, 90), _age_band(age, 20, 80), SUPPRESSED)


def county_ladder(county: str | None) -> tuple[str, ...]:
    if county == "out_of_state":
        return ("out_of_state", "outside_oregon", "outside_oregon", SUPPRESSED)
    if county not in COUNTY_REGION:  # missing, declined, withheld
        return (UNKNOWN, UNKNOWN, UNKNOWN, SUPPRESSED)
    return (county, COUNTY_REGION[county], "oregon", SUPPRESSED)


def gender_ladder(gender: str | None) -> tuple[str, ...]:
    if gender not in GENDER_GROUPS:  # missing, declined, withheld
        return (UNKNOWN, UNKNOWN, SUPPRESSED)
    return (gender, GENDER_GROUPS[gender], SUPPRESSED)


def language_ladder(tag: str | None) -> tuple[str, ...]:
    primary = (tag or "").split("-")[0].lower() or UNKNOWN
    return (primary, "en" if primary == "en" else "other", SUPPRESSED)


LADDERS: dict[str, Callable[[Any], tuple[str, ...]]] = {
    "age_band": age_ladder,
    "county": county_ladder,
    "gender": gender_ladder,
    "language": language_ladder,
}


def generalise(qi: str, raw, level: int) -> str:
    """The exported value of quasi-identifier ``qi`` for the raw value ``raw`` at ``level``."""
    return LADDERS[qi](raw)[level]


def age_on(born: datetime.date | None, day: datetime.date) -> int | None:
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


# -- k-anonymity by global recoding (pure) -------------------------------------------------------


@dataclass(frozen=True)
class Anonymisation:
    levels: dict[str, int]
    dropped: frozenset
    k_achieved: int | None


def _classes(ladders: Mapping, qis: Sequence[str], levels: Sequence[int]) -> dict:
    return {
        key: tuple(ladder[q][level] for q, level in zip(qis, levels, strict=True)) for key, ladder in ladders.items()
    }


def anonymise(ladders: Mapping, qis: Sequence[str], k: int, *, max_suppressed: int = 0) -> Anonymisation:
    """Full-domain generalisation of ``qis`` over ``ladders`` ({person: {qi: values by level}}) so
    that every class of people sharing the exported values has at least ``k`` members.

    Every combination of levels (the generalisation lattice: 4 x 4 x 3 x 3 = 144 nodes at most)
    is tried, as optimal lattice searches such as Incognito and OLA do; Datafly's greedy (raise
    the quasi-identifier that helps most) was tried first and sometimes over-generalised. Among
    the nodes where at most ``max_suppressed`` people sit in classes smaller than k, the chosen
    one has the smallest discernibility cost (the sum of squared class sizes, each dropped person
    costing the whole cohort; Bayardo & Agrawal 2005), then the fewest dropped, then the lowest
    total level. The people in small classes at that node are dropped. With the default
    ``max_suppressed=0`` nobody is dropped unless even full generalisation fails (fewer than k
    people in all), and then everyone is."""
    if not qis or not ladders:
        return Anonymisation(levels=dict.fromkeys(qis, 0), dropped=frozenset(), k_achieved=None)
    qis = list(qis)
    n = len(ladders)
    lattice = itertools.product(*(range(len(LEVELS[q])) for q in qis))
    best: tuple | None = None
    for levels in lattice:
        keys = _classes(ladders, qis, levels)
        sizes = Counter(keys.values())
        small = frozenset(key for key, cls in keys.items() if sizes[cls] < k)
        if len(small) > max_suppressed:
            continue
        cost = sum(size * size for size in sizes.values() if size >= k) + len(small) * n
        rank = (cost, len(small), sum(levels))
        if best is None or rank < best[0]:
            best = (rank, levels, small, [size for size in sizes.values() if size >= k])
    if best is None:  # fewer than k people in all: nothing can be released
        top = tuple(len(LEVELS[q]) - 1 for q in qis)
        return Anonymisation(levels=dict(zip(qis, top, strict=True)), dropped=frozenset(ladders), k_achieved=None)
    _rank, levels, dropped, kept = best
    return Anonymisation(
        levels=dict(zip(qis, levels, strict=True)), dropped=dropped, k_achieved=min(kept) if kept else None
    )


# -- services ------------------------------------------------------------------------------------


def _require_research_staff(actor: User | None, organization_id: int) -> None:
    """``None`` is the deployment's operator at the command line."""
    if actor is None:
        return
    membership = Membership.objects.filter(user=actor, organization_id=organization_id, is_active=True).first()
    if not actor.is_active or not can_read_research(membership):
        raise PermissionDenied


@transaction.atomic
def project_create(*, organization: Organization, name: str, actor: User | None) -> ResearchProject:
    """A study that will receive exports, with its own secret for codes and date shifts."""
    _require_research_staff(actor, organization.pk)
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ExportError("a research project needs a name of 1 to 200 characters")
    if ResearchProject.objects.filter(organization=organization, name__iexact=name).exists():
        raise ExportError(f"a research project named {name!r} already exists in this organization")
    project = ResearchProject(organization=organization, name=name, secret=secrets.token_urlsafe(32), created_by=actor)
    project.full_clean()
    project.save()
    audit_record(
        action="interop.research_project.created",
        actor=actor,
        organization_id=organization.pk,
        obj=project,
        data={"name": name},
    )
    return project


@dataclass
class ResearchExport:
    columns: list[str]
    rows: list[dict]
    k: int
    k_achieved: int | None
    generalisation: dict[str, dict]  # qi -> {"level": n, "to": what that level means}
    participants: int
    suppressed_participants: int
    log: ExportLog


def _columns(fields: Iterable[str], dates: str) -> list[str]:
    if dates not in ("days", "shift"):
        raise ExportError("dates must be 'days' (days from baseline, no calendar dates) or 'shift'")
    columns = list(dict.fromkeys(fields))
    if not columns:
        raise ExportError("choose at least one field")
    for name in columns:
        if name in NEVER_EXPORTED:
            raise ExportError(f"{name!r} is never exported ({NEVER_EXPORTED[name]})")
        if name not in FIELDS:
            raise ExportError(f"{name!r} is not on the research export allow-list")
        if FIELDS[name].date and dates != "shift":
            raise ExportError(f"{name!r} is a calendar date: export it with dates='shift', or use days_from_baseline")
    return columns


def _threshold(organization_id: int, k: int | None) -> int:
    if k is None:
        setting = ReportingSettings.objects.filter(organization_id=organization_id).first()
        k = setting.small_cell_threshold if setting is not None else threshold()
    if k < 2:
        raise ExportError("k must be at least 2")
    return k


def _check(project: ResearchProject, program: Program | None, via: str, actor: User | None) -> None:
    if via not in ExportLog.Via.values:
        raise ExportError(f"unknown channel {via!r}")
    if actor is None and via != ExportLog.Via.CLI:
        raise PermissionDenied
    _require_research_staff(actor, project.organization_id)
    if program is not None and program.organization_id != project.organization_id:
        raise ExportError("that program belongs to another organization")


@transaction.atomic
def research_export(
    *,
    project: ResearchProject,
    program: Program | None = None,
    fields: Sequence[str],
    dates: str = "days",
    k: int | None = None,
    max_suppressed: int = 0,
    actor: User | None,
    via: str,
) -> ResearchExport:
    """The de-identified export of ``project``'s organization (``program`` only, if given), as
    the module docstring describes. One row per response when a response column is asked for,
    else one per participant and program when a program column is, else one per participant.
    ``max_suppressed`` lets up to that many outliers be dropped rather than coarsen everyone's
    values (Datafly's outlier suppression; default none). Refusals (``ExportError``,
    ``PermissionDenied``) write nothing."""
    columns = _columns(fields, dates)
    _check(project, program, via, actor)
    k = _threshold(project.organization_id, k)
    if max_suppressed < 0:
        raise ExportError("max_suppressed cannot be negative")
    today = timezone.localdate()
    people = _people(project, program)
    qis = [q for q in QUASI_IDENTIFIERS if q in columns]
    ladders = _ladders(people, qis, today)
    result = anonymise(ladders, qis, k, max_suppressed=max_suppressed)
    kept = [p for p in people if p.pk not in result.dropped]
    rows = _rows(project, program, kept, columns, ladders, result.levels, today)
    export = ResearchExport(
        columns=columns,
        rows=rows,
        k=k,
        k_achieved=result.k_achieved,
        generalisation={q: {"level": result.levels[q], "to": LEVELS[q][result.levels[q]]} for q in qis},
        participants=len(kept),
        suppressed_participants=len(result.dropped),
        log=ExportLog(),
    )
    parameters = {"dates": dates, "k": k, "max_suppressed": max_suppressed}
    export.log = _log(export, project=project, program=program, parameters=parameters, actor=actor, via=via)
    return export


def _log(export: ResearchExport, *, project, program, parameters: dict, actor: User | None, via: str) -> ExportLog:
    parameters = {
        "project": project.pk,
        "program": program.pk if program is not None else None,
        **parameters,
        "generalisation": export.generalisation,
        "participants": export.participants,
        "suppressed_participants": export.suppressed_participants,
    }
    log = ExportLog(
        organization_id=project.organization_id,
        kind=ExportLog.Kind.RESEARCH,
        via=via,
        actor=actor,
        fields=export.columns,
        rows=len(export.rows),
        k_achieved=export.k_achieved,
        parameters=parameters,
        sha256=hashlib.sha256(as_csv(export).encode()).hexdigest(),
    )
    log.full_clean()
    log.save()
    audit_record(
        action="interop.research.exported",
        actor=actor,
        organization_id=project.organization_id,
        obj=log,
        data={
            "project": project.pk,
            "fields": export.columns,
            "rows": len(export.rows),
            "k": export.k,
            "k_achieved": export.k_achieved,
            "suppressed_participants": export.suppressed_participants,
        },
    )
    return log


# -- reading the data ----------------------------------------------------------------------------


def _people(project: ResearchProject, program: Program | None) -> list[Participant]:
    consenting = research_participants(project.organization_id)
    if program is not None:
        consenting = consenting.filter(enrollments__program=program)
    return list(consenting.only("pk", "organization_id", "date_of_birth", "preferred_language").order_by("pk"))


def _client_data(ids: list[int]) -> dict[int, dict]:
    """The answers of each participant's newest 303 form, or {} when that form is withheld."""
    newest: dict[int, dict] = {}
    forms = ClientDataForm.objects.filter(participant_id__in=ids).order_by("participant_id", "-created_at", "-id")
    for form in forms.only("participant_id", "withheld", "answers"):
        if form.participant_id not in newest:
            newest[form.participant_id] = {} if form.withheld else dict(form.answers or {})
    return newest


def _ladders(people: list[Participant], qis: list[str], today: datetime.date) -> dict[int, dict]:
    if not qis:
        return {}
    answers = _client_data([p.pk for p in people]) if {"county", "gender"} & set(qis) else {}
    ladders = {}
    for person in people:
        data = answers.get(person.pk, {})
        raw = {
            "age_band": age_on(person.date_of_birth, today),
            "county": data.get("county"),
            "gender": data.get("gender_identity"),
            "language": person.preferred_language,
        }
        ladders[person.pk] = {q: LADDERS[q](raw[q]) for q in qis}
    return ladders


def _grain(columns: list[str]) -> str:
    grains = {FIELDS[c].grain for c in columns}
    return "response" if "response" in grains else "enrollment" if "enrollment" in grains else "participant"


def _rows(project, program, people, columns, ladders, levels, today) -> list[dict]:
    ids = [p.pk for p in people]
    base = {p.pk: _participant_values(project, p, ladders.get(p.pk, {}), levels) for p in people}
    grain = _grain(columns)
    units = [{"participant_id": pid} for pid in ids]
    if grain == "enrollment":
        units = _enrollments(ids, program)
    elif grain == "response":
        units = _responses(ids, program)
    if {"engagement", "circle_sessions_attended", "circle_sessions_offered"} & set(columns):
        _add_engagement(base, ids, program, today)
    circles = _circles(ids, program) if {"group", "grouped"} & set(columns) else {}
    full = [
        {**base[unit["participant_id"]], **_unit_values(project, unit, circles, base[unit["participant_id"]])}
        for unit in units
    ]
    full.sort(key=_order)
    return [{c: values.get(c) for c in columns} for values in full]


def _order(values: dict) -> tuple:
    return (
        values["participant"],
        values.get("program") or "",
        values.get("instrument") or "",
        values.get("wave", -1),
        values.get("days_from_baseline", 0),
        values.get("timepoint") or "",
    )


def _participant_values(project, person: Participant, ladder: dict, levels: dict[str, int]) -> dict:
    values: dict = {"participant": participant_code(project, person.pk)}
    for qi, level in levels.items():
        values[qi] = ladder[qi][level]
    return values


def _unit_values(project, unit: dict, circles: dict, person: dict) -> dict:
    shift = datetime.timedelta(days=date_shift(project, unit["participant_id"]))
    values = {k: v for k, v in unit.items() if k in FIELDS}
    program_id = unit.get("program_id")
    if program_id is not None:
        values["program"] = _object_code(project, "program", program_id)
        circle = circles.get((unit["participant_id"], program_id))
        values["group"] = _object_code(project, "circle", circle) if circle else f"solo-{person['participant']}"
        values["grouped"] = 1 if circle else 0
    for name in ("date", "administration_date"):
        if unit.get(name) is not None:
            values[name] = (unit[name] + shift).isoformat()
    return values


def _enrollments(ids: list[int], program: Program | None) -> list[dict]:
    qs = Enrollment.objects.filter(participant_id__in=ids)
    if program is not None:
        qs = qs.filter(program=program)
    return [
        {"participant_id": pid, "program_id": prog, "administration_date": day}
        for pid, prog, day in qs.order_by("pk").values_list("participant_id", "program_id", "administration_date")
    ]


def _responses(ids: list[int], program: Program | None) -> list[dict]:
    qs = Response.objects.filter(participant_id__in=ids, assessment__cancelled_at__isnull=True)
    if program is not None:
        qs = qs.filter(assessment__enrollment__program=program)
    responses = list(qs.select_related("assessment__enrollment", "score").order_by("participant_id", "pk"))
    baselines = _baseline_days(ids, program)
    totals = {
        _response_key(r): _total(r) for r in responses if r.assessment.timepoint == "baseline" and _total(r) is not None
    }
    units = []
    for r in responses:
        key = _response_key(r)
        program_id = key[1]
        start = baselines.get((r.participant_id, program_id), r.assessment.due_on)
        units.append(
            {
                "participant_id": r.participant_id,
                "program_id": program_id,
                "administration_date": r.assessment.enrollment.administration_date if r.assessment.enrollment else None,
                "instrument": r.instrument_code,
                "timepoint": r.assessment.timepoint,
                "wave": ORDER.get(r.assessment.timepoint, len(ORDER)),
                "days_from_baseline": (r.assessment.due_on - start).days,
                "date": timezone.localdate(r.submitted_at),
                "score": _total(r),
                "baseline_score": totals.get(key),
            }
        )
    return units


def _response_key(response: Response) -> tuple[int, int | None, str]:
    enrollment = response.assessment.enrollment
    return (response.participant_id, enrollment.program_id if enrollment else None, response.instrument_code)


def _total(response: Response) -> float | None:
    score = getattr(response, "score", None)
    return score.total if score is not None and score.complete else None


def _baseline_days(ids: list[int], program: Program | None) -> dict[tuple[int, int | None], datetime.date]:
    """Per participant and program: the baseline due date (else the earliest due date)."""
    qs = Assessment.objects.filter(participant_id__in=ids, cancelled_at__isnull=True)
    if program is not None:
        qs = qs.filter(enrollment__program=program)
    earliest: dict[tuple[int, int | None], datetime.date] = {}
    baseline: dict[tuple[int, int | None], datetime.date] = {}
    for pid, prog, timepoint, due in qs.values_list("participant_id", "enrollment__program_id", "timepoint", "due_on"):
        key = (pid, prog)
        earliest[key] = min(due, earliest.get(key, due))
        if timepoint == "baseline":
            baseline[key] = min(due, baseline.get(key, due))
    return {**earliest, **baseline}


def _circles(ids: list[int], program: Program | None) -> dict[tuple[int, int], int]:
    """Each participant's first circle (lowest id) in each program."""
    through = Circle.members.through.objects.filter(participant_id__in=ids)
    if program is not None:
        through = through.filter(circle__program=program)
    first: dict[tuple[int, int], int] = {}
    for pid, prog, circle in through.order_by("circle_id").values_list(
        "participant_id", "circle__program_id", "circle_id"
    ):
        first.setdefault((pid, prog), circle)
    return first


def _add_engagement(base: dict[int, dict], ids: list[int], program: Program | None, today: datetime.date) -> None:
    """Circle sessions from each person's first baseline in scope to the export date (none
    offered, so a blank engagement, for someone with no assessment yet)."""
    starts: dict[int, datetime.date] = {pid: today for pid in ids}
    for (pid, _program), day in _baseline_days(ids, program).items():
        starts[pid] = min(starts[pid], day)
    engagement = engagement_for(ids, min(starts.values()), today, starts=starts) if ids else {}
    for pid in ids:
        e = engagement.get(pid)
        offered = e.circle_sessions_offered if e else 0
        attended = e.circle_sessions_attended if e else 0
        base[pid]["circle_sessions_offered"] = offered
        base[pid]["circle_sessions_attended"] = attended
        base[pid]["engagement"] = round(attended / offered, 4) if offered else None


# -- output --------------------------------------------------------------------------------------


def _csv(columns: list[str], rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: "" if row.get(c) is None else row[c] for c in columns})
    return out.getvalue()


def as_csv(export: ResearchExport) -> str:
    """The export as CSV (blank for missing); its SHA-256 is the one in the export's log."""
    return _csv(export.columns, export.rows)


def dictionary_csv() -> str:
    """The allow-list as a data dictionary (column, type, description, calendar date?)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["column", "type", "description", "shifted_date", "quasi_identifier"])
    for f in ALLOWED_FIELDS:
        writer.writerow([f.name, f.type, f.description, int(f.date), int(f.quasi_identifier)])
    return out.getvalue()
