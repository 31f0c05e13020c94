"""Booking creation, payment hooks, hold release and the lifecycle, through the services."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from refuje.bookings import services
from refuje.bookings.models import Booking, BookingStatus
from refuje.bookings.services import IllegalTransition, PhoneNotVerified, SlotTaken
from refuje.common.testing.booking_factories import BookingFactory, bookable_experience, verified_guest
from refuje.common.testing.concierge_factories import GuestStayFactory
from refuje.common.testing.factories import GuestFactory
from refuje.payments.models import Payment

from .conftest import NOW

pytestmark = pytest.mark.django_db
RIYADH = ZoneInfo("Asia/Riyadh")


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=RIYADH)


def book(experience, start, *, guest=None, staff=None, now=None):
    return services.booking_create(
        actor=guest or verified_guest(),
        experience_id=experience.pk,
        start=start,
        staff_id=staff.pk if staff is not None else None,
        now=now,
    )


def test_free_booking_is_confirmed_at_once_and_links_the_active_stay(clock, heard, django_capture_on_commit_callbacks):
    experience = bookable_experience(buffer_before_minutes=10, buffer_after_minutes=15)
    guest = verified_guest()
    stay = GuestStayFactory.create(hotel=experience.hotel, guest=guest)
    with django_capture_on_commit_callbacks(execute=True):
        created = book(experience, at("2026-03-02T09:00"), guest=guest)
    booking = Booking.objects.get(pk=created.booking.pk)
    assert created.payment is None
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.confirmed_at == NOW
    assert booking.hold_expires_at is None
    assert booking.stay == stay
    assert booking.customer == guest
    assert (booking.start, booking.end) == (at("2026-03-02T09:00"), at("2026-03-02T10:00"))
    assert (booking.blocked_start, booking.blocked_end) == (at("2026-03-02T08:50"), at("2026-03-02T10:15"))
    assert booking.price_minor == 0
    assert [kind for kind, pk, _data in heard] == ["booking.created", "booking.confirmed"]
    assert {pk for _kind, pk, _data in heard} == {booking.pk}


def test_booking_elsewhere_is_not_linked_to_a_stay(clock):
    experience = bookable_experience()
    guest = verified_guest()
    GuestStayFactory.create(guest=guest)  # another hotel
    assert book(experience, at("2026-03-02T09:00"), guest=guest).booking.stay is None


def test_second_booking_of_the_same_slot_gets_409_with_next_slots(clock):
    experience = bookable_experience()
    book(experience, at("2026-03-02T09:00"))
    with pytest.raises(SlotTaken) as caught:
        book(experience, at("2026-03-02T09:00"))
    assert caught.value.status_code == 409
    assert caught.value.get_codes() == "slot_taken"
    assert caught.value.extra["next_slots"][:2] == [
        {
            "start": "2026-03-02T10:00:00+03:00",
            "end": "2026-03-02T11:00:00+03:00",
            "staff": caught.value.extra["next_slots"][0]["staff"],
        },
        {
            "start": "2026-03-02T10:30:00+03:00",
            "end": "2026-03-02T11:30:00+03:00",
            "staff": caught.value.extra["next_slots"][0]["staff"],
        },
    ]
    assert Booking.objects.count() == 1


def test_overlapping_start_is_refused_too(clock):
    experience = bookable_experience()
    book(experience, at("2026-03-02T09:00"))
    with pytest.raises(SlotTaken, match="no longer available"):
        book(experience, at("2026-03-02T09:30"))


def test_times_outside_hours_or_off_grid_or_too_soon_are_unavailable(clock):
    experience = bookable_experience()
    for start in ("2026-03-02T08:00", "2026-03-02T17:00", "2026-03-02T09:10", "2026-03-02T16:30"):
        with pytest.raises(SlotTaken) as caught:
            book(experience, at(start))
        assert caught.value.get_codes() == "slot_unavailable", start
        assert caught.value.extra["next_slots"][0]["start"] >= "2026-03-02T09:00:00+03:00"
    assert Booking.objects.count() == 0


def test_without_staff_the_first_free_member_is_chosen(clock):
    experience = bookable_experience(staff_count=2)
    first = book(experience, at("2026-03-02T09:00")).booking
    second = book(experience, at("2026-03-02T09:00")).booking
    assert first.staff_id != second.staff_id
    with pytest.raises(SlotTaken):
        book(experience, at("2026-03-02T09:00"))


def test_naive_start_is_read_in_the_hotel_zone(clock):
    experience = bookable_experience()
    booking = book(experience, datetime(2026, 3, 2, 9, 0)).booking  # noqa: DTZ001
    assert booking.start == at("2026-03-02T09:00")


def test_staff_who_does_not_offer_the_experience_is_refused(clock):
    experience = bookable_experience()
    other = bookable_experience(hotel=experience.hotel)
    outsider = other.booking_policy.bookable_staff.get()
    with pytest.raises(ValidationError) as caught:
        book(experience, at("2026-03-02T09:00"), staff=outsider)
    assert "staff" in caught.value.message_dict


def test_unverified_phone_cannot_book(clock):
    experience = bookable_experience()
    with pytest.raises(PhoneNotVerified):
        book(experience, at("2026-03-02T09:00"), guest=GuestFactory.create(phone_verified_at=None))


def test_inactive_experience_cannot_be_booked(clock):
    experience = bookable_experience()
    experience.is_active = False
    experience.save()
    with pytest.raises(ValidationError):
        book(experience, at("2026-03-02T09:00"))


# --- Paid bookings, holds ------------------------------------------------------------------


def test_priced_booking_holds_its_slot_awaiting_payment(clock, settings, heard, django_capture_on_commit_callbacks):
    settings.BOOKING_PAYMENT_HOLD_MINUTES = 20
    experience = bookable_experience(price_minor=15000)
    with django_capture_on_commit_callbacks(execute=True):
        created = book(experience, at("2026-03-02T09:00"))
    booking = created.booking
    assert booking.status == BookingStatus.PENDING_PAYMENT
    assert booking.hold_expires_at == NOW + timedelta(minutes=20)
    assert booking.price_minor == 15000
    assert created.payment is not None
    assert created.payment["amount"] == 15000
    assert created.payment["metadata"]["booking_id"] == str(booking.pk)
    assert Payment.objects.filter(booking=booking).count() == 1
    assert [kind for kind, _pk, _data in heard] == ["booking.created"]
    with pytest.raises(SlotTaken):
        book(experience, at("2026-03-02T09:00"))


def test_payment_success_confirms_once(clock, heard, django_capture_on_commit_callbacks):
    booking = BookingFactory.create(status=BookingStatus.PENDING_PAYMENT)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.booking_payment_succeeded(booking_id=booking.pk)
        again = services.booking_payment_succeeded(booking_id=booking.pk)
    assert first.status == again.status == BookingStatus.CONFIRMED
    assert first.hold_expires_at is None
    assert [kind for kind, _pk, _data in heard] == ["booking.confirmed"]


def test_payment_success_leaves_expired_and_cancelled_bookings_alone(clock):
    for status in (BookingStatus.EXPIRED, BookingStatus.CANCELLED):
        booking = BookingFactory.create(status=status)
        assert services.booking_payment_succeeded(booking_id=booking.pk).status == status


def test_payment_failure_keeps_the_hold(clock):
    booking = BookingFactory.create(status=BookingStatus.PENDING_PAYMENT)
    assert services.booking_payment_failed(booking_id=booking.pk).status == BookingStatus.PENDING_PAYMENT


def test_release_job_expires_only_holds_that_ran_out(clock, heard, django_capture_on_commit_callbacks):
    experience = bookable_experience(price_minor=5000)
    held = book(experience, at("2026-03-02T10:00")).booking
    fresh = BookingFactory.create(status=BookingStatus.PENDING_PAYMENT)
    fresh.hold_expires_at = NOW + timedelta(hours=1)
    fresh.save()
    confirmed = BookingFactory.create(status=BookingStatus.CONFIRMED)
    clock.tick(timedelta(minutes=16))
    with django_capture_on_commit_callbacks(execute=True):
        released = services.bookings_release_expired_holds()
        assert services.bookings_release_expired_holds() == []  # idempotent
    assert released == [held.pk]
    held.refresh_from_db()
    assert held.status == BookingStatus.EXPIRED
    assert Booking.objects.get(pk=fresh.pk).status == BookingStatus.PENDING_PAYMENT
    assert Booking.objects.get(pk=confirmed.pk).status == BookingStatus.CONFIRMED
    assert ("booking.expired", held.pk, {"status": "expired"}) in heard
    # The slot is free again.
    assert book(experience, at("2026-03-02T10:00")).booking.status == BookingStatus.PENDING_PAYMENT


def test_release_task_is_scheduled_and_runs(clock, settings):
    from refuje.bookings.tasks import release_expired_holds_task

    entry = settings.CELERY_BEAT_SCHEDULE["bookings-release-expired-holds"]
    assert entry["task"] == release_expired_holds_task.name
    booking = BookingFactory.create(status=BookingStatus.PENDING_PAYMENT)
    clock.tick(timedelta(hours=1))
    assert release_expired_holds_task.apply().get() == {"expired": 1}
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.EXPIRED


# --- Cancellation and the staff lifecycle ---------------------------------------------------


def confirmed(price_minor: int, start: datetime, **policy) -> Booking:
    experience = bookable_experience(price_minor=price_minor, **policy)
    return BookingFactory.create(
        hotel=experience.hotel,
        experience=experience,
        staff=experience.booking_policy.bookable_staff.get(),
        start=start,
        status=BookingStatus.CONFIRMED,
    )


def test_guest_cancels_free_booking(clock, heard, django_capture_on_commit_callbacks):
    booking = confirmed(0, at("2026-03-03T10:00"))
    with django_capture_on_commit_callbacks(execute=True):
        cancelled, quote = services.booking_cancel(
            actor=booking.customer, booking=booking, by_staff=False, reason="Plans changed"
        )
        again, _ = services.booking_cancel(actor=booking.customer, booking=booking, by_staff=False)
    assert cancelled.status == again.status == BookingStatus.CANCELLED
    assert (quote.refund_minor, quote.fee_minor, quote.reason_code) == (0, 0, "nothing_paid")
    assert cancelled.cancellation_reason == "Plans changed"
    assert cancelled.cancelled_by == booking.customer
    assert cancelled.cancelled_by_staff is False
    assert [kind for kind, _pk, _data in heard] == ["booking.cancelled"]


def test_guest_cancellation_fee_depends_on_notice(clock):
    early = confirmed(10001, at("2026-03-03T10:00"), free_cancellation_hours=24, late_cancellation_fee_percent=50)
    _, quote = services.booking_cancel(actor=early.customer, booking=early, by_staff=False)
    assert (quote.refund_minor, quote.fee_minor, quote.reason_code) == (10001, 0, "free_cancellation")

    late = confirmed(10001, at("2026-03-02T20:00"), free_cancellation_hours=24, late_cancellation_fee_percent=50)
    cancelled, quote = services.booking_cancel(actor=late.customer, booking=late, by_staff=False)
    assert (quote.refund_minor, quote.fee_minor, quote.reason_code) == (5000, 5001, "late_cancellation")
    assert (cancelled.refund_minor, cancelled.fee_minor) == (5000, 5001)


def test_staff_cancellation_refunds_in_full(clock):
    booking = confirmed(8000, at("2026-03-02T10:00"), late_cancellation_fee_percent=100)
    staff = booking.staff.user
    cancelled, quote = services.booking_cancel(actor=staff, booking=booking, by_staff=True, reason="Therapist ill")
    assert (quote.refund_minor, quote.fee_minor) == (8000, 0)
    assert cancelled.cancelled_by_staff is True


def test_guest_cannot_cancel_after_the_start(clock):
    booking = confirmed(0, at("2026-03-02T07:30"))
    with pytest.raises(IllegalTransition) as caught:
        services.booking_cancel(actor=booking.customer, booking=booking, by_staff=False)
    assert caught.value.get_codes() == "booking_started"
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED


def test_complete_waits_for_the_start_and_is_idempotent(clock, heard, django_capture_on_commit_callbacks):
    booking = confirmed(0, at("2026-03-02T09:00"))
    with pytest.raises(IllegalTransition) as caught:
        services.booking_complete(actor=booking.staff.user, booking=booking)
    assert caught.value.get_codes() == "not_started"
    assert caught.value.extra["allowed_actions"] == ["cancel"]
    clock.tick(timedelta(hours=1, minutes=30))
    with django_capture_on_commit_callbacks(execute=True):
        done = services.booking_complete(actor=booking.staff.user, booking=booking)
        services.booking_complete(actor=booking.staff.user, booking=booking)
    assert done.status == BookingStatus.COMPLETED
    assert [kind for kind, _pk, _data in heard] == ["booking.completed"]
    with pytest.raises(IllegalTransition) as caught:
        services.booking_mark_no_show(actor=booking.staff.user, booking=booking)
    assert caught.value.extra == {"status": "completed", "allowed_actions": []}


def test_no_show_keeps_the_fee(clock):
    booking = confirmed(9999, at("2026-03-02T09:00"), no_show_fee_percent=25)
    clock.tick(timedelta(hours=2))
    marked = services.booking_mark_no_show(actor=booking.staff.user, booking=booking, reason="Did not come")
    assert marked.status == BookingStatus.NO_SHOW
    assert (marked.fee_minor, marked.refund_minor) == (2500, 7499)


def test_cancelled_booking_cannot_complete(clock):
    booking = BookingFactory.create(status=BookingStatus.CANCELLED)
    with pytest.raises(IllegalTransition) as caught:
        services.booking_complete(actor=booking.staff.user, booking=booking)
    assert caught.value.extra == {"status": "cancelled", "allowed_actions": []}


def test_cancelled_slot_can_be_booked_again(clock):
    experience = bookable_experience()
    booking = book(experience, at("2026-03-02T09:00")).booking
    services.booking_cancel(actor=booking.customer, booking=booking, by_staff=False)
    assert book(experience, at("2026-03-02T09:00")).booking.status == BookingStatus.CONFIRMED
