"""Assessment timepoints anchored to the administration session date. Pure.

The timepoints are the ones the project asks for (baseline, the day after the session, 1 week,
1, 3, 6 and 12 months); the windows are Communitas' defaults, editable per program.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Timepoint:
    code: str
    offset_days: int  # due date relative to the administration session
    opens_before: int  # the window opens this many days before the due date
    closes_after: int  # and closes this many days after it

    def as_dict(self) -> dict:
        return asdict(self)


DEFAULT_TIMEPOINTS: tuple[Timepoint, ...] = (
    Timepoint("baseline", -7, 21, 7),
    Timepoint("post_session", 1, 0, 3),
    Timepoint("week_1", 7, 2, 4),
    Timepoint("month_1", 30, 7, 7),
    Timepoint("month_3", 91, 14, 14),
    Timepoint("month_6", 182, 21, 21),
    Timepoint("month_12", 365, 30, 30),
)
ORDER = {tp.code: n for n, tp in enumerate(DEFAULT_TIMEPOINTS)}


class ScheduleError(ValueError):
    pass


def parse_timepoints(data: list[dict]) -> list[Timepoint]:
    if not isinstance(data, list) or not 1 <= len(data) <= 30:
        raise ScheduleError("a schedule needs 1 to 30 timepoints")
    out = []
    for n, row in enumerate(data, start=1):
        try:
            tp = Timepoint(
                code=str(row["code"]),
                offset_days=int(row["offset_days"]),
                opens_before=int(row.get("opens_before", 0)),
                closes_after=int(row.get("closes_after", 0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ScheduleError(f"timepoint {n}: needs code and whole-number offset_days ({exc})") from None
        if not tp.code.replace("_", "").isalnum() or len(tp.code) > 30:
            raise ScheduleError(f"timepoint {n}: code must be letters, digits and _ (at most 30)")
        if tp.opens_before < 0 or tp.closes_after < 0 or abs(tp.offset_days) > 3650:
            raise ScheduleError(f"timepoint {n}: windows must be >= 0 days and offsets within 10 years")
        out.append(tp)
    if len({tp.code for tp in out}) != len(out):
        raise ScheduleError("timepoint codes must be unique")
    return out


def window(anchor: datetime.date, tp: Timepoint) -> tuple[datetime.date, datetime.date, datetime.date]:
    """(due, opens, closes) for one timepoint."""
    due = anchor + datetime.timedelta(days=tp.offset_days)
    return due, due - datetime.timedelta(days=tp.opens_before), due + datetime.timedelta(days=tp.closes_after)


def status(today: datetime.date, opens: datetime.date, closes: datetime.date, *, completed: bool) -> str:
    if completed:
        return "completed"
    if today < opens:
        return "upcoming"
    return "open" if today <= closes else "overdue"
