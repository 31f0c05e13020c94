from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "refuje.payments"
    label = "payments"
