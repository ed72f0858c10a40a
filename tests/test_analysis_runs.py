"""The community-effect analysis: its model on known data, the background run (queued, progress,
done or failed with a message, never twice at once), the panel and who may see it."""

import numpy as np
import pandas as pd
import pytest
from django.urls import reverse

from communitas.core.models import AuditEntry
from communitas.insights import services
from communitas.insights.community_effect import community_effect
from communitas.insights.mixed import MixedModelError, fit_mixed
from communitas.insights.models import AnalysisRun
from communitas.insights.synthetic import Truth, simulate
from communitas.outcomes import services as outcomes
from communitas.programs import services as programs


def synthetic_rows(n_groups=12, group_size=6, n_controls=20, seed=4, truth=None) -> list[dict]:
    """Dataset-shaped rows (see insights.dataset) from the synthetic generator: engagement mapped
    to a share of meetings attended, people in no circle with blank engagement."""
    data = simulate(n_groups=n_groups, group_size=group_size, n_controls=n_controls, seed=seed, truth=truth or Truth())
    rows = []
    for row in data.itertuples():
        grouped = int(row.treated)
        name = f"P{row.participant:04d}"
        rows.append(
            {
                "participant": name,
                "group": f"c{row.group}" if grouped else f"solo-{name}",
                "grouped": grouped,
                "wave": int(row.time),
                "score": float(row.score),
                "engagement": round(1 / (1 + np.exp(-row.engagement)), 4) if grouped else None,
            }
        )
    return rows


def test_the_community_effect_is_the_mixed_model_of_the_dataset_with_the_step_design():
    rows = synthetic_rows()
    result = community_effect(rows, higher_is_better=False)
    df = pd.DataFrame(rows).assign(followup=lambda d: (d.wave > 0).astype(int))
    df["engagement"] = df["engagement"].fillna(0.0)
    direct = fit_mixed(
        df,
        "score ~ followup * (grouped + engagement)",
        participant="participant",
        group="group",
        partially_nested_by="grouped",
    )
    key = result["model"]["fixed_effects"]["followup:engagement"]
    assert result["formula"] == "score ~ followup * (grouped + engagement)" and result["partially_nested"]
    assert key["estimate"] == pytest.approx(direct.fixed_effects["followup:engagement"].estimate, rel=1e-9)
    # lower is better: the headline restates a negative coefficient as more improvement
    headline = result["headline"]
    assert headline["improvement"] == pytest.approx(-key["estimate"])
    assert headline["direction"] == ("more" if key["estimate"] < 0 else "less")
    assert result["n_grouped"] == 72 and result["n_solo"] == 20 and result["solo_n"] == 20
    assert len(result["points"]) == 72 and all(0 <= p["x"] <= 1 for p in result["points"])
    intercept, slope = result["line"]
    fe = result["model"]["fixed_effects"]
    assert slope == pytest.approx(key["estimate"], abs=1e-6)
    assert intercept == pytest.approx(fe["followup"]["estimate"] + fe["followup:grouped"]["estimate"], abs=1e-6)
    assert next(t["label"] for t in result["terms"]) == "Baseline level"


def test_when_everyone_is_in_a_circle_the_model_is_fully_nested():
    rows = synthetic_rows(n_controls=0)
    result = community_effect(rows, higher_is_better=True)
    assert result["formula"] == "score ~ followup * engagement" and not result["partially_nested"]
    key = result["model"]["fixed_effects"]["followup:engagement"]
    assert result["headline"]["improvement"] == pytest.approx(key["estimate"])  # higher is better


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "dataset is empty"),
        ([{**r, "grouped": 0, "group": f"solo-{r['participant']}"} for r in synthetic_rows()], "no participant"),
        ([r for r in synthetic_rows() if r["wave"] == 0 or r["participant"] < "P0003"], "follow-up score"),
    ],
)
def test_data_that_cannot_answer_the_question_get_a_clear_message(rows, message):
    with pytest.raises(MixedModelError, match=message):
        community_effect(rows, higher_is_better=False)


@pytest.fixture
def program(org, alice):
    program = programs.program_create(
        organization=org, actor=alice, name="Spring cohort", substance="psilocybin", jurisdiction="US-OR"
    )
    outcomes.schedule_set(program=program, instrument_code="phq9", actor=None)
    return program


@pytest.fixture
def synthetic_dataset(monkeypatch):
    rows = synthetic_rows()
    monkeypatch.setattr(services, "_analysis_rows", lambda program, instrument: rows)
    return rows


def _request(client, program, instrument="phq9"):
    url = reverse("insights:analysis_request", args=[program.pk])
    return client.post(url, {"instrument": instrument})


