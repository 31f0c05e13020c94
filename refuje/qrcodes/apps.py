from django.apps import AppConfig


class QrcodesConfig(AppConfig):
    name = "refuje.qrcodes"
    label = "qrcodes"
