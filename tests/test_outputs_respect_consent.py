"""Acceptance 4 of the reports issue, across every output at once: a participant who withdrew
research consent is absent from every research output (analysis dataset CSV and Parquet, research
export, REDCap files, the researchers' dashboard cohort), and a client who withheld their SB 303
data is absent from the SB 303 report's client data and, with the default scope, its counts."""

import datetime
import io

import pyarrow.parquet as pq
import pytest
from django.utils import timezone

from communitas.compliance.models import ReportingSettings
from communitas.compliance.services import client_data_record
from communitas.insights import metrics
from communitas.insights.dataset import analysis_rows, as_csv, as_parquet
from communitas.interop.redcap import redcap_export
from communitas.interop.research_export import as_csv as research_csv
from communitas.interop.research_export import project_create, research_export
from communitas.interop.sb303 import Quarter, sb303_build
from communitas.participants.services import consent_withdraw
from communitas.programs.models import Attendance, Session
from tests.test_analysis_dataset import study  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def test_a_withdrawn_research_consent_leaves_every_research_output(org, alice, study):  # noqa: F811
    program, _circle, people, _document = study
    leaver, stayer = people[0], people[1]
    consent_withdraw(participant=leaver, scope="research", actor=alice)
    rows = analysis_rows(program, instrument="phq9")
    assert {r["participant"] for r in rows} == {stayer.pseudonym}
    assert leaver.pseudonym not in as_csv(rows)
    parquet = pq.read_table(io.BytesIO(as_parquet(rows))).column("participant").to_pylist()
    assert set(parquet) == {stayer.pseudonym}
    project = project_create(organization=org, name="Study", actor=alice)
    export = research_export(project=project, fields=["participant", "score"], k=2, actor=alice, via="web")
    assert export.participants <= 1 and leaver.pseudonym not in research_csv(export)
    redcap = redcap_export(program=program, actor=alice, via="web")
    assert leaver.pseudonym not in redcap.records_csv and stayer.pseudonym in redcap.records_csv
    assert leaver.pk not in metrics.cohort_ids(program, research_only=True)
    assert stayer.pk in metrics.cohort_ids(program, research_only=True)


def test_a_client_who_withheld_sb303_data_is_left_out_of_the_report(org, alice, study):  # noqa: F811
    program, _circle, people, _document = study
    day = datetime.date(2026, 8, 4)
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))
    session = Session.objects.create(
        organization=org,
        program=program,
        kind=Session.Kind.ADMINISTRATION,
        title="Administration",
        planned_start=start,
        planned_end=start + datetime.timedelta(hours=6),
        status=Session.Status.COMPLETED,
    )
    for person in people:
        Attendance.objects.create(organization=org, session=session, participant=person, status="attended")
    client_data_record(participant=people[0], answers={}, withheld=True, actor=alice)
    for person in people[1:]:
        client_data_record(participant=person, answers={"county": "lane"}, withheld=False, actor=alice)
    report = sb303_build(org, Quarter(2026, 3))
    county = {code: n for code, _label, n in next(t for t in report.client_data if t.code == "county").rows}
    # 2 clients with data and k = 11: the numbers are hidden, but what is counted is the 2, not 3
    assert report.clients_served is None and county["lane"] is None
    ReportingSettings.objects.create(organization=org, small_cell_threshold=2)
    report = sb303_build(org, Quarter(2026, 3))
    county = {code: n for code, _label, n in next(t for t in report.client_data if t.code == "county").rows}
    assert report.clients_served == 2 and county["lane"] == 2
    assert report.sessions["group"] is None  # one group session: under k = 2
