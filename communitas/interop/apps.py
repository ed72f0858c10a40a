from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "communitas.interop"
    label = "interop"
    verbose_name = "Interop"
