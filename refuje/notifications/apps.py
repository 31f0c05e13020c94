"""Notifications: in-app inbox, channel routing by preference, reminders and digests."""

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "refuje.notifications"
    label = "notifications"

    def ready(self) -> None:
        from refuje.bookings.events import booking_event
        from refuje.concierge.events import request_event

        from . import receivers

        request_event.connect(receivers.on_request_event, dispatch_uid="notifications.request_event")
        booking_event.connect(receivers.on_booking_event, dispatch_uid="notifications.booking_event")
