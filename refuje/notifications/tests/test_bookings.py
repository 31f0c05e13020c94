"""Booking events reach the guest (WhatsApp → SMS) and the booked staff member, in their languages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from refuje.bookings.events import (
    BOOKING_CANCELLED,
    BOOKING_COMPLETED,
    BOOKING_CONFIRMED,
    BOOKING_CREATED,
    BOOKING_REFUNDED,
    publish_booking_event,
)
from refuje.bookings.models import BookingStatus
from refuje.common.testing.booking_factories import BookingFactory
from refuje.common.testing.factories import GuestFactory, HotelFactory, MembershipFactory
from refuje.experiences.tests.factories import ExperienceFactory
from refuje.hotels.models import Role
from refuje.notifications import kinds
from refuje.notifications.models import Channel, DeliveryStatus, Notification
from refuje.notifications.receivers import money_text

from .conftest import template_id_for

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 5, 15, 30, tzinfo=UTC)  # 18:30 in Riyadh


@pytest.fixture
def booking():
    hotel = HotelFactory.create(name_en="Grand Hotel", name_ar="الفندق الكبير", timezone="Asia/Riyadh")
    staff = MembershipFactory.create(hotel=hotel, role=Role.STAFF, user__preferred_language="en")
    return BookingFactory.create(
        hotel=hotel,
        staff=staff,
        customer=GuestFactory.create(preferred_language="ar"),
        experience=ExperienceFactory.create(hotel=hotel, title_en="Sunset massage", title_ar="مساج الغروب"),
        start=START,
    )


def publish(booking, kind, capture, data=None):
    with capture(execute=True):
        publish_booking_event(kind, booking, data)


def of(user):
    return list(Notification.objects.filter(recipient=user).order_by("id"))


def test_a_confirmed_booking_reaches_the_guest_in_arabic_and_the_staff_member_in_english(
    booking, gupshup, django_capture_on_commit_callbacks
):
    publish(booking, BOOKING_CONFIRMED, django_capture_on_commit_callbacks)

    [guest_note] = of(booking.customer)
    assert guest_note.kind == kinds.BOOKING_CONFIRMED
    assert guest_note.language == "ar"
    assert "مساج الغروب" in guest_note.body
    assert "الفندق الكبير" in guest_note.title
    assert guest_note.target == f"/bookings/{booking.pk}/"
    [staff_note] = of(booking.staff.user)
    assert staff_note.kind == kinds.STAFF_BOOKING_CONFIRMED
    assert staff_note.title == "Booking confirmed: Sunset massage"
    # The time is the hotel's local time (18:30 in Riyadh), not UTC.
    assert staff_note.body == "Sunset massage with you on 5 December 2026, 18:30 is confirmed."
    assert staff_note.target == f"/hotels/{booking.hotel.slug}/bookings/{booking.pk}/"

    guest_whatsapp = [m for m in gupshup.sent if m.destination == booking.customer.phone_number.removeprefix("+")]
    [message] = guest_whatsapp
    assert message.template_id == template_id_for(kinds.BOOKING_CONFIRMED, "ar")
    assert message.params[:2] == ("الفندق الكبير", "مساج الغروب")
    assert guest_note.deliveries.get().status == DeliveryStatus.SENT
    # The staff member has no push subscription: WhatsApp instead.
    assert {d.channel for d in staff_note.deliveries.all()} == {Channel.WHATSAPP}


@pytest.mark.parametrize(
    ("event", "guest_kind", "staff_kind"),
    [
        (BOOKING_CREATED, kinds.BOOKING_CREATED, kinds.STAFF_BOOKING_CREATED),
        (BOOKING_CANCELLED, kinds.BOOKING_CANCELLED, kinds.STAFF_BOOKING_CANCELLED),
    ],
)
def test_created_and_cancelled_bookings_notify_both_sides(
    booking, console_providers, django_capture_on_commit_callbacks, event, guest_kind, staff_kind
):
    if event == BOOKING_CREATED:
        booking.status = BookingStatus.PENDING_PAYMENT  # a priced booking, awaiting payment
    publish(booking, event, django_capture_on_commit_callbacks)
    publish(booking, event, django_capture_on_commit_callbacks)  # the same event again
    assert [n.kind for n in of(booking.customer)] == [guest_kind]
    assert [n.kind for n in of(booking.staff.user)] == [staff_kind]


def test_a_refund_states_the_amount(booking, authentica_only, django_capture_on_commit_callbacks):
    booking.customer.preferred_language = "en"
    booking.customer.save()
    publish(booking, BOOKING_REFUNDED, django_capture_on_commit_callbacks, {"amount_minor": 7550, "currency": "SAR"})

    [note] = of(booking.customer)
    assert note.kind == kinds.BOOKING_REFUNDED
    assert note.body.startswith("We refunded 75.50 SAR for your booking of Sunset massage on ")
    [sms] = [s for s in authentica_only.sent_sms if s.phone == booking.customer.phone_number]
    assert "75.50 SAR" in sms.message
    assert of(booking.staff.user)[0].body.startswith("75.50 SAR was refunded for Sunset massage on ")


def test_events_without_a_notification_are_ignored(booking, console_providers, django_capture_on_commit_callbacks):
    booking.status = BookingStatus.COMPLETED
    publish(booking, BOOKING_COMPLETED, django_capture_on_commit_callbacks)
    assert of(booking.customer) == []
    assert of(booking.staff.user) == []


def test_money_uses_the_currencys_minor_units():
    assert money_text(15000, "SAR") == "150.00 SAR"
    assert money_text(1500, "KWD") == "1.500 KWD"
    assert money_text(5, "SAR") == "0.05 SAR"


def test_a_free_booking_created_already_confirmed_is_announced_once(
    booking, gupshup, django_capture_on_commit_callbacks
):
    booking.status = BookingStatus.CONFIRMED
    booking.save(update_fields=["status"])
    with django_capture_on_commit_callbacks(execute=True):
        publish_booking_event(BOOKING_CREATED, booking, {"status": booking.status})
        publish_booking_event(BOOKING_CONFIRMED, booking, {"status": booking.status})

    assert [n.kind for n in of(booking.customer)] == [kinds.BOOKING_CONFIRMED]
    assert [n.kind for n in of(booking.staff.user)] == [kinds.STAFF_BOOKING_CONFIRMED]
