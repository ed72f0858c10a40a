from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "communitas.core"
    label = "core"
    verbose_name = "Core"
