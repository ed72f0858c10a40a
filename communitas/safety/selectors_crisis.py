"""The crisis resources an organization shows participants (its own list, else the defaults)."""

from communitas.safety.crisis import DEFAULT_CRISIS_RESOURCES, localized
from communitas.safety.models import SafetySettings


def crisis_resources_for(organization_id: int, language: str) -> list[dict]:
    row = SafetySettings.objects.filter(organization_id=organization_id).first()
    return localized((row.crisis_resources if row and row.crisis_resources else DEFAULT_CRISIS_RESOURCES), language)
