"""Lists cost the same number of queries for one row as for a full page (no N+1)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from refuje.common.testing.booking_factories import BookingFactory, verified_guest
from refuje.common.testing.factories import HotelFactory, MembershipFactory
from refuje.common.testing.tenancy import browser_client
from refuje.hotels.models import Role
from refuje.notifications.models import Channel, Notification, NotificationDelivery

pytestmark = pytest.mark.django_db


def in_hours(hours):
    return timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=hours)


def queries_for(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured), response.json()


def test_a_guest_booking_list_costs_the_same_for_one_and_for_twenty_bookings():
    hotel = HotelFactory.create()
    staff = MembershipFactory.create(hotel=hotel, role=Role.STAFF)
    few, many = verified_guest(), verified_guest()
    BookingFactory.create(customer=few, hotel=hotel, staff=staff, start=in_hours(48))
    for index in range(20):
        BookingFactory.create(customer=many, hotel=hotel, staff=staff, start=in_hours(50 + 2 * index))

    one, body_one = queries_for(browser_client(few), "/api/v1/bookings/")
    twenty, body_twenty = queries_for(browser_client(many), "/api/v1/bookings/")

    assert (body_one["count"], body_twenty["count"]) == (1, 20)
    assert one == twenty


def test_the_staff_booking_calendar_costs_the_same_for_one_and_for_twenty_bookings():
    quiet, busy = HotelFactory.create(), HotelFactory.create()
    admins = {hotel.pk: MembershipFactory.create(hotel=hotel, role=Role.ADMIN) for hotel in (quiet, busy)}
    BookingFactory.create(hotel=quiet, staff=MembershipFactory.create(hotel=quiet, role=Role.STAFF))
    for _ in range(20):
        BookingFactory.create(hotel=busy, staff=MembershipFactory.create(hotel=busy, role=Role.STAFF))

    counts = {}
    for hotel in (quiet, busy):
        counts[hotel.pk], body = queries_for(
            browser_client(admins[hotel.pk].user), f"/api/v1/hotels/{hotel.slug}/bookings/"
        )
        assert len(body["results"]) == (1 if hotel is quiet else 20)

    assert counts[quiet.pk] == counts[busy.pk]


def test_the_notification_list_costs_the_same_for_one_and_for_twenty_notifications():
    few, many = verified_guest(), verified_guest()
    for user, number in ((few, 1), (many, 20)):
        for index in range(number):
            notification = Notification.objects.create(
                recipient=user, kind="request.completed", language="en", title=f"Done {index}", body="Done."
            )
            NotificationDelivery.objects.create(notification=notification, channel=Channel.WHATSAPP)

    one, body_one = queries_for(browser_client(few), "/api/v1/notifications/")
    twenty, body_twenty = queries_for(browser_client(many), "/api/v1/notifications/")

    assert (len(body_one["results"]), len(body_twenty["results"])) == (1, 20)
    assert one == twenty
