from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "communitas.community"
    label = "community"
    verbose_name = "Community"
