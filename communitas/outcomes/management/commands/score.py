import json
import sys

from django.core.management.base import BaseCommand

from communitas.outcomes.definitions import InstrumentError, get_builtin
from communitas.outcomes.scoring import ScoringError, answers_from_list, score


def parse_answers(text: str) -> list[float | None]:
    """'1,2,,3' -> [1, 2, None, 3]; an empty entry is a missing answer."""
    values: list[float | None] = []
    for n, raw in enumerate(text.split(","), start=1):
        raw = raw.strip()
        if raw == "":
            values.append(None)
            continue
        try:
            number = float(raw)
        except ValueError:
            raise ScoringError(f"answer {n}: {raw!r} is not a number") from None
        values.append(int(number) if number.is_integer() else number)
    return values


class Command(BaseCommand):
    help = "Score one response: communitas score CODE ANSWERS [--json]; ANSWERS in item order, '' = missing."

    def add_arguments(self, parser):
        parser.add_argument("code", help="instrument code, e.g. phq9")
        parser.add_argument("answers", help="comma-separated answers in item order; leave an entry empty if missing")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, code: str, answers: str, json: bool = False, **options):
        try:
            instrument = get_builtin(code)
            result = score(instrument, answers_from_list(instrument, parse_answers(answers)))
        except (InstrumentError, ScoringError) as exc:
            self.stderr.write(f"error: {exc}")
            sys.exit(2)
        data = result.as_dict()
        if json:
            self.stdout.write(_dumps(data))
            return
        total = (
            "incomplete (missing items: " + ", ".join(result.missing_items) + ")"
            if result.total is None
            else result.total
        )
        self.stdout.write(f"{instrument.name}: {total}" + (f" ({result.band})" if result.band else ""))
        for key, value in data.items():
            if key not in {"instrument", "total", "band"} and value not in ({}, [], None):
                self.stdout.write(f"  {key}: {value}")


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False)