def test_a_requested_analysis_runs_in_the_background_and_the_panel_shows_plot_and_model_table(
    alice_client, alice, program, synthetic_dataset, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _request(alice_client, program)
    assert response.status_code == 302 and response["Location"].endswith("?instrument=phq9#community-effect")
    run = AnalysisRun.objects.get()
    assert run.status == "queued" and run.active and run.requested_by == alice and len(callbacks) == 1
    panel = alice_client.get(reverse("insights:analysis_panel", args=[run.pk])).content.decode()
    assert "<progress" in panel and 'hx-trigger="every 2s"' in panel  # the page polls while it waits

    callbacks[0]()  # the worker runs the task
    run.refresh_from_db()
    assert run.status == "done" and run.progress == 100 and run.finished_at is not None
    assert run.result["n_rows"] == len(synthetic_dataset) and run.result["instrument"]["code"] == "phq9"
    panel = alice_client.get(reverse("insights:analysis_panel", args=[run.pk])).content.decode()
    assert 'data-chart="scatter"' in panel and 'data-chart="forest"' in panel and "data-model-table" in panel
    assert "hx-trigger" not in panel  # finished: polling stops
    assert "followup:engagement" in panel and "P0001" not in panel  # no pseudonyms on the panel
    actions = list(AuditEntry.objects.filter(action__startswith="insights.analysis").values_list("action", flat=True))
    assert actions == ["insights.analysis.requested", "insights.analysis.finished"]


def test_a_second_request_while_one_runs_returns_the_running_one(
    alice_client, program, synthetic_dataset, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        _request(alice_client, program)
        _request(alice_client, program)
    assert AnalysisRun.objects.count() == 1
    _request(alice_client, program)  # still waiting for the worker: the same run again
    assert AnalysisRun.objects.count() == 1 and AnalysisRun.objects.get().status == "queued"


def test_a_stale_run_counts_as_interrupted_and_can_be_run_again(
    alice_client, program, synthetic_dataset, django_capture_on_commit_callbacks
):
    with_old = AnalysisRun.objects.create(
        organization=program.organization, program=program, instrument_code="phq9", formula="x", status="running"
    )
    AnalysisRun.objects.filter(pk=with_old.pk).update(updated_at=with_old.updated_at - pd.Timedelta(minutes=30))
    with_old.refresh_from_db()
    assert with_old.stale and not with_old.active
    panel = alice_client.get(reverse("insights:analysis_panel", args=[with_old.pk])).content.decode()
    assert "interrupted" in panel
    with django_capture_on_commit_callbacks(execute=True):
        _request(alice_client, program)
    latest = AnalysisRun.objects.order_by("-pk").first()
    assert latest.pk != with_old.pk and latest.status == "done"


def test_a_model_that_cannot_be_fitted_fails_with_the_reason_and_an_internal_error_is_logged(
    alice_client, program, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "_analysis_rows", lambda program, instrument: [])
    with django_capture_on_commit_callbacks(execute=True):
        _request(alice_client, program)
    run = AnalysisRun.objects.get()
    assert run.status == "failed" and "dataset is empty" in run.error and run.result == {}
    panel = alice_client.get(reverse("insights:analysis_panel", args=[run.pk])).content.decode()
    assert "dataset is empty" in panel and "Run the analysis again" in panel

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "_community_effect", broken)
    monkeypatch.setattr(services, "_analysis_rows", lambda program, instrument: synthetic_rows())
    with django_capture_on_commit_callbacks(execute=True):
        _request(alice_client, program)
    run = AnalysisRun.objects.order_by("-pk").first()
    assert run.status == "failed" and run.error == services.INTERNAL_ERROR and "boom" not in run.error
    assert "analysis run" in caplog.text
    assert AuditEntry.objects.filter(action="insights.analysis.failed").count() == 2


def test_an_instrument_the_program_does_not_collect_is_refused_and_nothing_is_saved(alice_client, program):
    response = _request(alice_client, program, instrument="pcl5")
    assert response.status_code == 302 and AnalysisRun.objects.count() == 0
    assert _request(alice_client, program, instrument="../etc").status_code == 404
    assert AnalysisRun.objects.count() == 0 and not AuditEntry.objects.filter(action__startswith="insights.").exists()


def test_facilitators_may_not_and_other_organizations_cannot_see_a_run(
    bob_client, charlie_client, rita_client, alice_client, program, synthetic_dataset
):
    assert _request(bob_client, program).status_code == 403
    assert _request(charlie_client, program).status_code == 404
    assert _request(rita_client, program).status_code == 302  # researchers may run analyses
    run = AnalysisRun.objects.get()
    assert charlie_client.get(reverse("insights:analysis_panel", args=[run.pk])).status_code == 404
    assert bob_client.get(reverse("insights:analysis_panel", args=[run.pk])).status_code == 403
    assert alice_client.get(reverse("insights:analysis_panel", args=[run.pk])).status_code == 200
    assert alice_client.get(reverse("insights:analysis_panel", args=[run.pk]) + "x").status_code == 404


def test_analysis_requests_need_post(alice_client, program):
    assert alice_client.get(reverse("insights:analysis_request", args=[program.pk])).status_code == 405
