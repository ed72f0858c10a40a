from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "communitas.programs"
    label = "programs"
    verbose_name = "Programs"
