from __future__ import annotations

from datetime import UTC, datetime

import pytest
from freezegun import freeze_time

from refuje.bookings.events import booking_event
from refuje.common.testing.tenancy import tenant_world

__all__ = ["clock", "heard", "tenant_world"]

# Monday 2026-03-02 08:00 in Riyadh (UTC+3): with the default 60 minutes' notice, 09:00 is the
# first bookable start today.
NOW = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with freeze_time(NOW) as frozen:
        yield frozen


@pytest.fixture
def heard():
    """Booking events as (kind, booking id, data), recorded when they are delivered (after commit)."""
    events: list[tuple[str, int, dict]] = []

    def listener(sender, kind, booking, data, **kwargs):
        events.append((kind, booking.pk, data))

    booking_event.connect(listener, weak=False, dispatch_uid="bookings-test-listener")
    yield events
    booking_event.disconnect(dispatch_uid="bookings-test-listener")
