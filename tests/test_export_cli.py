"""``communitas export``: research, REDCap, FHIR and Colorado files written from the command line,
each logged; bad input exits 2 and writes and logs nothing."""

import csv
import io
import json

import pytest
from django.core.management import call_command

from communitas.interop.models import ExportLog, ResearchProject
from tests.test_analysis_dataset import study  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def test_research_export_writes_the_csv_creates_the_project_and_reports_k(org, study, tmp_path, capsys):  # noqa: F811
    _program, _circle, people, _document = study
    out = tmp_path / "research.csv"
    call_command("export", "research", "--organization", org.slug, "--out", str(out), "--k", "2")
    table = list(csv.DictReader(io.StringIO(out.read_text())))
    assert table and {"participant", "score", "days_from_baseline", "age_band"} <= set(table[0])
    text = out.read_text()
    for person in people:
        assert person.pseudonym not in text and person.display_name not in text
    assert len({row["participant"] for row in table}) == 2  # the third person gave no research consent
    assert "achieved k" in capsys.readouterr().out
    assert ResearchProject.objects.get(organization=org).name == "default"
    log = ExportLog.objects.get(kind="research")
    assert log.via == "cli" and log.actor is None and log.rows == len(table)


def test_redcap_export_writes_four_files_with_redcaps_headers(org, study, tmp_path):  # noqa: F811
    program, *_rest = study
    call_command("export", "redcap", "--organization", org.slug, "--out", str(tmp_path / "redcap"))
    files = sorted(p.name for p in (tmp_path / "redcap").iterdir())
    assert files == [
        f"{org.slug}-program-{program.pk}-{name}.csv"
        for name in ("data_dictionary", "events", "instrument_event_mapping", "records")
    ]
    dictionary = (tmp_path / "redcap" / files[0]).read_text().splitlines()[0]
    assert dictionary.startswith('"Variable / Field Name",') or dictionary.startswith("Variable / Field Name,")
    records = (tmp_path / "redcap" / files[3]).read_text().splitlines()[0]
    assert records.startswith("record_id,redcap_event_name")


def test_fhir_export_writes_a_valid_bundle(org, study, tmp_path):  # noqa: F811
    from fhir.resources.R4B.bundle import Bundle

    out = tmp_path / "bundle.json"
    call_command("export", "fhir", "--organization", org.slug, "--out", str(out))
    bundle = json.loads(out.read_text())
    Bundle.model_validate(bundle)
    assert bundle["type"] == "collection" and ExportLog.objects.get(kind="fhir").via == "cli"


def test_colorado_export_writes_the_sessions_csv(other_org, tmp_path):
    out = tmp_path / "sessions.csv"
    call_command(
        "export",
        "colorado",
        "--organization",
        other_org.slug,
        "--out",
        str(out),
        "--start",
        "2026-07-01",
        "--end",
        "2026-09-30",
    )
    assert out.read_text().startswith("session_date,session_kind,start_time,end_time")


@pytest.mark.parametrize(
    "argv",
    [
        ["research", "--organization", "nobody"],
        ["research", "--organization", "cascadia", "--fields", "participant,display_name"],
        ["research", "--organization", "cascadia", "--program", "999999"],
        ["colorado", "--organization", "cascadia", "--start", "2026-09-30", "--end", "2026-07-01"],
        ["colorado", "--organization", "cascadia", "--start", "July", "--end", "2026-07-01"],
        ["redcap", "--organization", "cascadia"],  # no program with questionnaires
    ],
)
def test_bad_input_exits_2_and_writes_and_logs_nothing(org, argv, tmp_path, capsys):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_:
        call_command("export", *argv[:1], *argv[1:], "--out", str(out))
    assert exit_.value.code == 2 and "error:" in capsys.readouterr().err
    assert not out.exists() and not ExportLog.objects.exists()
