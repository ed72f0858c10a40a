"""Which credentials let a person facilitate where, who is medically qualified, and which
credentials are about to lapse.

Pure: plain values in, plain values out; no Django, no database. Functions take any objects with
``kind``, ``issuing_jurisdiction``, ``valid_from`` and ``valid_to`` (``Credential`` rows or
``CredentialFacts``). Jurisdictions are ISO 3166-2 codes ("US-OR") or country codes ("PE").
Sources are reference keys of the project's research, /work/shared/research/regulatory.md (which
gives each key's public URL) and landscape.md §1A:

* [R25] regulatory.md §1.1: Oregon licenses facilitators (ORS 475A, OAR 333-333); every licence
  runs one year and renewal is due at least 60 days before it expires.
* [R26] regulatory.md §1.1 (HB 2387, 2025): licensed health professionals provide psilocybin
  services in Oregon only when they also hold a facilitator licence.
* [C8][C9] regulatory.md §2: Colorado (DORA, 4 CCR 755-1-2) licenses Facilitators and Clinical
  Facilitators (providers licensed to diagnose and treat, e.g. MD, DO, APN); Basic Life Support
  certification is required; training is at least 150 hours including 10 of group facilitation [C7].
* landscape.md §1A: the Oregon licence needs an approved 120-hour curriculum and a 40-hour
  practicum (thegoodtrip.org/oha-1; oregon.gov facilitator page; secondary).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple, Protocol

OREGON = "US-OR"
COLORADO = "US-CO"

# State facilitator licences count only in the state that issues them [R25][C8][C9].
STATE_FACILITATOR_LICENCES = {
    "oregon_facilitator_license": OREGON,
    "colorado_facilitator": COLORADO,
    "colorado_clinical_facilitator": COLORADO,
}
COLORADO_LICENCES = frozenset({"colorado_facilitator", "colorado_clinical_facilitator"})
# Professional licences are issued by a state or country and count only there.
PROFESSIONAL_LICENCES = frozenset({"psychologist", "physician", "nurse_practitioner", "registered_nurse"})
# Certifications and lineages, not licences from a jurisdiction: they hold wherever the person works.
NOT_JURISDICTIONAL = frozenset({"ceremonial_lineage", "peer_support_certification", "bls_cpr"})
# Anything else counts only where it was issued, and never licenses by itself.
OTHER = "other"
KINDS = frozenset({*STATE_FACILITATOR_LICENCES, *PROFESSIONAL_LICENCES, *NOT_JURISDICTIONAL, OTHER})
# Licensed to diagnose and treat: physicians, nurses, and Colorado clinical facilitators [C8][C9].
MEDICAL = frozenset({"physician", "nurse_practitioner", "registered_nurse", "colorado_clinical_facilitator"})

# Expiry warnings: Oregon renewal is due 60 days before expiry [R25]; 30 days is a last call.
WARN_DAYS = 60
URGENT_DAYS = 30
LEVEL_60, LEVEL_30, LEVEL_EXPIRED = "60", "30", "expired"

# Reasons a person is not licensed to facilitate somewhere (codes; labels live with the UI).
GAP_NO_JURISDICTION = "no_jurisdiction"
GAP_OREGON_LICENCE = "oregon_licence"
GAP_COLORADO_LICENCE = "colorado_licence"
GAP_BLS = "bls_cpr"
GAP_ACCEPTED_CREDENTIAL = "accepted_credential"
GAP_TEXT = {
    GAP_NO_JURISDICTION: "no jurisdiction is set, so no licence can be checked",
    GAP_OREGON_LICENCE: "no Oregon facilitator licence valid on this date",
    GAP_COLORADO_LICENCE: "no Colorado facilitator or clinical facilitator licence valid on this date",
    GAP_BLS: "no Basic Life Support certification valid on this date (Colorado requires one)",
    GAP_ACCEPTED_CREDENTIAL: "no professional licence valid in this jurisdiction on this date",
}


class CredentialLike(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def issuing_jurisdiction(self) -> str: ...
    @property
    def valid_from(self) -> datetime.date: ...
    @property
    def valid_to(self) -> datetime.date | None: ...


@dataclass(frozen=True)
class CredentialFacts:
    """A credential as plain data (for callers and tests without a database)."""

    kind: str
    issuing_jurisdiction: str
    valid_from: datetime.date
    valid_to: datetime.date | None = None


class ExpiryWarning(NamedTuple):
    credential: CredentialLike
    days_left: int
    level: str

    @property
    def days_ago(self) -> int:
        return -self.days_left


@dataclass(frozen=True)
class LicenceStatus:
    """Everything the list and profile pages say about one person's credentials."""

    jurisdiction: str
    licensed: bool
    gaps: tuple[str, ...]
    medically_qualified: bool
    warnings: tuple[ExpiryWarning, ...] = field(default=())

    @property
    def worst_level(self) -> str | None:
        levels = {w.level for w in self.warnings}
        return next((level for level in (LEVEL_EXPIRED, LEVEL_30, LEVEL_60) if level in levels), None)


