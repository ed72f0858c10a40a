"""The de-identified research export: allow-listed columns only, project codes and date shifts
that stay put within a project, research consent only, the 303 form's "do not share" honoured,
quasi-identifiers generalised until no group of people is smaller than k (checked by joining the
export with the organization's own identified table), one log row and one audit entry per export."""

import csv
import datetime
import hashlib
import io
import random
import re
from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from communitas.compliance.models import ClientDataForm, ReportingSettings
from communitas.core.models import AuditEntry
from communitas.interop.models import ExportLog
from communitas.interop.research_export import (
    LEVELS,
    MAX_SHIFT_DAYS,
    QUASI_IDENTIFIERS,
    ExportError,
    age_on,
    anonymise,
    as_csv,
    date_shift,
    generalise,
    participant_code,
    project_create,
    research_export,
)
from communitas.outcomes import services as outcomes
from communitas.participants.services import (
    consent_document_publish,
    consent_sign,
    consent_withdraw,
    participant_archive,
)
from communitas.programs import services as programs
from communitas.programs import session_services as sessions
from tests.factories import ParticipantFactory

ANSWERS = {str(n): 1 for n in range(1, 10)}  # PHQ-9 total 9
QI = ("age_band", "county", "gender", "language")
CODE = re.compile(r"^R[A-Z2-7]{10}$")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _document(organization):
    return consent_document_publish(
        organization=organization,
        actor=None,
        title="Consent",
        version="1",
        language="en",
        body="I agree to take part and, if I choose, to research use of my de-identified answers.",
        scopes=["participation", "research"],
        required_scopes=["participation"],
    )


def _person(organization, document, *, research=True, form=None, withheld=False, **fields):
    person = ParticipantFactory(organization=organization, **fields)
    granted = {"participation", "research"} if research else {"participation"}
    consent_sign(participant=person, document=document, typed_name=person.display_name, granted=granted, via="staff")
    if form is not None or withheld:
        ClientDataForm.objects.create(
            organization=organization,
            participant=person,
            withheld=withheld,
            answers={} if withheld else form,
            collected_on=timezone.localdate(),
        )
    return person


def _export(project, fields, **kwargs):
    kwargs.setdefault("actor", None)
    kwargs.setdefault("via", "cli")
    return research_export(project=project, fields=fields, **kwargs)


@pytest.fixture
def document(org):
    return _document(org)


@pytest.fixture
def project(org, alice):
    return project_create(organization=org, name="Belonging and outcomes study", actor=alice)


@pytest.fixture
def study(org, alice, document):
    """A program with three people answering the PHQ-9 at baseline, after the session and at week 1;
    the third has not consented to research."""
    program = programs.program_create(
        organization=org, actor=alice, name="Spring cohort", substance="psilocybin", jurisdiction="US-OR"
    )
    outcomes.schedule_set(program=program, instrument_code="phq9", actor=None)
    people = []
    for n in range(3):
        person = _person(org, document, research=n < 2, display_name=f"Person {n} Quispe", email=f"p{n}@example.net")
        enrollment = programs.enrollment_create(program=program, participant=person, actor=alice)
        day = datetime.date(2025, 3, 10) + datetime.timedelta(days=n)
        for assessment in outcomes.enrollment_anchor_set(enrollment=enrollment, administration_date=day, actor=None)[
            :3
        ]:
            moment = datetime.datetime.combine(assessment.due_on, datetime.time(12), tzinfo=datetime.UTC)
            outcomes.response_submit(
                assessment=assessment, answers=ANSWERS, language="en", source="staff", submitted_at=moment
            )
        people.append(person)
    return program, people


# -- the allow-list ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field", ["email", "display_name", "pseudonym", "date_of_birth", "cultural_background", "answers", "zip"]
)
def test_it_refuses_identity_free_text_and_unknown_fields_and_logs_nothing(project, field):
    with pytest.raises(ExportError, match=field):
        _export(project, ["participant", "score", field])
    assert not ExportLog.objects.exists()
    assert not AuditEntry.objects.filter(action="interop.research.exported").exists()


