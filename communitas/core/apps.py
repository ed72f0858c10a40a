from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "communitas.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from communitas.core import checks  # noqa: F401  (registers the deployment checks)
