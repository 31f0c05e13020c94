from django.apps import AppConfig


class ExperiencesConfig(AppConfig):
    name = "refuje.experiences"
    label = "experiences"
