"""How long a participant's records are kept: the periods per jurisdiction (cited data in
``data/retention.json``) and the arithmetic over them. Pure: no ORM.

A record is kept for the longest period among the jurisdictions it falls under (the
organization's and those of every program the person was enrolled in), counted from the last
service recorded for them. If any of those jurisdictions has no known period, or none is known
at all, the record has no automatic end (``until`` is ``None``): Communitas never invents a
period, and destruction on request is refused until one is known.
"""

from __future__ import annotations

import datetime
import functools
import json
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Rule:
    jurisdiction: str
    years: int | None
    summary: str
    citation: str  # the rule, as a lawyer would cite it
    url: str  # where its text was read
    research: str  # where the project summarised it
    caveats: str = ""


@dataclass(frozen=True)
class Retention:
    """The period that applies to one record, and why."""

    years: int | None  # None: unknown, no automatic end
    rules: tuple[Rule, ...]  # the rules that were found, known or not
    unknown: tuple[str, ...]  # jurisdictions without a known period (or none given at all)
    last_service: datetime.date | None
    until: datetime.date | None  # the last day the record must be kept

    def ended(self, today: datetime.date) -> bool:
        return self.until is not None and today > self.until


@functools.cache
def rules() -> dict[str, Rule]:
    text = (resources.files("communitas.participants") / "data" / "retention.json").read_text(encoding="utf-8")
    data = json.loads(text)
    return {
        code: Rule(
            code,
            row.get("years"),
            row.get("summary", ""),
            row["citation"],
            row.get("url", ""),
            row.get("research", ""),
            row.get("caveats", ""),
        )
        for code, row in data["jurisdictions"].items()
    }


def rule_for(jurisdiction: str) -> Rule | None:
    """The rule for ``US-OR-MUL`` is the county's if listed, else ``US-OR``'s, else ``US``'s."""
    parts = jurisdiction.strip().upper().split("-")
    table = rules()
    while parts:
        found = table.get("-".join(parts))
        if found is not None:
            return found
        parts.pop()
    return None


def add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


def retention_for(jurisdictions: set[str], last_service: datetime.date | None) -> Retention:
    codes = sorted(code for code in jurisdictions if code)
    found = {code: rule_for(code) for code in codes}
    known = [rule for rule in found.values() if rule is not None and rule.years is not None]
    unknown = tuple(code for code, rule in found.items() if rule is None or rule.years is None) or (
        () if codes else ("",)
    )
    applied = tuple(dict.fromkeys(rule for rule in found.values() if rule is not None))
    if unknown or not known:
        return Retention(None, applied, unknown, last_service, None)
    years = max(rule.years for rule in known if rule.years is not None)
    until = add_years(last_service, years) if last_service is not None else None
    return Retention(years, applied, (), last_service, until)
