from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "refuje.bookings"
    label = "bookings"
