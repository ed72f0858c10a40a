from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "communitas.compliance"
    label = "compliance"
    verbose_name = "Compliance"
