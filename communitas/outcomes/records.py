"""The questionnaires part of a participant's record (``participants.records``, which finds this
module by name): each assessment they were given, their answers and the scores.

What a destruction keeps: nothing. Outcome reports read only participants who are not archived
(``insights``), so once a record is destroyed no report counts these rows; answers, scores,
assessments and their links are deleted.
"""

from __future__ import annotations

from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from communitas.outcomes.definitions import InstrumentError
from communitas.outcomes.models import Assessment, Response, Score
from communitas.outcomes.registry import instruments_for
from communitas.participants.models import Participant
from communitas.participants.records import RecordSection, Rows, day, register, row


def _status(assessment: Assessment, response: Response | None) -> str:
    if response is not None:
        return str(_("Answered"))
    if assessment.cancelled_at is not None:
        return str(_("Cancelled"))
    return str(_("Started, not sent")) if assessment.draft_answers else str(_("Not answered"))


def _questionnaires(participant: Participant) -> Rows:
    try:
        names = {code: i.name for code, i in instruments_for(participant.organization_id).items()}
    except InstrumentError:
        names = {}
    responses = {r.assessment_id: r for r in Response.objects.filter(participant=participant)}
    scores = {s.response_id: s for s in Score.objects.filter(response__participant=participant)}
    rows = []
    for a in Assessment.objects.filter(participant=participant).order_by("due_on", "pk"):
        response = responses.get(a.pk)
        score = scores.get(response.pk) if response else None
        rows.append(
            row(
                questionnaire=names.get(a.instrument_code, a.instrument_code),
                timepoint=a.timepoint,
                due_on=a.due_on,
                status=_status(a, response),
                submitted_at=response.submitted_at if response else None,
                answers=response.answers if response else a.draft_answers,
                score=score.total if score else None,
                band=score.band if score else "",
                subscales=score.subscales if score else {},
                flags=score.flags if score else [],
            )
        )
    return rows


def _erase(participant: Participant) -> int:
    scores, _counts = Score.objects.filter(response__participant=participant).delete()
    responses, _counts = Response.objects.filter(participant=participant).delete()
    assessments, _counts = Assessment.objects.filter(participant=participant).delete()  # links cascade
    return scores + responses + assessments


register(
    RecordSection(
        key="outcomes.questionnaires",
        title=_("Questionnaires: your answers and scores"),
        fields=(
            ("questionnaire", _("Questionnaire")),
            ("timepoint", _("Timepoint")),
            ("due_on", _("Due")),
            ("status", _("Status")),
            ("submitted_at", _("Sent")),
            ("answers", _("Answers")),
            ("score", _("Score")),
            ("band", _("Band")),
            ("subscales", _("Subscales")),
            ("flags", _("Flags")),
        ),
        collect=_questionnaires,
        order=50,
        last_service=lambda p: day(
            Response.objects.filter(participant=p).aggregate(newest=Max("submitted_at"))["newest"]
        ),
        erase=_erase,
        keeps=_("Nothing: answers, scores and assessments are deleted."),
    )
)
