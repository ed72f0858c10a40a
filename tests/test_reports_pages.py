"""The reports pages: coordinators see what is due and what left, open the SB 303 report as a
printable page or CSV (each logged); other roles and organizations cannot."""

import datetime

import pytest
from django.urls import reverse

from communitas.interop.models import ExportLog

pytestmark = pytest.mark.django_db


def test_a_coordinator_sees_the_quarters_due_and_opens_a_report(org, alice_client):
    org.jurisdiction = "US-OR"
    org.save()
    home = alice_client.get(reverse("reports:home")).content.decode()
    assert "Oregon SB 303 quarterly reports" in home and "Nothing has been exported yet." in home
    page = alice_client.get(reverse("reports:sb303", args=["2026Q3"]))
    assert (
        page.status_code == 200
        and "Center counts" in page.content.decode()
        and 'data-field="county"' in page.content.decode()
    )
    csv = alice_client.get(reverse("reports:sb303", args=["2026Q3"]) + "?format=csv")
    assert csv["Content-Disposition"].endswith('2026Q3.csv"') and csv.content.decode().startswith("section,item")
    assert (
        list(ExportLog.objects.values_list("kind", "via", "actor__email"))
        == [("sb303", "web", "alice@cascadia.example")] * 2
    )
    home = alice_client.get(reverse("reports:home")).content.decode()
    assert "Generated" in home and "Oregon SB 303 quarterly report (web)" in home


def test_a_malformed_quarter_is_not_found_and_logs_nothing(alice_client):
    assert alice_client.get(reverse("reports:sb303", args=["2026Q9"])).status_code == 404
    assert not ExportLog.objects.exists()


def test_only_coordinators_and_administrators_of_the_organization_may_report(
    bob_client, rita_client, charlie_client, org
):
    for client in (bob_client, rita_client):
        assert client.get(reverse("reports:home")).status_code == 403
        assert client.get(reverse("reports:sb303", args=["2026Q3"])).status_code == 403
    charlie_client.get(reverse("reports:sb303", args=["2026Q3"]))
    assert not ExportLog.objects.filter(organization=org).exists()  # charlie reports on his own organization only


def test_an_overdue_quarter_is_flagged(org, alice_client, monkeypatch):
    from communitas.interop import views

    org.jurisdiction = "US-OR"
    org.save()
    monkeypatch.setattr(views.timezone, "localdate", lambda: datetime.date(2026, 11, 27))
    home = alice_client.get(reverse("reports:home")).content.decode()
    assert "2026Q3" in home and "Overdue: not generated yet" in home  # due 2026-10-15
