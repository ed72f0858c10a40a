"""Which regulator category an adverse event falls in, from the facts staff record about it.

Pure: plain values in, a code out; no Django, no database. The codes are stored on
``AdverseEvent.regulator_category`` so reports count events without re-deriving them. Sources are
reference keys of the project's regulatory research, regulatory.md (§1.6 Oregon, §2 Colorado),
which gives each key's public URL:

* [R9] OAR 333-333-1010, definitions (paraphrased):
  (3) an adverse behavioral reaction and (4) an adverse medical reaction are a client's
      behavioral or medical reaction to psilocybin, during an administration session, that
      required contacting emergency services or care from a medical care provider;
  (2) an "adverse reaction" is such a reaction that does not require transport to a hospital.
* [R8][R12] OAR 333-333-4910 / ORS 475A.372 (SB 303): service centers report the number and
  severity of adverse behavioral reactions and of adverse medical reactions each quarter.
* [C2] 4 CCR 755-1-1.4: an Adverse Health Event is any untoward, unexpected health condition or
  medical occurrence associated with natural medicine, with FDA-style "life-threatening" and
  "serious" tiers. [C1] 4 CCR 755-1-6.3(B)(11): facilitators keep records of adverse reactions
  that required medical attention or emergency services.
"""

from __future__ import annotations

OREGON = "US-OR"
COLORADO = "US-CO"
KINDS = frozenset({"behavioral", "medical"})

OR_BEHAVIORAL = "or_adverse_behavioral_reaction"
OR_MEDICAL = "or_adverse_medical_reaction"
OR_NOT_REPORTABLE = "or_not_reportable"
CO_ADVERSE_HEALTH_EVENT = "co_adverse_health_event"
CO_NOT_REPORTABLE = "co_not_reportable"
NONE = "none"

OREGON_REPORTABLE = frozenset({OR_BEHAVIORAL, OR_MEDICAL})
CATEGORIES = (OR_BEHAVIORAL, OR_MEDICAL, OR_NOT_REPORTABLE, CO_ADVERSE_HEALTH_EVENT, CO_NOT_REPORTABLE, NONE)


def regulator_category(
    *,
    jurisdiction: str,
    kind: str,
    during_administration: bool,
    emergency_services: bool,
    medical_care: bool,
    hospital_transport: bool,
) -> str:
    """The category code for an event in ``jurisdiction`` (ISO 3166-2, e.g. "US-OR")."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of adverse event: {kind!r}")
    # Being taken to hospital is care from medical providers (and usually an ambulance), so it
    # meets the "required ... care" limb on its own. Counting it keeps an inconsistent record
    # (hospital ticked, care not ticked) from silently dropping out of a regulator's count.
    needed_care = emergency_services or medical_care or hospital_transport
    place = (jurisdiction or "").strip().upper()
    if place == OREGON:
        return _oregon(kind=kind, during_administration=during_administration, needed_care=needed_care)
    if place == COLORADO:
        return _colorado(needed_care=needed_care)
    # No rule pack for other jurisdictions yet (regulatory.md §3-4): nothing to classify against.
    return NONE


def _oregon(*, kind: str, during_administration: bool, needed_care: bool) -> str:
    # [R9] (3)/(4): both limbs are required: it happened during an administration session AND it
    # required contacting emergency services or care from a medical care provider. A reaction
    # after the session (e.g. at integration) or one the team handled without outside care is not
    # an adverse behavioral/medical reaction, however severe it felt.
    if not (during_administration and needed_care):
        return OR_NOT_REPORTABLE
    # [R9] (3) behavioral, (4) medical. Transport to a hospital does NOT take a reaction out of
    # (3)/(4): definition (2) "adverse reaction" is the narrower subset WITHOUT hospital transport,
    # and the SB 303 quarterly count [R8][R12] is of (3) and (4), so hospital cases are counted
    # too. The event's own ``hospital_transport`` flag tells the (2) subset apart when needed.
    return OR_BEHAVIORAL if kind == "behavioral" else OR_MEDICAL


def _colorado(*, needed_care: bool) -> str:
    # [C2] defines an Adverse Health Event broadly (any untoward, unexpected health occurrence
    # associated with natural medicine). We use the narrower threshold of [C1] 6.3(B)(11), the
    # record facilitators must keep: reactions that required medical attention or emergency
    # services. UNVERIFIED (regulatory.md §2, marked ⚠): which events the DORA rule requires
    # facilitators to report to the Director, and by when; whether milder events must be reported
    # too; and the CDPHE (SB25-297) field list. Kind and timing do not matter here: the definition
    # covers any occurrence "associated with the use", not only during an administration session.
    return CO_ADVERSE_HEALTH_EVENT if needed_care else CO_NOT_REPORTABLE
