"""The intake form's answers and how they become screening answers. Pure.

The form stores what the participant typed (strings from an HTML form); ``to_screening`` turns
it into the engine's vocabulary, raising ``ScreeningInputError`` with a clear message.
"""

from __future__ import annotations

import datetime

from communitas.safety.screening.engine import ScreeningInputError, parse_answers

REASONS = (
    "depression",
    "anxiety",
    "trauma_ptsd",
    "grief",
    "addiction",
    "end_of_life",
    "spiritual_growth",
    "personal_growth",
    "wellness",
    "relationships",
    "creativity",
    "other",
)
YES = {"yes", "true", "1", "on"}


def age_on(birth: datetime.date, today: datetime.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


NO_MEDICATION = {"none", "no", "n/a", "na", "nothing", "-", "ninguno", "ninguna", "nada", "no tomo"}


def _medications(current: str, recent: str) -> list:
    meds: list = [
        line.strip() for line in current.splitlines() if line.strip().lower() not in NO_MEDICATION and line.strip()
    ]
    for n, line in enumerate((line for line in recent.splitlines() if line.strip()), start=1):
        name, _, days = line.rpartition(",")
        if not name.strip() or not days.strip().isdigit():
            raise ScreeningInputError(f"stopped medication {n}: write 'name, days since last taken'")
        meds.append({"name": name.strip(), "last_taken_days_ago": int(days)})
    return meds


def to_screening(form: dict, *, today: datetime.date):
    """Screening answers from a submitted intake form."""
    import json

    try:
        birth = datetime.date.fromisoformat(str(form.get("date_of_birth", "")))
    except ValueError:
        raise ScreeningInputError("date_of_birth: enter a date (YYYY-MM-DD)") from None
    if birth > today:
        raise ScreeningInputError("date_of_birth: cannot be in the future")
    item9 = form.get("phq9_item9")
    answers = {
        "age": age_on(birth, today),
        "pregnant": str(form.get("pregnant", "")).lower() in YES,
        "breastfeeding": str(form.get("breastfeeding", "")).lower() in YES,
        "harm_ideation": str(form.get("harm_ideation", "")).lower() in YES,
        "conditions": list(form.get("conditions", [])),
        "family_history": list(form.get("family_history", [])),
        "medications": _medications(str(form.get("medications", "")), str(form.get("stopped_medications", ""))),
        "phq9_item9": int(str(item9)) if str(item9 or "").isdigit() else None,
    }
    for field in ("blood_pressure", "heart_rate", "qtc_ms"):
        if form.get(field) not in (None, "", []):
            answers[field] = form[field]
    return parse_answers(json.dumps(answers))


def condition_choices():
    """Plain-language, translatable labels for the conditions the intake form asks about."""
    from django.utils.translation import gettext_lazy as _

    return [
        ("psychosis", _("Psychosis now (hearing or seeing things others don't, or beliefs others find impossible)")),
        ("schizophrenia", _("Schizophrenia")),
        ("schizoaffective", _("Schizoaffective disorder")),
        ("psychotic_depression", _("Depression with psychotic symptoms")),
        ("other_psychotic_disorder", _("Another psychotic disorder")),
        ("bipolar_i", _("Bipolar I disorder")),
        ("bipolar_ii", _("Bipolar II disorder")),
        ("mania", _("A manic episode (days of very high energy, little sleep, racing thoughts)")),
        ("seizure_disorder", _("Seizures or epilepsy")),
        ("uncontrolled_hypertension", _("High blood pressure that is not under control")),
        ("cardiovascular_disease", _("Heart disease")),
        ("arrhythmia", _("Irregular heartbeat (arrhythmia)")),
        ("ventricular_arrhythmia", _("A dangerous irregular heartbeat from the lower heart chambers (ventricular)")),
        ("wpw", _("Wolff-Parkinson-White syndrome")),
        (
            "structural_heart_disease",
            _("A problem with the structure of the heart (valves, muscle, a defect from birth)"),
        ),
        ("long_qt", _("Long QT syndrome")),
        ("myocardial_infarction", _("A heart attack, ever")),
        ("recent_cardiac_event", _("A heart attack, unstable angina or a heart procedure in the last 12 months")),
        ("aneurysm", _("An aneurysm")),
        ("avm", _("Arteriovenous malformation (AVM)")),
        ("intracerebral_hemorrhage", _("Bleeding in the brain, ever")),
        ("stroke", _("A stroke or mini-stroke (TIA)")),
        ("raised_intracranial_pressure", _("Raised pressure in the brain or a serious head injury")),
        ("glaucoma", _("Glaucoma")),
        ("preeclampsia", _("Pre-eclampsia or eclampsia in this pregnancy")),
        ("eating_disorder_purging", _("An eating disorder with vomiting or purging now")),
        ("dissociative_identity_disorder", _("Dissociative identity disorder")),
        ("substance_use_disorder", _("A substance use problem now")),
        ("alcohol_dependence", _("Alcohol dependence")),
        ("benzodiazepine_dependence", _("Dependence on benzodiazepines (e.g. Xanax, Valium)")),
        ("suicide_attempt_history", _("A past suicide attempt")),
        ("psychiatric_hospitalization", _("A past stay in a psychiatric hospital")),
        ("liver_disease", _("Liver disease")),
        ("mushroom_allergy", _("An allergic reaction to mushrooms or fungi")),
    ]


def family_choices():
    from django.utils.translation import gettext_lazy as _

    return [
        ("psychosis", _("Psychosis")),
        ("schizophrenia", _("Schizophrenia")),
        ("schizoaffective", _("Schizoaffective disorder")),
        ("psychotic_depression", _("Depression with psychotic symptoms")),
        ("other_psychotic_disorder", _("Another psychotic disorder")),
        ("bipolar_i", _("Bipolar I disorder")),
        ("mania", _("Manic episodes")),
        ("serious_mental_illness", _("Another serious mental illness")),
    ]


def reason_choices():
    from django.utils.translation import gettext_lazy as _

    labels = {
        "depression": _("Depression"),
        "anxiety": _("Anxiety"),
        "trauma_ptsd": _("Trauma or PTSD"),
        "grief": _("Grief or loss"),
        "addiction": _("Addiction or substance use"),
        "end_of_life": _("End of life"),
        "spiritual_growth": _("Spiritual growth"),
        "personal_growth": _("Personal growth"),
        "wellness": _("General health and wellness"),
        "relationships": _("Relationships"),
        "creativity": _("Creativity"),
        "other": _("Something else"),
    }
    return [(code, labels[code]) for code in REASONS]


def phq9_item9():
    """PHQ-9 item 9, asked of everyone (clinical.md 1.3). Wording: PHQ-9 (Pfizer, free to reproduce
    and translate; the Spanish is Pfizer's US Spanish), the same as outcomes/instruments/phq9.json."""
    from django.utils.translation import gettext_lazy as _

    question = _(
        "Over the last 2 weeks, how often have you been bothered by thoughts that you would be better off "
        "dead or of hurting yourself in some way?"
    )
    options = [
        (0, _("Not at all")),
        (1, _("Several days")),
        (2, _("More than half the days")),
        (3, _("Nearly every day")),
    ]
    return question, options
