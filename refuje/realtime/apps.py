from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "refuje.realtime"
    label = "realtime"
