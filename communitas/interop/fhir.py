"""FHIR R4 resources for outcomes: Questionnaire, QuestionnaireResponse, Observation, Bundle.

Pure: plain data in, FHIR JSON (dicts) out; no ORM. Patients are referenced by pseudonym only.
Answer options carry their LOINC answer code where the instrument declares one, otherwise the
option value as a local code; either way the numeric value rides along as ``ordinalValue``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from communitas.outcomes.definitions import Instrument, Item, Option

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DATA_ABSENT_REASON = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
SCORE_SYSTEM = "https://communitas.example/fhir/instrument-score"
EXT = "http://hl7.org/fhir/StructureDefinition/"


def canonical_url(base_url: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/fhir/Questionnaire/{code}"


def _value_code(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _patient(pseudonym: str) -> dict:
    return {"reference": f"Patient/{pseudonym}"}


def _instant(moment: datetime.datetime) -> str:
    return moment.isoformat()


def _item_text(instrument: Instrument, item: Item) -> str:
    return (instrument.licence.item_text_included and item.text.get("en")) or item.label


def _option_coding(option: Option) -> dict:
    coding: dict = {"extension": [{"url": f"{EXT}ordinalValue", "valueDecimal": option.value}]}
    if option.loinc:
        coding.update(system=LOINC, code=option.loinc)
    else:
        coding["code"] = _value_code(option.value)
    coding["display"] = option.label.get("en") or _value_code(option.value)
    return coding


def _questionnaire_item(instrument: Instrument, item: Item) -> dict:
    rs = instrument.response_set_for(item)
    out: dict = {"linkId": item.id, "text": _item_text(instrument, item), "required": item.required}
    if item.loinc:
        out["code"] = [{"system": LOINC, "code": item.loinc}]
    if rs.type == "choice":
        out["type"] = "choice"
        out["answerOption"] = [{"valueCoding": _option_coding(o)} for o in rs.options]
    else:
        out["type"] = "decimal"
        out["extension"] = [
            {"url": f"{EXT}minValue", "valueDecimal": rs.low},
            {"url": f"{EXT}maxValue", "valueDecimal": rs.high},
        ]
    return out


def questionnaire(instrument: Instrument, base_url: str) -> dict:
    licence = instrument.licence
    out: dict = {
        "resourceType": "Questionnaire",
        "id": instrument.code,
        "url": canonical_url(base_url, instrument.code),
        "version": instrument.version,
        "name": instrument.code.upper(),
        "title": instrument.name,
        "status": "active",
        "subjectType": ["Patient"],
        "copyright": "\n\n".join(part for part in (licence.name, instrument.citation) if part),
    }
    instructions = instrument.instructions.get("en")
    if licence.item_text_included and instructions:
        out["description"] = instructions
    if instrument.loinc_panel:
        out["code"] = [{"system": LOINC, "code": instrument.loinc_panel}]
    out["item"] = [_questionnaire_item(instrument, item) for item in instrument.items]
    return out


def _answer(instrument: Instrument, item: Item, value: float) -> dict:
    rs = instrument.response_set_for(item)
    option = next((o for o in rs.options if o.value == float(value)), None)
    if rs.type == "choice" and option is not None:
        return {"valueCoding": {k: v for k, v in _option_coding(option).items() if k != "extension"}}
    return {"valueDecimal": value}


def questionnaire_response(response: dict, instrument: Instrument, base_url: str) -> dict:
    """``response``: id, instrument, version, authored (datetime), patient (pseudonym), answers."""
    answers = response["answers"]
    version = response.get("version") or instrument.version
    return {
        "resourceType": "QuestionnaireResponse",
        "id": str(response["id"]),
        "questionnaire": f"{canonical_url(base_url, response['instrument'])}|{version}",
        "status": "completed",
        "subject": _patient(response["patient"]),
        "authored": _instant(response["authored"]),
        "item": [
            {
                "linkId": item.id,
                "text": _item_text(instrument, item),
                "answer": [_answer(instrument, item, answers[item.id])],
            }
            for item in instrument.items
            if answers.get(item.id) is not None
        ],
    }


def _score_code(instrument: Instrument) -> dict:
    codings = [{"system": LOINC, "code": instrument.loinc_total}] if instrument.loinc_total else []
    codings.append({"system": SCORE_SYSTEM, "code": instrument.code, "display": f"{instrument.name} total score"})
    return {"coding": codings, "text": f"{instrument.name} total score"}


def observation(score: dict, instrument: Instrument) -> dict:
    """``score``: id, response_id, total (or None), band (code or ""), patient, effective (datetime)."""
    out: dict = {
        "resourceType": "Observation",
        "id": str(score["id"]),
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}],
        "code": _score_code(instrument),
        "subject": _patient(score["patient"]),
        "effectiveDateTime": _instant(score["effective"]),
        "derivedFrom": [{"reference": f"QuestionnaireResponse/{score['response_id']}"}],
    }
    if score["total"] is None:
        out["dataAbsentReason"] = {
            "coding": [{"system": DATA_ABSENT_REASON, "code": "unknown"}],
            "text": "Too many items unanswered to score",
        }
    else:
        out["valueQuantity"] = {"value": score["total"], "unit": "{score}", "system": UCUM, "code": "{score}"}
    band = next((b for b in instrument.bands if b.code == score.get("band")), None)
    if band is not None:
        out["interpretation"] = [{"text": band.label.get("en") or band.code}]
    return out


def bundle(resources: Iterable[dict], type: str = "searchset", *, base_url: str) -> dict:
    entries = [
        {
            "fullUrl": f"{base_url.rstrip('/')}/fhir/{r['resourceType']}/{r['id']}",
            "resource": r,
            **({"search": {"mode": "match"}} if type == "searchset" else {}),
        }
        for r in resources
    ]
    out: dict = {"resourceType": "Bundle", "type": type}
    if type in ("searchset", "history"):  # bdl-1: total only for search and history
        out["total"] = len(entries)
    out["entry"] = entries
    return out


# Shared with the REDCap export and the bundle import (interop/redcap.py, interop/fhir_bundle.py)


def item_text(instrument: Instrument, item: Item) -> str:
    """What an export may show for ``item``: its wording where the licence permits, else its
    neutral label (never the licensed wording)."""
    return _item_text(instrument, item)


def option_display(option: Option) -> str:
    return option.label.get("en") or _value_code(option.value)


def value_code(value: float) -> str:
    """A number as exports write it: ``1`` for 1.0, ``55.5`` for 55.5."""
    return _value_code(value)


def questionnaire_code(reference: str, base_url: str) -> tuple[str, str | None] | None:
    """(instrument code, version or None) of a canonical ``.../fhir/Questionnaire/<code>[|version]``
    under ``base_url``; None for anything else."""
    url, _bar, version = reference.partition("|")
    prefix = canonical_url(base_url, "")
    if not url.startswith(prefix) or len(url) == len(prefix):
        return None
    return url[len(prefix) :], version or None


def answer_value(instrument: Instrument, item: Item, answer: dict) -> float:
    """The number behind one QuestionnaireResponse answer to ``item`` (the inverse of the
    answers ``questionnaire_response`` writes). Raises ValueError for anything else."""
    rs = instrument.response_set_for(item)
    if "valueCoding" in answer:
        coding = answer["valueCoding"] if isinstance(answer["valueCoding"], dict) else {}
        system, code = coding.get("system"), coding.get("code")
        for option in rs.options:
            if (system == LOINC and option.loinc == code) or (not system and _value_code(option.value) == code):
                return option.value
        raise ValueError(f"item {item.id}: {code!r} is not one of its answer codes")
    for key in ("valueDecimal", "valueInteger"):
        if key in answer:
            value = answer[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"item {item.id}: {value!r} is not a number")
            return float(value)
    raise ValueError(f"item {item.id}: answers must be valueCoding, valueDecimal or valueInteger")