@pytest.mark.django_db
def test_it_refuses_calendar_dates_unless_they_are_shifted(project):
    with pytest.raises(ExportError, match="calendar date"):
        _export(project, ["participant", "date"], dates="days")
    with pytest.raises(ExportError, match="dates must be"):
        _export(project, ["participant"], dates="raw")
    with pytest.raises(ExportError, match="at least one field"):
        _export(project, [])
    assert not ExportLog.objects.exists()


# -- codes and dates -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_codes_are_stable_within_a_project_and_unlinkable_across_projects(org, alice, project, study):
    _program, people = study
    first = _export(project, ["participant", "instrument", "timepoint", "score"])
    second = _export(project, ["participant", "instrument", "timepoint", "score"])
    other = _export(project_create(organization=org, name="Another study", actor=alice), ["participant"])
    codes = {r["participant"] for r in first.rows}
    assert codes == {r["participant"] for r in second.rows} == {participant_code(project, p.pk) for p in people[:2]}
    assert all(CODE.fullmatch(code) for code in codes)
    assert not codes & {r["participant"] for r in other.rows} and len(other.rows) == 2
    text = as_csv(first) + as_csv(other)
    for person in people:
        assert person.pseudonym not in text and person.display_name not in text and person.email not in text


@pytest.mark.django_db
def test_dates_move_by_one_non_zero_offset_per_participant_and_days_mode_has_no_dates(project, study):
    program, people = study
    fields = ["participant", "timepoint", "days_from_baseline", "date", "administration_date"]
    shifted = _export(project, fields, program=program, dates="shift")
    again = _export(project, fields, program=program, dates="shift")
    assert shifted.rows == again.rows and len(shifted.rows) == 6
    for n, person in enumerate(people[:2]):
        rows = [r for r in shifted.rows if r["participant"] == participant_code(project, person.pk)]
        administration = datetime.date(2025, 3, 10) + datetime.timedelta(days=n)
        offsets = {
            (datetime.date.fromisoformat(r["date"]) - administration).days - r["days_from_baseline"] + 7 for r in rows
        }
        offsets |= {(datetime.date.fromisoformat(r["administration_date"]) - administration).days for r in rows}
        assert offsets == {date_shift(project, person.pk)}  # baseline is due 7 days before administration
        assert 1 <= abs(offsets.pop()) <= MAX_SHIFT_DAYS
        assert [r["days_from_baseline"] for r in rows] == [0, 8, 14]
    days = _export(project, ["participant", "instrument", "timepoint", "wave", "days_from_baseline", "score"])
    assert not ISO_DATE.search(as_csv(days)) and len(days.rows) == 6


@pytest.mark.django_db
def test_shifts_are_never_zero_and_stay_within_range(org, alice):
    project = project_create(organization=org, name="Shift range", actor=alice)
    shifts = [date_shift(project, pk) for pk in range(1, 3000)]
    assert 0 not in shifts and min(shifts) >= -MAX_SHIFT_DAYS and max(shifts) <= MAX_SHIFT_DAYS
    assert min(shifts) < -150 and max(shifts) > 150  # spread over the range, both signs


# -- who is in it --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_withdrawn_declined_and_archived_participants_are_absent(org, project, document):
    kept, withdrawn, _declined, archived = (_person(org, document, research=n != 2) for n in range(4))
    consent_withdraw(participant=withdrawn, scope="research", actor=None)
    participant_archive(participant=archived, actor=None)
    export = _export(project, ["participant"], k=2)
    assert [r["participant"] for r in export.rows] == [participant_code(project, kept.pk)]


@pytest.mark.django_db
def test_a_withheld_303_form_gives_no_county_or_gender(org, project, document):
    form = {"county": "multnomah", "gender_identity": "woman", "spoken_language": "en"}
    shared = [_person(org, document, form=form) for _ in range(2)]
    changed_mind = _person(org, document, form=form)
    ClientDataForm.objects.create(
        organization=org, participant=changed_mind, withheld=True, answers={}, collected_on=timezone.localdate()
    )
    withheld = _person(org, document, withheld=True)
    export = _export(project, ["participant", "county", "gender"], k=2)
    by_code = {r["participant"]: r for r in export.rows}
    for person in (changed_mind, withheld):
        assert by_code[participant_code(project, person.pk)] | {"participant": None} == {
            "participant": None,
            "county": "unknown",
            "gender": "unknown",
        }
    assert all(by_code[participant_code(project, p.pk)]["county"] == "multnomah" for p in shared)
    assert export.generalisation["county"]["level"] == 0 and export.k_achieved == 2


