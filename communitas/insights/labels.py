"""Names of the community-effect model's terms, as people read them (light: no numpy)."""

from django.utils.translation import gettext_lazy as _

TERM_LABELS = {  # short enough for the forest plot's name column; translated when shown
    "Intercept": _("Baseline level"),
    "followup": _("Change at follow-up"),
    "grouped": _("In a circle, baseline"),
    "engagement": _("Attendance, baseline"),
    "followup:grouped": _("Extra change: in a circle"),
    "followup:engagement": _("Extra change: attendance"),
}
