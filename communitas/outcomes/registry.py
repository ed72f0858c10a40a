"""Which instrument definitions an organization can use: the shipped ones, plus its own."""

from __future__ import annotations

from communitas.outcomes.definitions import Instrument, InstrumentError, builtin_instruments, parse_instrument
from communitas.outcomes.models import CustomInstrument


def instruments_for(organization_id: int) -> dict[str, Instrument]:
    available = dict(builtin_instruments())
    for row in CustomInstrument.objects.filter(organization_id=organization_id).order_by("created_at"):
        available[row.code] = parse_instrument(row.definition)  # newest definition of a code wins
    return available


def instrument_for(organization_id: int, code: str) -> Instrument:
    row = CustomInstrument.objects.filter(organization_id=organization_id, code=code).order_by("-created_at").first()
    if row is not None:
        return parse_instrument(row.definition)
    found = builtin_instruments().get(code)
    if found is None:
        raise InstrumentError(f"unknown instrument {code!r}")
    return found