@pytest.mark.django_db
def test_another_organizations_project_program_and_people_stay_out(org, other_org, charlie, bob, project, study):
    program, _people = study
    with pytest.raises(PermissionDenied):
        _export(project, ["participant"], actor=charlie, via="web")
    with pytest.raises(PermissionDenied):
        _export(project, ["participant"], actor=bob, via="web")  # a facilitator does not read research data
    outsider = _person(other_org, _document(other_org))
    theirs = project_create(organization=other_org, name="Stillwater study", actor=charlie)
    with pytest.raises(ExportError, match="another organization"):
        _export(theirs, ["participant"], program=program)
    codes = {r["participant"] for r in _export(project, ["participant"], k=2).rows}
    assert participant_code(project, outsider.pk) not in codes and len(codes) == 2
    assert [r["participant"] for r in _export(theirs, ["participant"], k=2).rows] == [
        participant_code(theirs, outsider.pk)
    ]
    assert ExportLog.objects.filter(organization=other_org).count() == 1


@pytest.mark.django_db
def test_project_names_are_unique_per_organization_and_creation_is_audited(org, other_org, alice, charlie, project):
    with pytest.raises(ExportError, match="already exists"):
        project_create(organization=org, name="belonging and outcomes study", actor=alice)
    with pytest.raises(PermissionDenied):
        project_create(organization=org, name="Sneaky", actor=charlie)
    assert project_create(organization=other_org, name=project.name, actor=charlie).secret != project.secret
    entry = AuditEntry.objects.get(action="interop.research_project.created", object_id=str(project.pk))
    assert entry.data == {"name": project.name} and project.secret not in str(entry.data)
    assert len(project.secret) >= 43


# -- k-anonymity ---------------------------------------------------------------------------------

COUNTIES = ["multnomah"] * 8 + ["washington"] * 5 + ["lane"] * 4 + ["deschutes", "jackson", "wallowa", "out_of_state"]
GENDERS = ["woman"] * 9 + ["man"] * 8 + ["nonbinary", "transgender_woman", "two_spirit", "declined"]
LANGUAGES = ["en"] * 14 + ["es"] * 4 + ["pt-BR", "vi", "ru"]


def _synthetic_cohort(org, document, seed: int, n: int) -> list:
    """``n`` people with varied birth dates, counties, genders and languages; some without a
    date of birth, a form, or research consent, and some who withheld their 303 data."""
    rng = random.Random(seed)
    today = timezone.localdate()
    people = []
    for _ in range(n):
        born = today - datetime.timedelta(days=rng.randint(21 * 366, 88 * 365)) if rng.random() > 0.05 else None
        roll = rng.random()
        form = None if roll < 0.05 else {"county": rng.choice(COUNTIES), "gender_identity": rng.choice(GENDERS)}
        person = _person(
            org,
            document,
            research=rng.random() > 0.15,
            form=form,
            withheld=0.05 <= roll < 0.1,
            date_of_birth=born,
            preferred_language=rng.choice(LANGUAGES),
        )
        people.append(person)
    return people


def _identified_table(org) -> dict[int, dict]:
    """What the organization itself knows about everyone, computed straight from its records."""
    from communitas.participants.models import Participant

    today = timezone.localdate()
    table = {}
    for person in Participant.objects.filter(organization=org):
        form = person.client_data_forms.order_by("-created_at", "-id").first()
        answers = {} if form is None or form.withheld else form.answers
        table[person.pk] = {
            "age_band": age_on(person.date_of_birth, today),
            "county": answers.get("county"),
            "gender": answers.get("gender_identity"),
            "language": person.preferred_language,
        }
    return table


