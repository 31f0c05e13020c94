"""The operator's admin pages for bookings, schedules and booking policies render, and stay read-only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from refuje.bookings.models import BookingStatus
from refuje.common.testing.booking_factories import (
    BookingFactory,
    ExperienceBookingPolicyFactory,
    StaffScheduleIntervalFactory,
    StaffTimeOffFactory,
)
from refuje.common.testing.factories import UserFactory
from refuje.payments.services import payment_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client):
    client.force_login(UserFactory.create(is_superuser=True, is_staff=True))
    return client


def test_booking_admin_pages_render(operator_client):
    booking = BookingFactory.create(status=BookingStatus.PENDING_PAYMENT, price_minor=15000)
    payment = payment_start(booking=booking)
    policy = ExperienceBookingPolicyFactory.create(experience=booking.experience)
    interval = StaffScheduleIntervalFactory.create(membership=booking.staff)
    time_off = StaffTimeOffFactory.create(membership=booking.staff)
    pages = [
        reverse("admin:bookings_booking_changelist") + f"?q={booking.hotel.slug}",
        reverse("admin:bookings_booking_change", args=[booking.pk]),
        reverse("admin:bookings_experiencebookingpolicy_changelist"),
        reverse("admin:bookings_experiencebookingpolicy_change", args=[policy.pk]),
        reverse("admin:bookings_staffscheduleinterval_changelist"),
        reverse("admin:bookings_staffscheduleinterval_change", args=[interval.pk]),
        reverse("admin:bookings_stafftimeoff_changelist"),
        reverse("admin:bookings_stafftimeoff_change", args=[time_off.pk]),
        reverse("admin:payments_payment_change", args=[payment.pk]),
    ]
    for page in pages:
        response = operator_client.get(page)
        assert response.status_code == 200, page
    detail = operator_client.get(reverse("admin:bookings_booking_change", args=[booking.pk]))
    assert f"/admin/payments/payment/{payment.pk}/change/" in detail.content.decode()


def test_bookings_cannot_be_changed_in_the_admin(operator_client):
    booking = BookingFactory.create(status=BookingStatus.CONFIRMED)
    operator_client.post(reverse("admin:bookings_booking_change", args=[booking.pk]), {"status": "cancelled"})
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert operator_client.get(reverse("admin:bookings_booking_add")).status_code == 403
    assert operator_client.get(reverse("admin:bookings_booking_delete", args=[booking.pk])).status_code == 403
