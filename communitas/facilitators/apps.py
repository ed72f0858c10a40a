from django.apps import AppConfig


class FacilitatorsConfig(AppConfig):
    name = "communitas.facilitators"
    label = "facilitators"
    verbose_name = "Facilitators"
