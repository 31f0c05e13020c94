from django.apps import AppConfig


class PushConfig(AppConfig):
    name = "refuje.push"
    label = "push"
