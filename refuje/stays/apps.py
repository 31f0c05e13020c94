from django.apps import AppConfig


class StaysConfig(AppConfig):
    name = "refuje.stays"
    label = "stays"
