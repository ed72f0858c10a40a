"""The door programs use to ask whether a program is lawful (compliance must not import programs,
so a program is read by duck typing: ``jurisdiction``, ``substance``, ``framework``)."""

from __future__ import annotations

import datetime

from communitas.compliance.legal_status import Lawfulness
from communitas.compliance.selectors import lawfulness_get

NO_SUBSTANCE = "none"


def program_lawfulness(program, *, on: datetime.date) -> Lawfulness:
    """``legal_status.evaluate`` for a program's jurisdiction, substance and framework on ``on``.
    A program without a substance (integration or peer support only) is lawful: nothing is dosed."""
    if program.substance == NO_SUBSTANCE:
        return Lawfulness(
            lawful=True,
            jurisdiction=program.jurisdiction,
            substance=program.substance,
            framework=program.framework,
            on=on,
            decided_by=None,
            layers_used=[],
            explanation="No substance is used, so no legal-status layer applies.",
        )
    return lawfulness_get(
        jurisdiction=program.jurisdiction, substance=program.substance, framework=program.framework, on=on
    )
