from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "refuje.realtime"
    label = "realtime"

    def ready(self) -> None:
        from . import receivers

        receivers.connect()
