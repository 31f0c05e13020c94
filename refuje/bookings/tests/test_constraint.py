"""The database alone forbids overlapping active bookings of one staff member (PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from refuje.bookings.models import Booking, BookingStatus
from refuje.common.testing.booking_factories import BookingFactory

pytestmark = pytest.mark.django_db


def _raw_insert(like: Booking, *, start_shift: timedelta, status: str = BookingStatus.CONFIRMED) -> None:
    """Insert a copy of `like`, moved by `start_shift`, with plain SQL: no service, no overlap check."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO bookings_booking (hotel_id, experience_id, staff_id, customer_id, start, "end",
                blocked_start, blocked_end, status, price_minor, currency, hold_expires_at,
                cancellation_reason, cancelled_by_staff, created_at, updated_at)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '', false, now(), now())
            """,
            [
                like.hotel_id,
                like.experience_id,
                like.staff_id,
                like.customer_id,
                like.start + start_shift,
                like.end + start_shift,
                like.blocked_start + start_shift,
                like.blocked_end + start_shift,
                status,
                like.price_minor,
                like.currency,
                like.hold_expires_at,
            ],
        )


def test_exclusion_constraint_rejects_an_overlapping_raw_insert() -> None:
    booking = BookingFactory.create()
    with pytest.raises(IntegrityError, match="bookings_booking_no_overlap"), transaction.atomic():
        _raw_insert(booking, start_shift=timedelta(minutes=30))
    assert Booking.objects.count() == 1


def test_exclusion_constraint_covers_buffers() -> None:
    booking = BookingFactory.create()
    booking.blocked_end = booking.end + timedelta(minutes=15)
    booking.save()
    # Starts exactly when the booking ends, but inside its buffer after.
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_insert(booking, start_shift=booking.end - booking.start)


def test_adjacent_and_inactive_bookings_are_allowed() -> None:
    booking = BookingFactory.create()
    _raw_insert(booking, start_shift=booking.end - booking.start)  # back to back: ranges are [)
    _raw_insert(booking, start_shift=timedelta(0), status=BookingStatus.CANCELLED)
    _raw_insert(booking, start_shift=timedelta(0), status=BookingStatus.EXPIRED)
    assert Booking.objects.count() == 4


def test_other_staff_may_overlap() -> None:
    booking = BookingFactory.create()
    BookingFactory.create(hotel=booking.hotel, experience=booking.experience, start=booking.start)
    assert Booking.objects.filter(start=booking.start).count() == 2
