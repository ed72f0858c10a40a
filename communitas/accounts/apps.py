from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "communitas.accounts"
    label = "accounts"
    verbose_name = "Accounts"
