"""Domain events of bookings, delivered after the writing transaction commits.

Listeners connect to `booking_event` (a Django signal) and receive `kind` (one of the constants
below), `booking` and `data` (a small JSON-safe dict, e.g. the refunded amount). They run once the
transaction that made the change has committed, never for a rolled-back change; a failing listener
is logged without affecting the others or the change that caused the event. Notifications and the
realtime relay plug in here, as they do for `refuje.concierge.events.request_event`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.dispatch import Signal

if TYPE_CHECKING:
    from .models import Booking

logger = logging.getLogger(__name__)

BOOKING_CREATED = "booking.created"
BOOKING_CONFIRMED = "booking.confirmed"
BOOKING_CANCELLED = "booking.cancelled"
BOOKING_COMPLETED = "booking.completed"
BOOKING_NO_SHOW = "booking.no_show"
BOOKING_EXPIRED = "booking.expired"
BOOKING_REFUNDED = "booking.refunded"
BOOKING_REMINDER = "booking.reminder"

booking_event = Signal()


def publish_booking_event(kind: str, booking: Booking, data: dict[str, Any] | None = None) -> None:
    """Announce `kind` for `booking` to every listener once the current transaction commits."""
    payload = dict(data or {})
    transaction.on_commit(lambda: _deliver(kind, booking, payload))


def _deliver(kind: str, booking: Booking, data: dict[str, Any]) -> None:
    for receiver, result in booking_event.send_robust(sender=type(booking), kind=kind, booking=booking, data=data):
        if isinstance(result, Exception):
            logger.error(
                "Listener %r failed on %s for booking %s",
                receiver,
                kind,
                booking.pk,
                exc_info=(type(result), result, result.__traceback__),
            )
