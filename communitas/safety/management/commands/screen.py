import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from communitas.safety.screening.engine import JURISDICTION, ScreeningInputError, parse_answers, screen


class Command(BaseCommand):
    help = (
        "Screen one person: communitas screen --substance S --jurisdiction CODE --answers FILE.json [--json]. "
        "The answers vocabulary is documented in docs/screening.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("--substance", required=True)
        parser.add_argument("--jurisdiction", required=True, help="ISO 3166-2, e.g. US-OR")
        parser.add_argument("--answers", required=True, type=Path, help="JSON file ('-' for standard input)")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, substance: str, jurisdiction: str, answers: Path, json: bool = False, **options):
        try:
            if not JURISDICTION.fullmatch(jurisdiction):
                raise ScreeningInputError(f"jurisdiction {jurisdiction!r} is not an ISO 3166 code such as US-OR")
            text = sys.stdin.read() if str(answers) == "-" else answers.read_text(encoding="utf-8")
            result = screen(parse_answers(text), substance=substance, jurisdiction=jurisdiction)
        except (ScreeningInputError, OSError, UnicodeDecodeError) as exc:
            self.stderr.write(f"error: {exc}")
            sys.exit(2)
        if json:
            self.stdout.write(_dumps(result.as_dict()))
            return
        self.stdout.write(
            f"{result.outcome.upper()}" + (" (escalate: page a clinician today)" if result.escalate else "")
        )
        for reason in result.reasons:
            self.stdout.write(f"  [{reason.severity}] {reason.rule}: {reason.explanation} ({reason.source})")


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False)
