from django.apps import AppConfig


class ParticipantsConfig(AppConfig):
    name = "communitas.participants"
    label = "participants"
    verbose_name = "Participants"
