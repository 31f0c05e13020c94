from django.apps import AppConfig


class ConciergeConfig(AppConfig):
    name = "refuje.concierge"
    label = "concierge"

    def ready(self) -> None:
        from refuje.common.health import register_readiness_check

        from .escalation import escalation_heartbeat_check

        register_readiness_check("escalation", escalation_heartbeat_check)
