from django.apps import AppConfig


class HotelsConfig(AppConfig):
    name = "refuje.hotels"
    label = "hotels"
