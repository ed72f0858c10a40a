"""Questionnaires for ``seed-scale``: every placed person's assessments over the program's
timepoints, the answered ones with their responses and scores, and a safety alert for each
positive PHQ-9 item 9 (rare; the older ones acknowledged).

Answers come from a pool drawn per instrument and total (a few different answer patterns for
each possible total) and every pattern is scored once by the real engine
(``outcomes.scoring.score``), so each stored score is exactly what the engine says about its
answers. Severity follows the demo's model: improvement after the session that lasts more with
circle engagement (``Plan.gain_factor``) plus each circle's small shared effect.
"""

from __future__ import annotations

import datetime
import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from communitas.demo.outcomes_seed import IMPROVEMENT, POST_SESSION_ONLY, RESPONSE_RATE
from communitas.demo.scale_context import Context
from communitas.demo.scale_plan import Person
from communitas.demo.scale_writer import RawJSON, Table
from communitas.outcomes import schedules
from communitas.outcomes.definitions import Instrument, get_builtin
from communitas.outcomes.models import Assessment, Response, Score
from communitas.outcomes.scoring import score
from communitas.safety.models import SafetyAlert

VARIANTS = 6  # answer patterns per instrument and total
RISK_VARIANTS = 3
RISK = {"baseline": 0.008}  # share of PHQ-9 answers with item 9 above 0, by timepoint
RISK_LATER = 0.002
OPEN_ANSWERED = 0.4  # of questionnaires open today, already answered
STAFF_ENTERED = 0.08
NOISE = 0.06
CHUNK = 2_000  # people per round of writes
ACKNOWLEDGED_AFTER = datetime.timedelta(days=3)
ACK_NOTE = "Called the participant the same day; safety plan reviewed with their facilitator; not at imminent risk."


@dataclass(frozen=True)
class Scored:
    answers: RawJSON
    value9: int  # PHQ-9 item 9 (0 elsewhere)
    complete: bool
    total: float | None
    band: str
    subscales: RawJSON
    flags: RawJSON
    extras: RawJSON
    safety: tuple[str, ...]  # safety flags raised


class Pool:
    """Answer patterns of one instrument, by total, each scored once."""

    def __init__(self, instrument: Instrument, rng: random.Random):
        self.instrument = instrument
        items = instrument.scored_items
        self.low = int(instrument.response_set_for(items[0]).low)
        self.high = int(instrument.response_set_for(items[0]).high)
        self.n = len(items)
        self.higher_is_better = instrument.scoring.higher_is_better
        self.safety = {f.code for f in instrument.flags if f.kind == "safety"}
        keep_zero = ("9",) if instrument.code == "phq9" else ()
        totals = range(self.low * self.n, self.high * self.n + 1)
        self.plain = {t: [self._scored(self._fill(t, rng, keep_zero)) for _ in range(VARIANTS)] for t in totals}
        self.risky: dict[int, list[Scored]] = {}
        if keep_zero:
            self.risky = {t: [self._scored(self._fill(t, rng, (), risk=True)) for _ in range(RISK_VARIANTS)]
                          for t in totals}  # fmt: skip

    def _fill(self, total: int, rng: random.Random, keep_zero: tuple[str, ...], *, risk: bool = False) -> dict:
        """Answers adding up to ``total`` (as close as the items allow), as in the demo seed."""
        answers = {i.id: self.low for i in self.instrument.scored_items}
        if risk:
            answers["9"] = self.low + 1
        free = [i.id for i in self.instrument.scored_items if i.id not in keep_zero and not (risk and i.id == "9")]
        room = min(max(total - sum(answers.values()), 0), (self.high - self.low) * len(free))
        while room > 0:
            item = rng.choice(free)
            if answers[item] < self.high:
                answers[item] += 1
                room -= 1
        return answers

    def _scored(self, answers: dict) -> Scored:
        result = score(self.instrument, answers)
        return Scored(
            answers=RawJSON(json.dumps(answers)),
            value9=int(answers.get("9", 0)) if self.instrument.code == "phq9" else 0,
            complete=result.complete,
            total=result.total,
            band=result.band or "",
            subscales=RawJSON(json.dumps(result.subscales)),
            flags=RawJSON(json.dumps(result.flags)),
            extras=RawJSON(json.dumps(asdict(result)["extras"])),
            safety=tuple(f for f in result.flags if f in self.safety),
        )

    def draw(self, severity: float, rng: random.Random, *, risk: bool = False) -> Scored:
        if self.higher_is_better:
            severity = 1 - severity
        level = max(0.0, min(1.0, severity + rng.gauss(0, NOISE)))
        total = self.low * self.n + round(level * (self.high - self.low) * self.n)
        return rng.choice((self.risky if risk and self.risky else self.plain)[total])


