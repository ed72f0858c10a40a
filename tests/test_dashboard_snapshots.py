"""Dashboard figures are precomputed (insights.snapshots): the page reads a fresh snapshot, says when
it was computed, and `communitas refresh-dashboards` brings a change in."""

import datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communitas.insights import snapshots
from communitas.insights.models import DashboardSnapshot
from communitas.participants.models import Participant
from tests.test_insights_metrics import populated

pytestmark = pytest.mark.django_db


def _page(client, program, query=""):
    response = client.get(reverse("insights:dashboard", args=[program.pk]) + query)
    assert response.status_code == 200
    return response.content.decode()


def _leave(program, people):
    """Take people out of the program's cohort (archived participants are not counted)."""
    from django.utils import timezone

    Participant.objects.filter(pk__in=[p.pk for p in people]).update(archived_at=timezone.now())


def test_a_reader_gets_the_stored_figures_until_a_refresh(org, alice, alice_client):
    program, people = populated(org, alice, 4)
    assert "All 4 participants enrolled" in _page(alice_client, program)
    stored = DashboardSnapshot.objects.get(program=program, audience="staff", instrument_code="phq9", language="en")
    assert stored.figures["cohort_size"] == 4

    _leave(program, people[:1])
    assert "All 4 participants enrolled" in _page(alice_client, program)  # still the snapshot

    call_command("refresh_dashboards", verbosity=0)
    html = _page(alice_client, program)
    assert "All 3 participants enrolled" in html
    assert "Figures as of" in html


def test_a_stale_snapshot_is_recomputed_by_its_reader(org, alice, alice_client, settings):
    program, people = populated(org, alice, 4)
    _page(alice_client, program)
    _leave(program, people[:2])
    DashboardSnapshot.objects.update(computed_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))

    assert "All 2 participants enrolled" in _page(alice_client, program)


def test_snapshots_are_kept_per_audience_and_language(org, alice, alice_client, rita_client, settings):
    settings.COMMUNITAS_SMALL_CELL_THRESHOLD = 3
    program, _people = populated(org, alice, 4)
    call_command("refresh_dashboards", verbosity=0)
    kept = set(DashboardSnapshot.objects.values_list("audience", "language"))
    assert kept == {("staff", "en"), ("staff", "es"), ("research", "en"), ("research", "es")}

    researcher = _page(rita_client, program)
    assert "Circle A" in researcher and "Cedar" not in researcher  # the researcher's own figures
    assert "Cedar" in _page(alice_client, program)
    spanish = rita_client.get(reverse("insights:dashboard", args=[program.pk]), HTTP_ACCEPT_LANGUAGE="es")
    assert "Círculo A" in spanish.content.decode()


def test_a_snapshot_holds_figures_only(org, alice, alice_client):
    _program, people = populated(org, alice, 4)
    call_command("refresh_dashboards", verbosity=0)
    stored = " ".join(str(s.figures) for s in DashboardSnapshot.objects.all())
    for person in Participant.objects.filter(pk__in=[p.pk for p in people]):
        assert person.display_name not in stored and person.pseudonym not in stored


def test_reading_a_fresh_snapshot_costs_the_same_queries_for_any_cohort(
    org, alice, alice_client, other_org, charlie, charlie_client
):
    small, _ = populated(org, alice, 2)
    large, _ = populated(other_org, charlie, 12)
    call_command("refresh_dashboards", verbosity=0)
    counts = []
    for client, program in ((alice_client, small), (charlie_client, large)):
        with CaptureQueriesContext(connection) as queries:
            _page(client, program)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_command_refuses_an_unknown_program_and_writes_nothing(org):
    with pytest.raises(CommandError, match="No program with id 987654"):
        call_command("refresh_dashboards", program=987654)
    assert not DashboardSnapshot.objects.exists()


def test_refresh_all_counts_each_program_audience_instrument_and_language(org, alice):
    program, _ = populated(org, alice, 2)
    codes = snapshots.instrument_codes(program)
    assert snapshots.refresh_all([program]) == 2 * len(codes) * 2


def test_figures_are_fresh_only_while_young_and_from_today(settings):
    from django.utils import timezone

    from communitas.core.freshness import is_fresh

    settings.COMMUNITAS_DASHBOARD_MAX_AGE = 900
    noon = timezone.make_aware(datetime.datetime(2026, 11, 27, 12, 0))
    just_after_midnight = timezone.make_aware(datetime.datetime(2026, 11, 27, 0, 5))
    assert is_fresh(noon - datetime.timedelta(minutes=10), noon)
    assert not is_fresh(noon - datetime.timedelta(minutes=20), noon)  # too old
    assert not is_fresh(just_after_midnight - datetime.timedelta(minutes=10), just_after_midnight)  # yesterday
    assert not is_fresh(None, noon)