def _norm(code: str | None) -> str:
    return (code or "").strip().upper()


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown credential kind: {kind!r}")


def in_date(credential: CredentialLike, *, on: datetime.date) -> bool:
    """Both edges count: valid on its first and on its last day."""
    return credential.valid_from <= on and (credential.valid_to is None or on <= credential.valid_to)


def issued_for(credential: CredentialLike) -> str:
    """Where a credential counts: a state licence's own state, else the recorded jurisdiction."""
    return STATE_FACILITATOR_LICENCES.get(credential.kind, _norm(credential.issuing_jurisdiction))


def covers(issued: str, place: str) -> bool:
    """A credential issued for ``issued`` holds in ``place``: the same code, or a national
    credential (a bare country code, e.g. "NL") anywhere in that country ("NL-NH"). A state's
    licence never holds in another state or nationally."""
    issued, place = _norm(issued), _norm(place)
    if not issued or not place:
        return False
    return place == issued or ("-" not in issued and place.startswith(issued + "-"))


def valid_in(credential: CredentialLike, *, jurisdiction: str) -> bool:
    _check_kind(credential.kind)
    if credential.kind in NOT_JURISDICTIONAL:
        return True
    return covers(issued_for(credential), jurisdiction)


def credential_valid(credential: CredentialLike, *, jurisdiction: str, on: datetime.date) -> bool:
    """In date on ``on`` (both edges inclusive) and counting in ``jurisdiction``."""
    return valid_in(credential, jurisdiction=jurisdiction) and in_date(credential, on=on)


def licence_gaps(
    credentials: Iterable[CredentialLike],
    *,
    jurisdiction: str,
    on: datetime.date,
    accepted_kinds: Iterable[str] | None = None,
) -> tuple[str, ...]:
    """What is missing for the person to facilitate in ``jurisdiction`` on ``on``; () if nothing.

    * Oregon: an Oregon facilitator licence [R25]. A clinician's licence alone is not enough:
      health professionals also need the facilitator licence [R26].
    * Colorado: a Facilitator or Clinical Facilitator licence AND current Basic Life Support [C8][C9].
    * Elsewhere no facilitator licensing law is encoded (regulatory.md §3-4; New Mexico's clinician
      and setting rules were not retrieved). The organization's policy decides: ``accepted_kinds``
      lists the credential kinds it accepts (e.g. ``{"ceremonial_lineage"}`` for a retreat where
      no licence exists); by default any professional licence valid there. A state facilitator
      licence never counts outside its state, whatever the policy.
    """
    place = _norm(jurisdiction)
    if not place:
        return (GAP_NO_JURISDICTION,)
    valid = {c.kind for c in credentials if credential_valid(c, jurisdiction=place, on=on)}
    if place == OREGON:
        return () if "oregon_facilitator_license" in valid else (GAP_OREGON_LICENCE,)
    if place == COLORADO:
        gaps = [] if valid & COLORADO_LICENCES else [GAP_COLORADO_LICENCE]
        return tuple(gaps if "bls_cpr" in valid else [*gaps, GAP_BLS])
    accepted = PROFESSIONAL_LICENCES if accepted_kinds is None else frozenset(accepted_kinds)
    return () if valid & accepted else (GAP_ACCEPTED_CREDENTIAL,)


def licensed_to_facilitate(
    credentials: Iterable[CredentialLike],
    *,
    jurisdiction: str,
    on: datetime.date,
    accepted_kinds: Iterable[str] | None = None,
) -> bool:
    """See ``licence_gaps`` for the rule in each jurisdiction."""
    return not licence_gaps(credentials, jurisdiction=jurisdiction, on=on, accepted_kinds=accepted_kinds)


