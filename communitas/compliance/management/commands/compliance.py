"""``communitas compliance group-session`` and ``communitas compliance legal-status``.

Bad input (an unknown jurisdiction, a malformed, negative or implausible dose, no clients, a
negative count, an unreadable organization pack) exits 2 with one line on standard error.
"""

import datetime
import json
import math
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from communitas.compliance.legal_status import FRAMEWORKS, LegalStatusInputError
from communitas.compliance.rulepacks import ComplianceInputError, check_group_session, organization_pack
from communitas.compliance.selectors import lawfulness_get


class OneLineErrors(CommandParser):
    """Argument errors as one line on standard error, exit 2 (argparse prints the usage too)."""

    def error(self, message):
        if self.called_from_command_line:
            self.exit(2, f"error: {message} (see {self.prog} --help)\n")
        super().error(message)


class Command(BaseCommand):
    help = (
        "Compliance checks. group-session: communitas compliance group-session --jurisdiction US-OR "
        "--doses-mg 5,12,30 --facilitators 1 [--first-session] [--whole-fungi] [--json]. "
        "legal-status: communitas compliance legal-status --jurisdiction US-OR --substance psilocybin "
        "--framework licensed_service_center [--on YYYY-MM-DD] [--json]. See docs/compliance.md."
    )

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="subcommand", required=True, parser_class=OneLineErrors)
        group = commands.add_parser("group-session", help="check a group administration session")
        group.add_argument("--jurisdiction", required=True, help="ISO 3166-2, e.g. US-OR")
        group.add_argument("--doses-mg", required=True, help="each client's total mg, comma-separated: 5,12,30")
        group.add_argument("--facilitators", required=True, help="facilitators present")
        group.add_argument("--first-session", action="store_true", help="a client under 2.5 mg is new to the center")
        group.add_argument("--whole-fungi", action="store_true")
        group.add_argument("--max-occupancy", help="the administration area's maximum occupancy")
        group.add_argument("--pack", type=Path, help="an organization rule pack (JSON) for a jurisdiction without one")
        group.add_argument("--json", action="store_true")
        legal = commands.add_parser("legal-status", help="is a framework lawful for a substance here?")
        legal.add_argument("--jurisdiction", required=True)
        legal.add_argument("--substance", required=True)
        legal.add_argument("--framework", required=True, help=", ".join(FRAMEWORKS))
        legal.add_argument("--on", help="date (YYYY-MM-DD); default today")
        legal.add_argument("--json", action="store_true")

    def handle(self, *args, subcommand: str, **options):
        try:
            if subcommand == "group-session":
                self._group_session(**options)
            else:
                self._legal_status(**options)
        except (ComplianceInputError, LegalStatusInputError, OSError, UnicodeDecodeError) as exc:
            self.stderr.write(f"error: {' '.join(str(exc).split())}")
            sys.exit(2)

    def _group_session(self, *, jurisdiction, doses_mg, facilitators, pack, max_occupancy, json, **options):
        result = check_group_session(
            jurisdiction=jurisdiction,
            doses_mg=parse_doses(doses_mg),
            facilitators=parse_count(facilitators, "--facilitators"),
            first_session=options["first_session"],
            whole_fungi=options["whole_fungi"],
            pack=organization_pack(pack.read_text(encoding="utf-8")) if pack else None,
            max_occupancy=None if max_occupancy is None else parse_count(max_occupancy, "--max-occupancy"),
        )
        if json:
            self.stdout.write(_dumps(result.as_dict()))
            return
        self.stdout.write(
            f"{'OK' if result.ok else 'NOT ALLOWED'}: at least {result.min_facilitators} facilitator(s), "
            f"at most {result.max_clients} clients, at least {result.min_duration_minutes} minutes"
        )
        for kind, items in (("violation", result.violations), ("warning", result.warnings)):
            for item in items:
                self.stdout.write(f"  [{kind}] {item.rule}: {item.message} ({item.source})")

    def _legal_status(self, *, jurisdiction, substance, framework, on, json, **options):
        day = parse_date(on) if on else datetime.date.today()
        result = lawfulness_get(jurisdiction=jurisdiction, substance=substance, framework=framework, on=day)
        if json:
            self.stdout.write(_dumps(result.as_dict()))
            return
        self.stdout.write(result.explanation)
        for caveat in result.caveats:
            self.stdout.write(f"  - {caveat}")
        for layer in result.layers_used:
            self.stdout.write(f"  {layer.level} {layer.jurisdiction}: {layer.verdict} ({layer.row or 'no row'})")


def parse_doses(text: str) -> list[float]:
    """ "5,12,30" -> [5.0, 12.0, 30.0]; a malformed list raises ComplianceInputError."""
    parts = [part.strip() for part in text.split(",")]
    if parts == [""]:
        raise ComplianceInputError("--doses-mg: no clients (give one total dose in mg per client)")
    doses = []
    for part in parts:
        try:
            dose = float(part)
        except ValueError:
            raise ComplianceInputError(f"--doses-mg: {part!r} is not a number of mg") from None
        if not math.isfinite(dose):
            raise ComplianceInputError(f"--doses-mg: {part!r} is not a number of mg")
        doses.append(dose)
    return doses


def parse_count(text: str, name: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ComplianceInputError(f"{name}: {text!r} is not a whole number") from None
    if value < 0:
        raise ComplianceInputError(f"{name}: {value} is negative")
    return value


def parse_date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise ComplianceInputError(f"--on: {text!r} is not a date (YYYY-MM-DD)") from None


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False)