class RandomPool(Pool):
    """Experience questionnaires (MEQ-30): answers not tied to severity."""

    def __init__(self, instrument: Instrument, rng: random.Random):
        self.instrument = instrument
        self.safety = set()
        self.higher_is_better = False
        self.patterns = [
            self._scored({i.id: rng.choice([1, 2, 3, 3, 4, 4, 5]) for i in instrument.items}) for _ in range(300)
        ]

    def draw(self, severity: float, rng: random.Random, *, risk: bool = False) -> Scored:
        return rng.choice(self.patterns)


def schedules_for(instruments: tuple[str, ...]) -> list[tuple[str, list[schedules.Timepoint]]]:
    """Each of the program's questionnaires at the default timepoints, and the MEQ-30 the day
    after the session (as in the demo's Oregon program)."""
    out = [(code, list(schedules.DEFAULT_TIMEPOINTS)) for code in instruments]
    return [*out, ("meq30", schedules.parse_timepoints(POST_SESSION_ONLY))]


def make_pools(codes: set[str], rng: random.Random) -> dict[str, Pool]:
    return {code: (RandomPool if code == "meq30" else Pool)(get_builtin(code), rng) for code in sorted(codes)}


class OutcomeWriter:
    def __init__(self, ctx: Context, rng: random.Random):
        self.ctx, self.rng = ctx, rng
        self.plan = ctx.plan
        self.schedules = {n: schedules_for(spec.instruments) for n, spec in enumerate(self.plan.programs)}
        self.pools = make_pools({code for s in self.schedules.values() for code, _tps in s}, rng)
        self.assessments = Table(
            Assessment,
            ["id", "organization_id", "created_at", "updated_at", "participant_id", "enrollment_id",
             "instrument_code", "timepoint", "due_on", "opens_on", "closes_on", "language", "draft_answers",
             "draft_saved_at", "last_reminded_at", "cancelled_at", "responded_at"],
        )  # fmt: skip
        self.responses = Table(
            Response,
            ["id", "organization_id", "created_at", "updated_at", "assessment_id", "participant_id",
             "instrument_code", "instrument_version", "language", "answers", "source", "submission_id",
             "submitted_at", "entered_by_id"],
        )  # fmt: skip
        self.scores = Table(
            Score,
            ["organization_id", "created_at", "updated_at", "response_id", "instrument_code", "complete", "total",
             "band", "subscales", "flags", "extras"],
        )  # fmt: skip
        self.alerts: list[tuple[Person, int, datetime.datetime, Scored]] = []
        self.sample_assessment: int | None = None
        self.empty = RawJSON("{}")

    def run(self) -> None:
        placed = [p for p in self.plan.persons if p.kind in "APWE"]
        self.ctx.progress.start("questionnaires", len(placed))
        for start in range(0, len(placed), CHUNK):
            self._chunk(placed[start : start + CHUNK])
            self.ctx.progress.advance(len(placed[start : start + CHUNK]))
        self.ctx.progress.finish()
        self._write_alerts()

    def _chunk(self, persons: list[Person]) -> None:
        planned = []  # (person, code, timepoint, due, opens, closes)
        for person in persons:
            cohort = self.plan.cohorts[person.cohort]
            for code, timepoints in self.schedules[cohort.program]:
                for tp in timepoints:
                    planned.append((person, code, tp.code, *schedules.window(cohort.administration, tp)))
        ids = self.ctx.writer.ids(Assessment, len(planned))
        assessment_rows, answered = [], []
        for pk, (person, code, timepoint, due, opens, closes) in zip(ids, planned, strict=True):
            row, response = self._assessment(pk, person, code, timepoint, due, opens, closes)
            assessment_rows.append(row)
            if response is not None:
                answered.append(response)
        self.ctx.writer.write(self.assessments, assessment_rows)
        response_ids = self.ctx.writer.ids(Response, len(answered))
        self.ctx.writer.write(self.responses, self._response_rows(answered, response_ids))
        self.ctx.writer.write(self.scores, self._score_rows(answered, response_ids))

    def _assessment(self, pk, person, code, timepoint, due, opens, closes) -> tuple[tuple, tuple | None]:
        ctx, rng, today = self.ctx, self.rng, self.plan.today
        created = ctx.cap(person.registered + datetime.timedelta(days=3))
        cancelled = None
        if person.withdrawn_on is not None and due > person.withdrawn_on:
            cancelled = datetime.datetime.combine(person.withdrawn_on, datetime.time(12), tzinfo=datetime.UTC)
        answered = None
        if cancelled is None and opens <= today:
            rate = RESPONSE_RATE.get(timepoint, 0.7)
            if today <= closes:
                rate *= OPEN_ANSWERED
                if self.sample_assessment is None and person.index == self.plan.sample_person:
                    self.sample_assessment, rate = pk, 0.0
            if rng.random() < rate:
                answered = self._response(pk, person, code, timepoint, due, opens, min(closes, today))
        reminded = None
        if answered is None and cancelled is None and opens <= today <= closes and rng.random() < 0.5:
            reminded = ctx.now - datetime.timedelta(hours=rng.randint(1, 70))
        language = answered[3] if answered else ""
        updated = answered[6] if answered else (cancelled or reminded or created)
        row = (
            pk, ctx.org_id, created, max(created, updated), person.pk, ctx.enrollment_ids[person.index], code,
            timepoint, due, opens, closes, language, self.empty, None, reminded, cancelled,
            answered[6] if answered else None,
        )  # fmt: skip
        return row, answered

    def _response(self, pk, person, code, timepoint, due, opens, last) -> tuple:
        rng, plan = self.rng, self.plan
        day = max(opens, min(due + datetime.timedelta(days=rng.randint(-1, 2)), last))
        when = datetime.datetime.combine(
            day, datetime.time(rng.randint(15, 23), rng.randint(0, 59), rng.randint(0, 59)), tzinfo=datetime.UTC
        )
        when = self.ctx.cap(when)
        gain = IMPROVEMENT.get(timepoint, 0.3) * (1 if person.responder else 0.25) * plan.gain_factor(person, due)
        severity = person.severity * (1 - gain) - plan.circle_shift(person, due)
        risky = code == "phq9" and rng.random() < RISK.get(timepoint, RISK_LATER)
        scored = self.pools[code].draw(severity, rng, risk=risky)
        pool = self.pools[code]
        language = "es" if person.language == "es" and "es" in pool.instrument.languages else "en"
        staff = rng.random() < STAFF_ENTERED
        submission = uuid.uuid4().hex  # unique across organizations and runs, like a browser's
        return (pk, person, code, language, scored, staff, when, submission)

    def _response_rows(self, answered: list[tuple], ids: list[int]) -> Iterator[tuple]:
        coordinator = self.ctx.staff.coordinator.pk
        for response_id, (pk, person, code, language, scored, staff, when, submission) in zip(
            ids, answered, strict=True
        ):
            if scored.safety:
                self.alerts.append((person, response_id, when, scored))
            yield (
                response_id, self.ctx.org_id, when, when, pk, person.pk, code, self.pools[code].instrument.version,
                language, scored.answers, "staff" if staff else "link", submission, when,
                coordinator if staff else None,
            )  # fmt: skip

    def _score_rows(self, answered: list[tuple], ids: list[int]) -> Iterator[tuple]:
        for response_id, (_pk, _person, code, _language, s, _staff, when, _sub) in zip(ids, answered, strict=True):
            yield (
                self.ctx.org_id, when, when, response_id, code, s.complete, s.total, s.band, s.subscales, s.flags,
                s.extras,
            )  # fmt: skip

    def _write_alerts(self) -> None:
        ctx = self.ctx
        table = Table(
            SafetyAlert,
            ["organization_id", "created_at", "updated_at", "participant_id", "flag", "summary", "source_type",
             "source_id", "assigned_to_id", "acknowledged_at", "acknowledged_by_id", "acknowledgement_note"],
        )  # fmt: skip
        name = self.pools["phq9"].instrument.name if "phq9" in self.pools else "PHQ-9"
        rows = []
        for person, response_id, when, scored in self.alerts:
            done = when + ACKNOWLEDGED_AFTER < ctx.now
            acknowledged = when + datetime.timedelta(hours=self.rng.randint(1, 30)) if done else None
            for flag in scored.safety:
                rows.append((
                    ctx.org_id, when, acknowledged or when, person.pk, flag,
                    f"{name} item 9: answered {scored.value9}", Response._meta.label_lower, str(response_id),
                    ctx.staff.coordinator.pk, acknowledged, ctx.staff.clinician.pk if done else None,
                    ACK_NOTE if done else "",
                ))  # fmt: skip
        ctx.writer.write(table, rows)
        ctx.counts["safety_alerts_open"] = sum(1 for r in rows if r[9] is None)
