from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "refuje.providers"
    label = "providers"
