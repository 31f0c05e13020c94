"""A hypothesis state machine drives bookings through create, pay, cancel, expire and complete and
checks, after every step, that no two active bookings of one staff member overlap and that the
services agree with a simple model: a request is refused exactly when it overlaps an active booking."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from refuje.bookings import services
from refuje.bookings.models import ACTIVE_STATUSES, Booking, BookingStatus
from refuje.bookings.services import IllegalTransition, SlotTaken
from refuje.common.testing.booking_factories import bookable_experience, verified_guest
from refuje.common.testing.factories import HotelFactory, MembershipFactory
from refuje.hotels.models import Role

pytestmark = pytest.mark.django_db

RIYADH = ZoneInfo("Asia/Riyadh")
MONDAY = datetime(2026, 3, 2, tzinfo=RIYADH)
BUFFER_AFTER = timedelta(minutes=15)
HOLD = timedelta(minutes=15)


class BookingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        hotel = HotelFactory.create()
        self.staff = [MembershipFactory.create(hotel=hotel, role=Role.STAFF) for _ in range(2)]
        self.experiences = {
            price: bookable_experience(
                hotel=hotel,
                staff=self.staff,
                price_minor=price,
                min_notice_minutes=0,
                buffer_after_minutes=15,
                slot_step_minutes=30,
            )
            for price in (0, 9000)
        }
        self.guest = verified_guest()
        self.now = MONDAY
        # Model: booking id -> [staff id, blocked start, blocked end, status, hold expiry, start]
        self.model: dict[int, list] = {}

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _active(self):
        return [(pk, row) for pk, row in self.model.items() if row[3] in ACTIVE_STATUSES]

    @rule(
        staff=st.integers(0, 1),
        day=st.integers(0, 2),
        slot=st.integers(0, 14),
        priced=st.booleans(),
    )
    def create(self, staff, day, slot, priced):
        start = MONDAY + timedelta(days=day, hours=9, minutes=30 * slot)
        member = self.staff[staff]
        blocked = (start, start + timedelta(hours=1) + BUFFER_AFTER)
        clash = any(row[0] == member.pk and row[1] < blocked[1] and blocked[0] < row[2] for _pk, row in self._active())
        expected_ok = not clash and start >= self.now
        try:
            created = services.booking_create(
                actor=self.guest,
                experience_id=self.experiences[9000 if priced else 0].pk,
                start=start,
                staff_id=member.pk,
                now=self.now,
            )
        except SlotTaken:
            assert not expected_ok, (start, member.pk)
            return
        assert expected_ok, (start, member.pk)
        booking = created.booking
        self.model[booking.pk] = [member.pk, *blocked, booking.status, booking.hold_expires_at, start]

    @precondition(lambda self: self.model)
    @rule(data=st.data(), by_staff=st.booleans())
    def cancel(self, data, by_staff):
        pk = data.draw(st.sampled_from(sorted(self.model)))
        row = self.model[pk]
        booking = Booking.objects.get(pk=pk)
        try:
            services.booking_cancel(actor=self.guest, booking=booking, by_staff=by_staff, now=self.now)
        except IllegalTransition:
            assert row[3] not in ACTIVE_STATUSES or (not by_staff and self.now >= row[5])
            return
        assert row[3] in ACTIVE_STATUSES or row[3] == BookingStatus.CANCELLED
        row[3] = BookingStatus.CANCELLED

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def pay(self, data):
        pk = data.draw(st.sampled_from(sorted(self.model)))
        row = self.model[pk]
        services.booking_payment_succeeded(booking_id=pk)
        if row[3] == BookingStatus.PENDING_PAYMENT:
            row[3] = BookingStatus.CONFIRMED

    @rule(minutes=st.sampled_from([5, 20, 90, 240]))
    def tick_and_release(self, minutes):
        self.now += timedelta(minutes=minutes)
        released = set(services.bookings_release_expired_holds(now=self.now))
        expected = {
            pk for pk, row in self.model.items() if row[3] == BookingStatus.PENDING_PAYMENT and row[4] <= self.now
        }
        assert released == expected
        for pk in released:
            self.model[pk][3] = BookingStatus.EXPIRED

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def complete(self, data):
        pk = data.draw(st.sampled_from(sorted(self.model)))
        row = self.model[pk]
        booking = Booking.objects.get(pk=pk)
        try:
            services.booking_complete(actor=self.staff[0].user, booking=booking, now=self.now)
        except IllegalTransition:
            assert row[3] != BookingStatus.CONFIRMED or self.now < row[5]
            return
        assert row[3] in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED)
        row[3] = BookingStatus.COMPLETED

    @invariant()
    def statuses_match_and_nothing_overlaps(self):
        assert dict(Booking.objects.values_list("pk", "status")) == {pk: row[3] for pk, row in self.model.items()}
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT count(*) FROM bookings_booking a JOIN bookings_booking b
                  ON a.staff_id = b.staff_id AND a.id < b.id
                 AND a.blocked_start < b.blocked_end AND b.blocked_start < a.blocked_end
                 WHERE a.status IN ('pending_payment', 'confirmed') AND b.status IN ('pending_payment', 'confirmed')
                """
            )
            assert cursor.fetchone()[0] == 0


def test_bookings_never_overlap_whatever_happens():
    run_state_machine_as_test(
        BookingMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
