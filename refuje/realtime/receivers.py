"""Relay domain events onto the bus: requests, bookings and (when that app has them) notifications.

Each receiver runs after the writing transaction committed (the signals are sent from on_commit)
and publishes a wake-up with the ids that route it; `publish` never raises, so a bus outage never
breaks the write that caused the event.
"""

from __future__ import annotations

import logging
from typing import Any

from django.apps import apps

from .bus import publish

logger = logging.getLogger(__name__)


def _guest_id(request: Any) -> int | None:
    stay = getattr(request, "stay", None)
    return getattr(stay, "guest_id", None)


def relay_request_event(sender: Any, *, kind: str, request: Any, activity: Any, **kwargs: Any) -> None:
    publish(
        {
            "kind": kind,
            "activity_id": activity.pk,
            "request_id": request.pk,
            "hotel_id": request.hotel_id,
            "department_id": request.department_id,
            "guest_id": _guest_id(request),
            "internal": bool(activity.is_internal),
        }
    )


def relay_booking_event(sender: Any, *, kind: str, booking: Any, data: Any = None, **kwargs: Any) -> None:
    publish(
        {
            "kind": kind,
            "booking_id": booking.pk,
            "hotel_id": getattr(booking, "hotel_id", None),
            "customer_id": getattr(booking, "customer_id", None),
            "staff_id": getattr(booking, "staff_id", None),
            "data": data or {},
        }
    )


def relay_notification_event(sender: Any, *, kind: str, notification: Any, **kwargs: Any) -> None:
    publish(
        {
            "kind": kind,
            "notification_id": notification.pk,
            "recipient_id": getattr(notification, "recipient_id", None),
            "hotel_id": getattr(notification, "hotel_id", None),
        }
    )


def connect() -> None:
    from refuje.bookings.events import booking_event
    from refuje.concierge.events import request_event

    request_event.connect(relay_request_event, dispatch_uid="realtime.relay_request_event")
    booking_event.connect(relay_booking_event, dispatch_uid="realtime.relay_booking_event")
    if apps.is_installed("refuje.notifications"):
        try:
            from refuje.notifications.events import notification_event  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            logger.debug("refuje.notifications has no events module; notifications are not relayed")
        else:
            notification_event.connect(relay_notification_event, dispatch_uid="realtime.relay_notification_event")