def licence_problem(
    credentials: Iterable[CredentialLike],
    *,
    jurisdiction: str,
    on: datetime.date,
    accepted_kinds: Iterable[str] | None = None,
) -> str:
    """``licence_gaps`` as one English sentence fragment for staffing checks; "" if licensed."""
    gaps = licence_gaps(credentials, jurisdiction=jurisdiction, on=on, accepted_kinds=accepted_kinds)
    return "; ".join(GAP_TEXT[gap] for gap in gaps)


def medically_qualified(
    credentials: Iterable[CredentialLike], *, on: datetime.date, jurisdiction: str | None = None
) -> bool:
    """Holds a physician, nurse practitioner, registered nurse or Colorado clinical facilitator
    licence in date on ``on`` (and, if ``jurisdiction`` is given, counting there)."""
    return any(
        c.kind in MEDICAL and in_date(c, on=on) and (jurisdiction is None or valid_in(c, jurisdiction=jurisdiction))
        for c in credentials
    )


def _renewed(credential: CredentialLike, others: Sequence[CredentialLike], today: datetime.date) -> bool:
    """Another credential of the same kind and place runs longer and starts in time (or already has)."""
    end = credential.valid_to
    assert end is not None
    day_after = end + datetime.timedelta(days=1)
    return any(
        other is not credential
        and other.kind == credential.kind
        and issued_for(other) == issued_for(credential)
        and (other.valid_to is None or other.valid_to > end)
        and (other.valid_from <= day_after or other.valid_from <= today)
        for other in others
    )


def warning_level(days_left: int) -> str | None:
    if days_left < 0:
        return LEVEL_EXPIRED
    if days_left <= URGENT_DAYS:
        return LEVEL_30
    if days_left <= WARN_DAYS:
        return LEVEL_60
    return None


def expiry_warnings(credentials: Iterable[CredentialLike], *, today: datetime.date) -> list[ExpiryWarning]:
    """One person's credentials that expire within 60 days, or have expired, and have not been
    renewed, soonest first. ``days_left`` is 0 on the last valid day: 0-30 is level "30",
    31-60 level "60", below 0 "expired"."""
    pool = list(credentials)
    out = []
    for credential in pool:
        if credential.valid_to is None:
            continue
        _check_kind(credential.kind)
        days_left = (credential.valid_to - today).days
        level = warning_level(days_left)
        if level is not None and not _renewed(credential, pool, today):
            out.append(ExpiryWarning(credential, days_left, level))
    return sorted(out, key=lambda w: w.days_left)


def licence_status(
    credentials: Iterable[CredentialLike],
    *,
    jurisdiction: str,
    today: datetime.date,
    accepted_kinds: Iterable[str] | None = None,
) -> LicenceStatus:
    """Licence, medical qualification and expiry warnings in one pass, for one person."""
    pool = list(credentials)
    gaps = licence_gaps(pool, jurisdiction=jurisdiction, on=today, accepted_kinds=accepted_kinds)
    return LicenceStatus(
        jurisdiction=_norm(jurisdiction),
        licensed=not gaps,
        gaps=gaps,
        medically_qualified=medically_qualified(pool, on=today),
        warnings=tuple(expiry_warnings(pool, today=today)),
    )


# Training hours. Informational: the licence itself is the legal test, and the state checks the
# hours when it issues one. Oregon: 120 h curriculum + 40 h practicum (landscape.md §1A,
# secondary); Colorado: at least 150 h [C7][C8][C9] (its 10 h of group facilitation is not
# tracked separately here).
TRAINING_MINIMUMS = {OREGON: (Decimal(120), Decimal(40)), COLORADO: (Decimal(150), Decimal(0))}


class TrainingLike(Protocol):
    @property
    def hours(self) -> Decimal: ...
    @property
    def practicum_hours(self) -> Decimal: ...


def training_totals(trainings: Iterable[TrainingLike]) -> tuple[Decimal, Decimal]:
    hours, practicum = Decimal(0), Decimal(0)
    for training in trainings:
        hours += Decimal(training.hours)
        practicum += Decimal(training.practicum_hours)
    return hours, practicum


def training_minimum(jurisdiction: str) -> tuple[Decimal, Decimal] | None:
    return TRAINING_MINIMUMS.get(_norm(jurisdiction))


def training_hours_met(trainings: Iterable[TrainingLike], *, jurisdiction: str) -> bool | None:
    """Whether recorded hours reach the jurisdiction's minimum; None where none is encoded."""
    minimum = training_minimum(jurisdiction)
    if minimum is None:
        return None
    hours, practicum = training_totals(trainings)
    return hours >= minimum[0] and practicum >= minimum[1]