def _reidentify(project, export, table):
    """Join the export with the identified table on the four quasi-identifiers at the export's
    levels: the size of each exported group, and how many identified people each row matches."""
    levels = {q: export.generalisation[q]["level"] for q in QI}
    known = {pk: tuple(generalise(q, raw[q], levels[q]) for q in QI) for pk, raw in table.items()}
    by_code = {participant_code(project, pk): pk for pk in table}
    exported = {r["participant"]: tuple(r[q] for q in QI) for r in export.rows}
    for code, values in exported.items():
        assert known[by_code[code]] == values  # the export tells the truth, only coarser
    groups = Counter(exported.values())
    matches = Counter(known.values())
    return groups, [matches[values] for values in exported.values()]


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2])
def test_no_group_in_the_export_joined_with_the_organizations_records_is_smaller_than_k(org, project, document, seed):
    _synthetic_cohort(org, document, seed, n=100)
    table = _identified_table(org)
    for k in (5, 11):
        export = _export(project, ["participant", *QI], k=k)
        groups, candidates = _reidentify(project, export, table)
        assert export.k_achieved is not None and export.k_achieved >= k
        assert min(groups.values()) == export.k_achieved
        assert min(candidates) >= export.k_achieved
        assert export.suppressed_participants == 0 and export.participants == len(export.rows) > 60
        assert export.log.k_achieved == export.k_achieved


@pytest.mark.django_db
def test_k_defaults_to_the_organizations_small_cell_threshold(org, project, document, settings):
    for _ in range(4):
        _person(org, document)
    settings.COMMUNITAS_SMALL_CELL_THRESHOLD = 3
    assert _export(project, ["participant", "language"]).k == 3
    ReportingSettings.objects.create(organization=org, small_cell_threshold=4)
    export = _export(project, ["participant", "language"])
    assert export.k == 4 and export.k_achieved == 4 and export.log.parameters["k"] == 4
    assert _export(project, ["participant"]).k_achieved is None  # no quasi-identifier exported


@pytest.mark.django_db
def test_a_cohort_smaller_than_k_is_dropped_whole_and_counted(org, project, document):
    for _ in range(3):
        _person(org, document, form={"county": "lane", "gender_identity": "man"})
    export = _export(project, ["participant", "county", "age_band"], k=5)
    assert export.rows == [] and export.suppressed_participants == 3 and export.k_achieved is None
    assert export.generalisation["county"] == {"level": 3, "to": "suppressed"}
    assert export.log.rows == 0 and export.log.parameters["suppressed_participants"] == 3


@pytest.mark.django_db
def test_outliers_may_be_dropped_instead_of_coarsening_everyone(org, project, document):
    for n in range(12):
        county = "wallowa" if n == 11 else "multnomah"
        _person(org, document, form={"county": county, "gender_identity": "woman"}, preferred_language="en")
    strict = _export(project, ["participant", "county"], k=5)
    assert strict.generalisation["county"]["level"] == 2 and strict.suppressed_participants == 0  # all "oregon"
    lenient = _export(project, ["participant", "county"], k=5, max_suppressed=1)
    assert lenient.generalisation["county"]["level"] == 0 and lenient.suppressed_participants == 1
    assert {r["county"] for r in lenient.rows} == {"multnomah"} and lenient.k_achieved == 11
    assert lenient.log.parameters["max_suppressed"] == 1 and lenient.log.parameters["suppressed_participants"] == 1


def _random_ladders(rng: random.Random, n: int) -> dict[int, dict]:
    ladders = {}
    for pk in range(n):
        raw = {
            "age_band": rng.choice([None, *range(21, 95)]),
            "county": rng.choice([*COUNTIES, "declined", "clatsop", "harney"]),
            "gender": rng.choice(GENDERS),
            "language": rng.choice(LANGUAGES),
        }
        ladders[pk] = {q: tuple(generalise(q, raw[q], level) for level in range(len(LEVELS[q]))) for q in QI}
    return ladders


