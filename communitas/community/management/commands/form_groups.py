"""``communitas form-groups INPUT.json [--time-limit S] [--workers N] [--seed N] [--json]``.

Exit status: 0 when circles were formed (optimal or feasible); 1 when none were (proven infeasible,
with the clashing rules named, or no assignment found in time); 2 for bad input (unreadable file,
malformed JSON, unknown ids, bad options), with one line on standard error. docs/group-formation.md.
"""

import json
import math
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from communitas.community.formation import FormationInputError, FormationResult, form_groups, parse_problem

DETAILS_SHOWN = 5


class Command(BaseCommand):
    help = (
        "Form circles: communitas form-groups INPUT.json [--time-limit S] [--workers N] [--seed N] [--json]. "
        "The input schema is documented in docs/group-formation.md. Exit 0: circles formed; 1: none "
        "(infeasible or out of time); 2: bad input."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.error = _one_line_error(parser)  # type: ignore[method-assign]
        return parser

    def add_arguments(self, parser):
        parser.add_argument("input", type=Path, help="problem JSON file ('-' for standard input)")
        parser.add_argument("--time-limit", default="60", help="seconds for the solver (default 60)")
        parser.add_argument("--workers", default=None, help="solver threads (default: the machine's cores)")
        parser.add_argument("--seed", default="0", help="the solver's random seed (default 0)")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, input: Path, time_limit: str, workers: str | None, seed: str, json: bool, **options):
        try:
            limit = _number(time_limit, "--time-limit")
            threads = None if workers is None else _whole(workers, "--workers", low=1)
            text = sys.stdin.read() if str(input) == "-" else input.read_text(encoding="utf-8")
            problem = parse_problem(text)
            result = form_groups(problem, time_limit_s=limit, workers=threads, seed=_whole(seed, "--seed", low=0))
        except (FormationInputError, OSError, UnicodeDecodeError) as exc:
            self.stderr.write(f"error: {' '.join(str(exc).split())}")
            sys.exit(2)
        if json:
            self.stdout.write(_dumps(result.as_dict()))
        else:
            self._print(result)
        if result.status not in ("optimal", "feasible"):
            sys.exit(1)

    def _print(self, result: FormationResult) -> None:
        self.stdout.write(_headline(result))
        for conflict in result.conflicts:
            self.stdout.write(f"  [{conflict.rule}] {conflict.message}")
        members: dict[str, list[str]] = {cid: [] for cid in result.facilitators}
        for applicant, circle in result.assignments.items():
            members[circle].append(applicant)
        for circle, people in members.items():
            leads = ", ".join(result.facilitators[circle]) or "no facilitator"
            self.stdout.write(f"{circle} ({len(people)}; {leads}): {', '.join(people)}")
        if result.unassigned:
            self.stdout.write(f"unplaced: {', '.join(result.unassigned)}")
        for outcome in result.rule_report:
            weight = f" weight {outcome.weight}, penalty {outcome.penalty}" if outcome.kind == "soft" else ""
            self.stdout.write(f"  [{outcome.kind}] {outcome.rule}: {outcome.met}/{outcome.total} met{weight}")
            for detail in outcome.details[:DETAILS_SHOWN]:
                self.stdout.write(f"      {detail}")
            if len(outcome.details) > DETAILS_SHOWN:
                self.stdout.write(f"      ... and {len(outcome.details) - DETAILS_SHOWN} more")


def _headline(result: FormationResult) -> str:
    if result.objective is None:
        return f"{result.status.upper()} after {result.wall_time_s:.1f} s"
    gap = f"{100 * (result.gap or 0):.1f}%"
    return (
        f"{result.status.upper()}: penalty {result.objective} (proven lower bound {result.bound}, gap {gap}) "
        f"in {result.wall_time_s:.1f} s"
    )


def _one_line_error(parser: CommandParser):
    """Argument errors as one line on standard error, exit 2 (argparse would print the usage too)."""
    original = parser.error

    def error(message):
        if parser.called_from_command_line:
            parser.exit(2, f"error: {message} (see {parser.prog} --help)\n")
        original(message)

    return error


def _number(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise FormationInputError(f"{name}: {text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise FormationInputError(f"{name}: {text!r} must be a positive number of seconds")
    return value


def _whole(text: str, name: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise FormationInputError(f"{name}: {text!r} is not a whole number") from None
    if value < low:
        raise FormationInputError(f"{name}: {value} is below {low}")
    return value


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False)
