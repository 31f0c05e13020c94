from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "refuje.notifications"
    label = "notifications"
