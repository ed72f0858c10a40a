from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "communitas.insights"
    label = "insights"
    verbose_name = "Insights"
