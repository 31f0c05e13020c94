"""factory_boy factories for bookings, booking policies and staff schedules.

`BookingFactory` writes rows directly (any status, for tests that need a booking in a given state,
e.g. payments and reviews); tests of creation itself go through refuje.bookings.services. By
default each booking gets its own staff membership, so bookings never collide with each other; pass
``staff=`` (and distinct ``start``) to book one staff member several times.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import factory
from django.utils import timezone

from refuje.accounts.models import User
from refuje.bookings.models import (
    Booking,
    BookingStatus,
    ExperienceBookingPolicy,
    IntervalKind,
    StaffScheduleInterval,
    StaffTimeOff,
)
from refuje.common.testing.factories import GuestFactory, HotelFactory, MembershipFactory
from refuje.experiences.models import Experience
from refuje.experiences.tests.factories import ExperienceFactory
from refuje.hotels.models import Hotel, HotelMembership, Role


def _default_start() -> datetime:
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    return now + timedelta(days=2)


class ExperienceBookingPolicyFactory(factory.django.DjangoModelFactory[ExperienceBookingPolicy]):
    class Meta:
        model = ExperienceBookingPolicy
        django_get_or_create = ("experience",)

    experience = factory.SubFactory(ExperienceFactory)
    buffer_before_minutes = 0
    buffer_after_minutes = 0
    min_notice_minutes = 60
    max_advance_days = 60
    slot_step_minutes = 30
    free_cancellation_hours = 24
    late_cancellation_fee_percent = 50
    no_show_fee_percent = 100


class StaffScheduleIntervalFactory(factory.django.DjangoModelFactory[StaffScheduleInterval]):
    class Meta:
        model = StaffScheduleInterval

    membership = factory.SubFactory(MembershipFactory)
    kind = IntervalKind.WORK
    weekday = 0
    start = time(9)
    end = time(17)


class StaffTimeOffFactory(factory.django.DjangoModelFactory[StaffTimeOff]):
    class Meta:
        model = StaffTimeOff

    membership = factory.SubFactory(MembershipFactory)
    start = factory.LazyFunction(_default_start)
    end = factory.LazyAttribute(lambda off: off.start + timedelta(hours=8))
    reason = "Leave"


class BookingFactory(factory.django.DjangoModelFactory[Booking]):
    """A booking row in any status (default: confirmed, two days ahead, price of the experience)."""

    class Meta:
        model = Booking

    hotel = factory.SubFactory(HotelFactory)
    experience = factory.LazyAttribute(lambda b: ExperienceFactory.create(hotel=b.hotel))
    staff = factory.LazyAttribute(lambda b: MembershipFactory.create(hotel=b.hotel))
    customer = factory.SubFactory(GuestFactory)
    stay = None
    start = factory.LazyFunction(_default_start)
    end = factory.LazyAttribute(lambda b: b.start + timedelta(minutes=b.experience.duration_minutes))
    blocked_start = factory.LazyAttribute(lambda b: b.start)
    blocked_end = factory.LazyAttribute(lambda b: b.end)
    status = BookingStatus.CONFIRMED
    price_minor = factory.LazyAttribute(lambda b: b.experience.price_minor)
    currency = factory.LazyAttribute(lambda b: b.experience.currency)
    hold_expires_at = factory.LazyAttribute(
        lambda b: timezone.now() + timedelta(minutes=15) if b.status == BookingStatus.PENDING_PAYMENT else None
    )
    confirmed_at = factory.LazyAttribute(
        lambda b: timezone.now() if b.status in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED) else None
    )
    completed_at = factory.LazyAttribute(lambda b: b.end if b.status == BookingStatus.COMPLETED else None)


def bookable_experience(
    *,
    hotel: Hotel | None = None,
    staff: list[HotelMembership] | None = None,
    staff_count: int = 1,
    price_minor: int = 0,
    duration_minutes: int = 60,
    work: tuple[str, str] = ("09:00", "17:00"),
    **policy: Any,
) -> Experience:
    """An active experience with a booking policy and bookable staff working every day `work`
    (hotel time). Pass `staff` to reuse memberships, policy fields as keywords (e.g.
    `buffer_after_minutes=15`); the default policy needs 60 minutes' notice and uses a 30-minute grid."""
    hotel = hotel if hotel is not None else HotelFactory.create()
    experience: Experience = ExperienceFactory.create(
        hotel=hotel, price_minor=price_minor, duration_minutes=duration_minutes, capacity=1
    )
    if staff is None:
        staff = [MembershipFactory.create(hotel=hotel, role=Role.STAFF) for _ in range(staff_count)]
    opens, closes = time.fromisoformat(work[0]), time.fromisoformat(work[1])
    for member in staff:
        if not StaffScheduleInterval.objects.filter(membership=member).exists():
            StaffScheduleInterval.objects.bulk_create(
                StaffScheduleInterval(membership=member, weekday=day, start=opens, end=closes) for day in range(7)
            )
    found = ExperienceBookingPolicyFactory.create(experience=experience, **policy)
    found.bookable_staff.set(staff)
    return experience


def verified_guest(**fields: Any) -> User:
    """A guest whose phone is verified (booking needs that)."""
    guest: User = GuestFactory.create(phone_verified_at=timezone.now(), **fields)
    return guest
