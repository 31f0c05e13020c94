from django.apps import AppConfig


class ConciergeConfig(AppConfig):
    name = "refuje.concierge"
    label = "concierge"
