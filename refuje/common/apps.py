from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "refuje.common"
    label = "common"
