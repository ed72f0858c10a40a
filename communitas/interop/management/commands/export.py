"""``communitas export research|redcap|fhir|colorado --organization SLUG --out PATH [options]``.

- research: the de-identified research export (CSV) for a research project (``--project NAME``,
  created on first use; its key keeps pseudonyms and date shifts stable across exports), fields
  from the allow-list (``--fields``), ``--dates days|shift``, ``--k``, optional ``--program ID``;
  the achieved k is printed.
- redcap: a program's REDCap data dictionary, records, events and instrument-event mapping, four
  CSV files in the ``--out`` directory (``--program ID``, needed when the organization has several).
- fhir: the organization's FHIR R4 Bundle (JSON), pseudonymous.
- colorado: per-session records (CSV) between ``--start`` and ``--end``.

Each export is logged (``ExportLog``, via "cli"). Bad input exits 2 with one line on standard
error and writes nothing.
"""

import datetime
import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from communitas.accounts.models import Organization
from communitas.compliance.management.commands.compliance import OneLineErrors
from communitas.interop.models import ResearchProject
from communitas.programs.models import Program

DEFAULT_RESEARCH_FIELDS = (
    "participant,group,grouped,instrument,timepoint,wave,days_from_baseline,score,age_band,gender,language"
)


class ExportInputError(ValueError):
    pass


class Command(BaseCommand):
    help = (
        "Exports: communitas export research|redcap|fhir|colorado --organization SLUG --out PATH (see --help of each)"
    )

    def add_arguments(self, parser):
        kinds = parser.add_subparsers(dest="kind", required=True, parser_class=OneLineErrors)
        research = kinds.add_parser("research", help="de-identified research export (CSV)")
        redcap = kinds.add_parser("redcap", help="REDCap dictionary + records + events + mapping (a directory)")
        fhir = kinds.add_parser("fhir", help="FHIR R4 Bundle (JSON), pseudonymous")
        colorado = kinds.add_parser("colorado", help="Colorado per-session records (CSV)")
        for sub in (research, redcap, fhir, colorado):
            sub.add_argument("--organization", required=True, help="organization slug")
            sub.add_argument("--out", required=True, type=Path)
        research.add_argument("--project", default="default", help="research project name (created on first use)")
        research.add_argument("--program", type=int)
        research.add_argument("--fields", default=DEFAULT_RESEARCH_FIELDS, help="comma-separated allow-listed fields")
        research.add_argument("--dates", default="days", choices=["days", "shift"])
        research.add_argument("--k", type=int)
        redcap.add_argument("--program", type=int)
        colorado.add_argument("--start", required=True, help="YYYY-MM-DD")
        colorado.add_argument("--end", required=True, help="YYYY-MM-DD")

    def handle(self, *args, kind: str, **options):
        from communitas.interop.colorado import ColoradoExportError
        from communitas.interop.research_export import ExportError

        try:
            organization = Organization.objects.filter(slug=options["organization"]).first()
            if organization is None:
                raise ExportInputError(f"no organization with slug {options['organization']!r}")
            message = getattr(self, f"_{kind}")(organization, options)
        except (ExportInputError, ExportError, ColoradoExportError, ValueError) as exc:
            sys.stderr.write(f"error: {exc}\n")
            sys.exit(2)
        self.stdout.write(message)

    def _program(self, organization, program_id, *, required_if_many: bool) -> Program | None:
        programs = Program.objects.filter(organization=organization)
        if program_id is not None:
            program = programs.filter(pk=program_id).first()
            if program is None:
                raise ExportInputError(f"no program {program_id} in {organization.slug}")
            return program
        if required_if_many:
            scheduled = programs.filter(assessment_schedules__isnull=False).distinct()
            if scheduled.count() != 1:
                raise ExportInputError("give --program ID: the organization has several programs with questionnaires")
            return scheduled.get()
        return None

    def _research(self, organization, options) -> str:
        from communitas.interop.research_export import as_csv, project_create, research_export

        project = ResearchProject.objects.filter(organization=organization, name=options["project"]).first()
        if project is None:
            project = project_create(organization=organization, name=options["project"], actor=None)
        fields = [f.strip() for f in options["fields"].split(",") if f.strip()]
        export = research_export(
            project=project,
            program=self._program(organization, options.get("program"), required_if_many=False),
            fields=fields,
            dates=options["dates"],
            k=options.get("k"),
            actor=None,
            via="cli",
        )
        options["out"].write_text(as_csv(export), encoding="utf-8")
        return (
            f"wrote {len(export.rows)} rows to {options['out']} (project {project.name!r}, k = {export.k}, "
            f"achieved k = {export.k_achieved}, {export.suppressed_participants} participant(s) suppressed)"
        )

    def _redcap(self, organization, options) -> str:
        from communitas.interop.redcap import redcap_export

        program = self._program(organization, options.get("program"), required_if_many=True)
        assert program is not None  # required_if_many: one or an error
        export = redcap_export(program=program, actor=None, via="cli")
        out: Path = options["out"]
        out.mkdir(parents=True, exist_ok=True)
        stem = f"{organization.slug}-program-{program.pk}"
        files = {
            "data_dictionary": export.dictionary_csv,
            "records": export.records_csv,
            "events": export.events_csv,
            "instrument_event_mapping": export.mappings_csv,
        }
        for name, text in files.items():
            (out / f"{stem}-{name}.csv").write_text(text, encoding="utf-8")
        return f"wrote {len(files)} REDCap files ({export.rows} record rows) to {out}"

    def _fhir(self, organization, options) -> str:
        from communitas.interop.fhir_bundle import fhir_export

        bundle = fhir_export(organization=organization, actor=None, membership=None, via="cli")
        options["out"].write_text(json.dumps(bundle, indent=1), encoding="utf-8")
        return f"wrote a FHIR Bundle of {len(bundle.get('entry', []))} resources to {options['out']}"

    def _colorado(self, organization, options) -> str:
        from communitas.interop.colorado import colorado_export

        try:
            start = datetime.date.fromisoformat(options["start"])
            end = datetime.date.fromisoformat(options["end"])
        except ValueError as exc:
            raise ExportInputError("--start and --end: YYYY-MM-DD") from exc
        content, log = colorado_export(organization=organization, start=start, end=end, actor=None, via="cli")
        options["out"].write_text(content, encoding="utf-8")
        return f"wrote {log.rows} session rows to {options['out']}"
