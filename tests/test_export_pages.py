"""Export pages: research projects and the de-identified export (researchers too), the REDCap zip,
the FHIR bundle and import, Colorado records; roles, other organizations, bad input."""

import csv
import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from communitas.interop.models import ExportLog, ResearchProject
from tests.test_analysis_dataset import study  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def test_a_researcher_creates_a_project_and_downloads_a_research_export(org, study, rita_client):  # noqa: F811
    _program, _circle, people, _document = study
    page = rita_client.get(reverse("reports:research")).content.decode()
    assert "No research project yet" in page
    rita_client.post(reverse("reports:research_project_create"), {"name": "Community effect study"})
    project = ResearchProject.objects.get(organization=org)
    response = rita_client.post(
        reverse("reports:research"),
        {"project": project.pk, "columns": ["participant", "score", "wave", "age_band"], "dates": "days", "k": "2"},
    )
    assert response.status_code == 200 and response["Content-Disposition"].startswith('attachment; filename="research-')
    table = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert table and set(table[0]) == {"participant", "score", "wave", "age_band"}
    assert all(row["participant"].startswith("R") for row in table)
    assert people[0].pseudonym not in response.content.decode()
    assert ExportLog.objects.get(kind="research").actor.email == "rita@cascadia.example"


def test_a_duplicate_project_name_is_refused_with_a_message(org, rita_client):
    rita_client.post(reverse("reports:research_project_create"), {"name": "Study"})
    page = rita_client.post(reverse("reports:research_project_create"), {"name": "study"}, follow=True)
    assert "already exists" in page.content.decode() and ResearchProject.objects.count() == 1


def test_the_research_export_form_refuses_bad_input_and_logs_nothing(org, study, rita_client):  # noqa: F811
    rita_client.post(reverse("reports:research_project_create"), {"name": "Study"})
    project = ResearchProject.objects.get()
    for data in (
        {"project": project.pk, "columns": ["display_name"], "dates": "days"},
        {"project": project.pk, "columns": ["participant"], "dates": "sideways"},
        {"project": 999999, "columns": ["participant"], "dates": "days"},
    ):
        response = rita_client.post(reverse("reports:research"), data)
        page = response.content.decode()
        assert response.status_code == 200 and ('role="alert"' in page or "errorlist" in page)
    assert not ExportLog.objects.exists()


def test_a_coordinator_downloads_the_redcap_zip_and_the_fhir_bundle(org, study, alice_client, bob_client):  # noqa: F811
    program, *_rest = study
    home = alice_client.get(reverse("reports:home")).content.decode()
    assert reverse("reports:redcap", args=[program.pk]) in home
    response = alice_client.get(reverse("reports:redcap", args=[program.pk]))
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert len(names) == 4 and any(n.endswith("data_dictionary.csv") for n in names)
    bundle = json.loads(alice_client.get(reverse("reports:fhir")).content)
    assert bundle["resourceType"] == "Bundle"
    assert alice_client.get(reverse("reports:fhir") + "?identified=1").status_code == 403  # administrators only
    assert bob_client.get(reverse("reports:redcap", args=[program.pk])).status_code == 403
    assert set(ExportLog.objects.values_list("kind", flat=True)) == {"redcap", "fhir"}


def test_another_organization_cannot_reach_a_program_and_a_bad_upload_saves_nothing(
    org,
    study,  # noqa: F811
    charlie_client,
    alice_client,
):
    program, *_rest = study
    assert charlie_client.get(reverse("reports:redcap", args=[program.pk])).status_code == 404
    page = alice_client.post(
        reverse("reports:fhir_import"), {"bundle": SimpleUploadedFile("b.json", b"{not json", "application/json")}
    ).content.decode()
    assert "Nothing was imported" in page and not ExportLog.objects.filter(kind="fhir_import").exists()
    page = alice_client.post(reverse("reports:fhir_import"), {}).content.decode()
    assert "Choose a FHIR Bundle" in page


def test_colorado_records_download_and_a_bad_period_is_explained(org, alice_client):
    response = alice_client.get(reverse("reports:colorado") + "?start=2026-07-01&end=2026-09-30")
    assert response.content.decode().startswith("session_date,")
    page = alice_client.get(reverse("reports:colorado") + "?start=2026-09-30&end=2026-07-01", follow=True)
    assert "ends before it starts" in page.content.decode()
    assert ExportLog.objects.filter(kind="colorado_sessions").count() == 1
