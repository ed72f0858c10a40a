from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "communitas.safety"
    label = "safety"
    verbose_name = "Safety"
