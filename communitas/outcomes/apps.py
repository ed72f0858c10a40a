from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "communitas.outcomes"
    label = "outcomes"
    verbose_name = "Outcomes"
