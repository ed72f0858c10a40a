"""Oregon's 303 Client Data Form (SB 303, 2023; ORS 475A.372/.374, OAR 333-333-4910), as data.

Every client who will be dosed completes the form before or during preparation; a checkbox lets
them withhold their data (research/regulatory.md §1.8). The fields and their categories live in
``data/sb303.json`` with their source; this module loads them once and validates answers, so the
form, the staff page and the quarterly report (``interop.sb303``) read one definition.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")  # as participants.models.language_tag


@dataclass(frozen=True)
class Field:
    code: str
    label: str
    choices: tuple[tuple[str, str], ...] = ()
    multiple: bool = False
    language: bool = False

    def codes(self) -> list[str]:
        return [code for code, _label in self.choices]


@dataclass(frozen=True)
class Definition:
    source: str
    fields: tuple[Field, ...]
    age_bands: tuple[tuple[int, int | None], ...]
    due_days_after_quarter: int

    def field(self, code: str) -> Field:
        for field in self.fields:
            if field.code == code:
                return field
        raise KeyError(code)


@cache
def definition() -> Definition:
    raw = json.loads(resources.files("communitas.compliance").joinpath("data/sb303.json").read_text("utf-8"))
    return Definition(
        source=raw["source"],
        fields=tuple(
            Field(
                code=f["code"],
                label=f["label"],
                choices=tuple((c, label) for c, label in f.get("choices", [])),
                multiple=f.get("multiple", False),
                language=f.get("language", False),
            )
            for f in raw["fields"]
        ),
        age_bands=tuple((low, high) for low, high in raw["age_bands"]),
        due_days_after_quarter=raw["due_days_after_quarter"],
    )


class ClientDataError(ValueError):
    """Answers that do not fit the form (message for the user); nothing is saved."""


def clean_answers(answers: dict) -> dict:
    """Answers keyed by field code: a choice code (a list for multiple-choice fields) or a
    language tag. Unknown fields or codes are refused; a field left out is simply unanswered."""
    if not isinstance(answers, dict):
        raise ClientDataError("answers must be an object keyed by field code")
    known = {f.code: f for f in definition().fields}
    unknown = sorted(set(answers) - set(known))
    if unknown:
        raise ClientDataError(f"unknown field(s): {', '.join(unknown)}")
    clean: dict = {}
    for code, value in answers.items():
        field = known[code]
        if value in (None, "", []):
            continue
        if field.language:
            if not isinstance(value, str) or not LANGUAGE_TAG.fullmatch(value):
                raise ClientDataError(f"{code}: a language tag such as en or es")
            clean[code] = value.lower()
            continue
        values = value if field.multiple else [value]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ClientDataError(f"{code}: {'a list of codes' if field.multiple else 'one code'}")
        bad = [v for v in values if v not in field.codes()]
        if bad:
            raise ClientDataError(f"{code}: unknown code(s) {', '.join(bad)}")
        if field.multiple and "declined" in values and len(values) > 1:
            raise ClientDataError(f"{code}: 'declined' cannot be combined with other answers")
        clean[code] = sorted(set(values)) if field.multiple else values[0]
    return clean
