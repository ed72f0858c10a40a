"""The analysis dataset: one row per participant and wave, research consent only, no identity,
days from baseline instead of dates, groups and engagement; downloads audited and permitted to
researchers, coordinators and administrators only."""

import csv
import io

import pytest
from django.test import Client

from communitas.accounts.models import Membership
from communitas.core.models import AuditEntry
from communitas.insights.dataset import FIELDS, analysis_rows
from communitas.outcomes import services as outcomes
from communitas.participants.services import consent_document_publish, consent_sign, consent_withdraw
from communitas.programs import services as programs
from communitas.programs import session_services as sessions
from tests.factories import ParticipantFactory, make_user

Role = Membership.Role
ANSWERS = {str(n): 1 for n in range(1, 10)}  # PHQ-9 total 9


@pytest.fixture
def study(org, alice):
    program = programs.program_create(
        organization=org, actor=alice, name="Spring cohort", substance="psilocybin", jurisdiction="US-OR"
    )
    outcomes.schedule_set(program=program, instrument_code="phq9", actor=None)
    document = consent_document_publish(
        organization=org,
        actor=None,
        title="Consent",
        version="1",
        language="en",
        body="I agree to take part and, if I choose, to research use of my answers.",
        scopes=["participation", "research"],
        required_scopes=["participation"],
    )
    circle = sessions.circle_create(program=program, actor=alice, name="Cedar", capacity=8)
    people = []
    for n in range(3):
        person = ParticipantFactory(organization=org, display_name=f"Person {n} Quispe", email=f"p{n}@example.net")
        enrollment = programs.enrollment_create(program=program, participant=person, actor=alice)
        consent_sign(
            participant=person,
            document=document,
            typed_name=person.display_name,
            granted={"participation", "research"} if n < 2 else {"participation"},
            via="staff",
        )
        assessments = outcomes.enrollment_anchor_set(
            enrollment=enrollment, administration_date=program.created_at.date(), actor=None
        )
        for assessment in assessments[: 3 - n if n < 2 else 3]:  # person 1 misses a wave
            outcomes.response_submit(assessment=assessment, answers=ANSWERS, language="en", source="staff")
        people.append(person)
    sessions.circle_set_members(circle=circle, actor=alice, participants=people[:1], facilitators=[])
    return program, circle, people, document


@pytest.mark.django_db
def test_rows_are_long_format_research_consent_only_and_without_identity(study):
    program, circle, people, _document = study
    rows = analysis_rows(program, instrument="phq9")
    assert {r["participant"] for r in rows} == {people[0].pseudonym, people[1].pseudonym}  # no consent: absent
    first = [r for r in rows if r["participant"] == people[0].pseudonym]
    assert [r["timepoint"] for r in first] == ["baseline", "post_session", "week_1"]
    assert [r["wave"] for r in first] == [0, 1, 2]
    assert [r["days_from_baseline"] for r in first] == [0, 8, 14]
    assert all(r["score"] == 9 and r["baseline_score"] == 9 for r in first)
    assert first[0]["group"] == f"c{circle.pk}" and first[0]["grouped"] == 1 and first[0]["n_circles"] == 1
    second = [r for r in rows if r["participant"] == people[1].pseudonym]
    assert len(second) == 2  # the missed wave is absent, not carried forward
    assert second[0]["group"] == f"solo-{people[1].pseudonym}" and second[0]["grouped"] == 0
    text = str(rows)
    for person in people:
        assert person.display_name not in text and person.email not in text
    assert "-" not in "".join(str(r["days_from_baseline"]) for r in rows)  # no calendar dates anywhere
    assert set(rows[0]) == set(FIELDS)


@pytest.mark.django_db
def test_a_withdrawn_research_consent_removes_the_person_at_once(study):
    program, _circle, people, _document = study
    consent_withdraw(participant=people[0], scope="research", actor=None)
    assert people[0].pseudonym not in {r["participant"] for r in analysis_rows(program, instrument="phq9")}


@pytest.mark.django_db
def test_researchers_download_the_dataset_and_dictionary_and_each_download_is_audited(org, study, other_org):
    program, _circle, _people, _document = study
    researcher = Client()
    researcher.force_login(make_user(org, Role.RESEARCHER))
    response = researcher.get(f"/insights/programs/{program.pk}/dataset.csv?instrument=phq9")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(table) == 5 and list(table[0]) == FIELDS
    entry = AuditEntry.objects.get(action="insights.dataset.downloaded")
    assert entry.data["rows"] == 5 and entry.data["instrument"] == "phq9"
    columns = researcher.get(f"/insights/programs/{program.pk}/dictionary.csv").content.decode()
    assert "days_from_baseline" in columns and "participant" in columns
    assert researcher.get(f"/insights/programs/{program.pk}/dataset.csv?instrument=x;drop").status_code == 400
    facilitator = Client()
    facilitator.force_login(make_user(org, Role.FACILITATOR))
    assert facilitator.get(f"/insights/programs/{program.pk}/dataset.csv").status_code == 403
    outsider = Client()
    outsider.force_login(make_user(other_org, Role.RESEARCHER))
    assert outsider.get(f"/insights/programs/{program.pk}/dataset.csv").status_code == 404


@pytest.mark.django_db
def test_a_researcher_lands_on_research_data_with_a_link_per_instrument(org, study):
    program, _circle, _people, _document = study
    researcher = Client()
    researcher.force_login(make_user(org, Role.RESEARCHER))
    home = researcher.get("/", follow=True)
    page = home.content.decode()
    assert home.redirect_chain[-1][0] == "/insights/" and "Research data" in page
    assert f"/insights/programs/{program.pk}/dataset.csv?instrument=phq9" in page


@pytest.mark.django_db
def test_the_parquet_download_holds_the_same_rows_typed_from_the_dictionary(org, study, other_org):
    import pyarrow as pa
    import pyarrow.parquet as pq

    program, _circle, _people, _document = study
    researcher = Client()
    researcher.force_login(make_user(org, Role.RESEARCHER))
    as_csv = list(
        csv.DictReader(io.StringIO(researcher.get(f"/insights/programs/{program.pk}/dataset.csv").content.decode()))
    )
    response = researcher.get(f"/insights/programs/{program.pk}/dataset.parquet?instrument=phq9")
    assert response.status_code == 200 and response["Content-Disposition"].endswith('.parquet"')
    table = pq.read_table(pa.BufferReader(response.content))
    assert table.column_names == FIELDS and table.num_rows == len(as_csv) == 5
    assert table.schema.field("wave").type == pa.int64() and table.schema.field("score").type == pa.float64()
    assert table.schema.field("participant").type == pa.string()
    assert b"Pseudonym" in table.schema.field("participant").metadata[b"description"]
    rows = table.to_pylist()
    for got, expected in zip(rows, as_csv, strict=True):
        assert got["participant"] == expected["participant"] and str(got["wave"]) == expected["wave"]
        assert (got["engagement"] is None) == (expected["engagement"] == "")  # blanks are nulls, never 0
    entry = AuditEntry.objects.filter(action="insights.dataset.downloaded").latest("seq")
    assert entry.data["format"] == "parquet" and entry.data["rows"] == 5
    outsider = Client()
    outsider.force_login(make_user(other_org, Role.RESEARCHER))
    assert outsider.get(f"/insights/programs/{program.pk}/dataset.parquet").status_code == 404
