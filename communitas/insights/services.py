"""Insights writes: requesting a community-effect analysis and running it (in the background).

A request is audited and answered at once; the fit runs in a task (``tasks.run_analysis``) that
reports progress on the ``AnalysisRun`` row. Failure is recorded with a message for the user,
never swallowed; a second request while one is running returns the running one.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from communitas.core.audit import audit_record
from communitas.insights.models import AnalysisRun
from communitas.outcomes.definitions import InstrumentError
from communitas.outcomes.models import AssessmentSchedule
from communitas.outcomes.registry import instrument_for
from communitas.programs.models import Program

logger = logging.getLogger(__name__)
FORMULA = "score ~ followup * (grouped + engagement)"  # see community_effect; narrowed when all are grouped
INTERNAL_ERROR = (
    "The analysis stopped with an internal error; it has been logged. Try again or tell your administrator."
)


class AnalysisRequestError(ValueError):
    """The request cannot be accepted (message meant for the user); nothing was saved."""


def analysis_run_request(*, program: Program, instrument_code: str, actor, enqueue: bool = True) -> AnalysisRun:
    """Queue an analysis of ``program`` on ``instrument_code``, or return the one already running.
    With ``enqueue=False`` the caller runs it (``analysis_run_execute``) itself, as the demo does."""
    if not AssessmentSchedule.objects.filter(program=program, instrument_code=instrument_code).exists():
        raise AnalysisRequestError(f"the program does not collect {instrument_code!r}")
    with transaction.atomic():
        Program.objects.select_for_update().get(pk=program.pk)  # one request at a time per program
        latest = AnalysisRun.objects.filter(program=program, instrument_code=instrument_code).order_by("-pk").first()
        if latest is not None and latest.active:
            return latest
        run = AnalysisRun.objects.create(
            organization_id=program.organization_id,
            program=program,
            instrument_code=instrument_code,
            formula=FORMULA,
            requested_by=actor,
            stage="Waiting for a worker",
        )
        audit_record(
            action="insights.analysis.requested",
            actor=actor,
            organization_id=program.organization_id,
            obj=run,
            data={"program": program.pk, "instrument": instrument_code},
        )
        from communitas.insights.tasks import run_analysis

        if enqueue:
            transaction.on_commit(lambda: run_analysis.enqueue(run.pk))
    return run


def _analysis_rows(program, *, instrument: str) -> list[dict]:
    from communitas.insights.dataset import analysis_rows

    return analysis_rows(program, instrument=instrument)


def _community_effect(rows, **kwargs) -> dict:
    from communitas.insights.community_effect import community_effect

    return community_effect(rows, **kwargs)


def _progress(run: AnalysisRun, pct: int, stage: str) -> None:
    AnalysisRun.objects.filter(pk=run.pk).update(progress=pct, stage=stage, updated_at=timezone.now())


def analysis_run_execute(run: AnalysisRun) -> AnalysisRun:
    """Run a queued analysis to the end: done with a result, or failed with a message."""
    claimed = AnalysisRun.objects.filter(pk=run.pk, status=AnalysisRun.Status.QUEUED).update(
        status=AnalysisRun.Status.RUNNING, started_at=timezone.now(), progress=5, stage="Reading the analysis dataset"
    )
    if not claimed:  # already run (or running) elsewhere: tasks are idempotent
        run.refresh_from_db()
        return run
    from communitas.insights.mixed import MixedModelError  # numpy, scipy, pandas: loaded when a fit runs

    program = run.program
    try:
        instrument = instrument_for(program.organization_id, run.instrument_code)
        rows = _analysis_rows(program, instrument=run.instrument_code)
        _progress(run, 15, "Preparing the model")
        result = _community_effect(
            rows,
            higher_is_better=instrument.scoring.higher_is_better,
            progress=lambda pct, stage: _progress(run, pct, stage),
        )
        result["instrument"] = {"code": instrument.code, "name": instrument.name}
        result["n_rows"] = len(rows)
    except (MixedModelError, InstrumentError) as exc:
        return _finish(run, status=AnalysisRun.Status.FAILED, error=str(exc))
    except Exception:
        logger.exception("analysis run %s failed", run.pk)
        return _finish(run, status=AnalysisRun.Status.FAILED, error=INTERNAL_ERROR)
    return _finish(run, status=AnalysisRun.Status.DONE, result=result, formula=result["formula"])


def _finish(
    run: AnalysisRun, *, status: str, error: str = "", result: dict | None = None, formula: str = ""
) -> AnalysisRun:
    with transaction.atomic():
        run = AnalysisRun.objects.select_for_update().get(pk=run.pk)
        run.status = status
        run.error = error
        run.result = result or {}
        run.formula = formula or run.formula
        run.progress = 100
        run.stage = "Finished" if status == AnalysisRun.Status.DONE else "Stopped"
        run.finished_at = timezone.now()
        run.save()
        audit_record(
            action=f"insights.analysis.{'finished' if status == AnalysisRun.Status.DONE else 'failed'}",
            actor=None,
            organization_id=run.organization_id,
            obj=run,
            data={"program": run.program_id, "instrument": run.instrument_code, "n_rows": (result or {}).get("n_rows")},
        )
    return run
