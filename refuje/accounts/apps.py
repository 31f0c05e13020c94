from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "refuje.accounts"
    label = "accounts"