@pytest.mark.parametrize("seed", range(25))
def test_anonymise_reaches_k_with_minimal_levels_for_random_cohorts(seed):
    rng = random.Random(seed)
    n, k = rng.randint(1, 150), rng.choice([2, 3, 5, 11, 20])
    qis = rng.sample(QI, rng.randint(1, 4))
    ladders = _random_ladders(rng, n)
    result = anonymise(ladders, qis, k)
    classes = Counter(
        tuple(ladders[pk][q][result.levels[q]] for q in qis) for pk in ladders if pk not in result.dropped
    )
    assert all(size >= k for size in classes.values())
    assert result.k_achieved == (min(classes.values()) if classes else None)
    assert bool(result.dropped) == (n < k) and len(result.dropped) in (0, n)
    for q in qis:  # no level is higher than it needs to be
        if result.levels[q] and not result.dropped:
            lower = {**result.levels, q: result.levels[q] - 1}
            sizes = Counter(tuple(ladders[pk][p][lower[p]] for p in qis) for pk in ladders)
            assert min(sizes.values()) < k


def test_the_hierarchies_coarsen_step_by_step():
    assert [generalise("age_band", 37, level) for level in range(4)] == ["35-39", "30-39", "20-39", "*"]
    assert [generalise("age_band", 93, level) for level in range(3)] == ["90+", "90+", "80+"]
    assert [generalise("county", "wallowa", level) for level in range(4)] == ["wallowa", "eastern", "oregon", "*"]
    assert generalise("county", "out_of_state", 2) == "outside_oregon"
    assert generalise("county", "declined", 0) == generalise("county", None, 1) == "unknown"
    assert [generalise("gender", "transgender_man", level) for level in range(3)] == ["transgender_man", "man", "*"]
    assert [generalise("language", "pt-BR", level) for level in range(3)] == ["pt", "other", "*"]
    assert age_on(datetime.date(2000, 6, 15), datetime.date(2025, 6, 14)) == 24
    assert set(QUASI_IDENTIFIERS) == set(QI)


@pytest.mark.django_db
def test_program_level_rows_carry_program_and_circle_codes_and_engagement(org, alice, project, study):
    program, people = study
    circle = sessions.circle_create(program=program, actor=alice, name="Cedar", capacity=8)
    sessions.circle_set_members(circle=circle, actor=alice, participants=people[:1], facilitators=[])
    fields = ["participant", "program", "group", "grouped", "engagement", "circle_sessions_offered"]
    export = _export(project, fields, program=program)
    by_code = {r["participant"]: r for r in export.rows}
    first, second = (by_code[participant_code(project, p.pk)] for p in people[:2])
    assert len(export.rows) == 2 and first["program"] == second["program"] and first["program"].startswith("PRG")
    assert first["group"].startswith("GRP") and first["grouped"] == 1 and str(circle.pk) not in first["group"]
    assert second["group"] == f"solo-{participant_code(project, people[1].pk)}" and second["grouped"] == 0
    assert first["circle_sessions_offered"] == 0 and first["engagement"] is None
    other = project_create(organization=org, name="Second study", actor=alice)
    assert _export(other, ["program"], program=program).rows[0]["program"] != first["program"]


# -- the log -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_export_writes_one_log_row_and_one_audit_entry_without_pii(org, alice, rita, project, study):
    program, people = study
    fields = ["participant", "program", "group", "instrument", "timepoint", "days_from_baseline", "score", "language"]
    export = research_export(project=project, program=program, fields=fields, k=2, actor=rita, via="web")
    log = ExportLog.objects.get()
    assert log == export.log and log.kind == "research" and log.via == "web" and log.actor == rita
    assert log.organization == org and log.fields == fields and log.rows == 6 == len(export.rows)
    assert log.k_achieved == 2 and log.sha256 == hashlib.sha256(as_csv(export).encode()).hexdigest()
    assert log.parameters == {
        "project": project.pk,
        "program": program.pk,
        "dates": "days",
        "k": 2,
        "max_suppressed": 0,
        "generalisation": {"language": {"level": 0, "to": "language"}},
        "participants": 2,
        "suppressed_participants": 0,
    }
    entry = AuditEntry.objects.get(action="interop.research.exported")
    assert entry.actor_id == rita.pk and entry.object_id == str(log.pk) and entry.data["rows"] == 6
    for person in people:
        assert person.pseudonym not in str(entry.data) and person.display_name not in str(entry.data)
    table = list(csv.DictReader(io.StringIO(as_csv(export))))
    assert list(table[0]) == fields and table[0]["program"].startswith("PRG")
    assert {r["group"] for r in table} == {f"solo-{participant_code(project, p.pk)}" for p in people[:2]}
