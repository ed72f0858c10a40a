"""Default crisis resources shown to a participant whose answers raise a safety flag. Pure data.

Source: 988 Suicide & Crisis Lifeline, https://988lifeline.org (call or text 988 in the US,
Spanish available; chat at 988lifeline.org). Organizations outside the US set their own.
"""

DEFAULT_CRISIS_RESOURCES = [
    {
        "name": {"en": "988 Suicide & Crisis Lifeline", "es": "988 Línea de Prevención del Suicidio y Crisis"},
        "contact": "988",
        "detail": {
            "en": "Call or text 988, or chat at 988lifeline.org. Free, confidential, 24 hours a day.",
            "es": "Llame o envíe un mensaje de texto al 988 (opción en español), o chatee en 988lifeline.org. "
            "Gratis, confidencial, las 24 horas.",
        },
    },
    {
        "name": {"en": "Emergency services", "es": "Servicios de emergencia"},
        "contact": "911",
        "detail": {
            "en": "If you are in immediate danger, call 911.",
            "es": "Si está en peligro inmediato, llame al 911.",
        },
    },
]


def localized(resources: list[dict], language: str) -> list[dict]:
    """Resources with every text in ``language`` (English where a text lacks that language)."""

    def pick(value):
        return (
            value.get(language) or value.get("en") or next(iter(value.values()), "")
            if isinstance(value, dict)
            else value
        )

    return [{key: pick(value) for key, value in resource.items()} for resource in resources]
