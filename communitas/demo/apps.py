from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data and the ``demo`` command. Sits above every domain app; nothing imports it."""

    name = "communitas.demo"
    label = "demo"
    verbose_name = "Demo"
