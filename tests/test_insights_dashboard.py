"""A program's insights dashboard: every panel drawn for coordinators, a de-identified and
suppressed view for researchers, nobody else, no other organization, bad input handled."""

import pytest
from django.urls import reverse

from communitas.insights.models import AnalysisRun
from tests.test_insights_metrics import populated

pytestmark = pytest.mark.django_db

PANELS = ("funnel", "change", "reliable-change", "assessments", "attendance", "community-effect")


def _get(client, program, query=""):
    return client.get(reverse("insights:dashboard", args=[program.pk]) + query)


def test_a_coordinator_sees_every_panel_with_a_plot_and_its_numbers(org, alice, alice_client):
    program, people = populated(org, alice, 4)
    response = _get(alice_client, program)
    assert response.status_code == 200
    html = response.content.decode()
    for panel in PANELS:
        assert f'data-panel="{panel}"' in html
    for chart in ("funnel", "change", "stacked", "bars", "histogram"):
        assert f'data-chart="{chart}"' in html
    assert "All 4 participants enrolled" in html and "Cedar" in html  # circle names for staff
    assert html.count("<details>") >= 4  # numbers one click away
    assert "Run the analysis" in html  # no run yet: the panel offers one
    for person in people:
        assert person.display_name not in html and person.pseudonym not in html


def test_a_researcher_sees_small_cells_hidden_and_circles_as_letters(org, alice, rita_client):
    program, _people = populated(org, alice, 4)  # 4 people: every count is under the threshold of 11
    html = _get(rita_client, program).content.decode()
    assert "De-identified view" in html and "Cedar" not in html
    assert "Other circles (suppressed)" in html  # a circle of 4 is merged away
    assert 'data-suppressed="1"' in html
    assert "<td>4</td>" not in html  # the cohort's count appears nowhere


def test_a_researcher_sees_counts_at_or_over_the_threshold(org, alice, rita_client, settings):
    settings.COMMUNITAS_SMALL_CELL_THRESHOLD = 3
    program, _people = populated(org, alice, 4)
    html = _get(rita_client, program).content.decode()
    assert "De-identified view: 4 participants" in html
    assert "Circle A" in html and "Cedar" not in html  # circles by letter, never by name


def test_an_unknown_instrument_falls_back_and_a_program_without_questionnaires_still_renders(org, alice, alice_client):
    program, _people = populated(org, alice, 3)
    html = _get(alice_client, program, "?instrument=<script>").content.decode()
    assert "instrument=<script>" not in html and "&lt;script&gt;" not in html  # never echoed
    assert '<a href="?instrument=phq9" aria-current="page">' in html
    from communitas.programs import services as programs

    bare = programs.program_create(
        organization=org, actor=alice, name="Bare", substance="psilocybin", jurisdiction="US-OR"
    )
    html = _get(alice_client, bare).content.decode()
    assert "This program collects no outcome questionnaire yet." in html


def test_the_panel_shows_the_latest_run_for_the_chosen_instrument(org, alice, alice_client):
    program, _people = populated(org, alice, 3)
    AnalysisRun.objects.create(
        organization=org, program=program, instrument_code="phq9", formula="f", status="failed", error="too few"
    )
    html = _get(alice_client, program, "?instrument=phq9").content.decode()
    assert "The analysis could not be fitted: too few" in html


def test_only_research_readers_of_the_organization_may_open_it(org, alice, bob_client, charlie_client, client):
    program, _people = populated(org, alice, 3)
    assert _get(bob_client, program).status_code == 403
    assert _get(charlie_client, program).status_code == 404
    assert _get(client, program).status_code == 302  # signed out: to the login page
