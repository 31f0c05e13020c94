"""Bookings writes: policies, staff schedules and time off, and bookings through their lifecycle.

Creating a booking locks the candidate staff memberships (``select_for_update``), re-checks the slot
against what is committed at that moment and inserts, all in one transaction. On PostgreSQL the
exclusion constraint ``bookings_booking_no_overlap`` rejects an overlap even from code that skipped
the check; on SQLite the IMMEDIATE transaction serialises writers. A lost race is a 409
``slot_taken`` with the next free slots.

Every status change locks the booking row, checks the one transition table (lifecycle.py), is a
no-op when already applied, and publishes its event after commit.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import status as http_status

from refuje.accounts.models import User
from refuje.common.errors import ApiError, Conflict, NotFound
from refuje.compliance.services import audit_record
from refuje.concierge.hours import HoursError, validate_windows
from refuje.experiences.models import Experience
from refuje.hotels.models import HotelMembership
from refuje.stays.selectors import stay_active

from . import selectors
from .availability import Slot, Window, free_slots, in_zone
from .cancellation import Quote, cancellation_quote, paid_minor_of, policy_of, quote_no_show
from .events import (
    BOOKING_CANCELLED,
    BOOKING_COMPLETED,
    BOOKING_CONFIRMED,
    BOOKING_CREATED,
    BOOKING_EXPIRED,
    BOOKING_NO_SHOW,
    publish_booking_event,
)
from .lifecycle import AFTER_START_ACTIONS, STAFF_ACTIONS, TRANSITIONS, BookingAction, allowed_actions
from .models import (
    MAX_REASON_LENGTH,
    Booking,
    BookingStatus,
    ExperienceBookingPolicy,
    IntervalKind,
    StaffScheduleInterval,
    StaffTimeOff,
)

__all__ = [
    "IllegalTransition",
    "PhoneNotVerified",
    "SlotTaken",
    "booking_cancel",
    "booking_complete",
    "booking_create",
    "booking_expire",
    "booking_mark_no_show",
    "booking_payment_failed",
    "booking_payment_succeeded",
    "booking_policy_set",
    "bookings_release_expired_holds",
    "cancellation_quote",
    "staff_schedule_set",
    "staff_time_off_create",
    "staff_time_off_delete",
]

EXCLUSION_VIOLATION = "23P01"


class PhoneNotVerified(ApiError):
    status_code = http_status.HTTP_403_FORBIDDEN
    default_detail = _("Verify your phone number before booking.")
    default_code = "phone_not_verified"


def slot_json(slot: Slot, zone: ZoneInfo) -> dict[str, Any]:
    start, end = slot.local_iso(zone)
    return {"start": start, "end": end, "staff": slot.staff_id}


class SlotTaken(Conflict):
    """The chosen time cannot be booked (any more); `next_slots` lists free ones after it."""

    default_detail = _("This time is no longer available. Please choose another one.")
    default_code = "slot_taken"

    def __init__(
        self, *, next_slots: Sequence[Slot], zone: ZoneInfo, code: str = "slot_taken", detail: Any = None
    ) -> None:
        super().__init__(detail, code, extra={"next_slots": [slot_json(slot, zone) for slot in next_slots]})


class IllegalTransition(Conflict):
    default_code = "illegal_transition"

    def __init__(self, *, action: str, status: str, allowed: list[str], detail: Any = None, code: str = "") -> None:
        if detail is None:
            detail = _("“%(action)s” is not possible while the booking is %(status)s.") % {
                "action": action,
                "status": BookingStatus(status).label,
            }
        super().__init__(detail, code or None, extra={"status": status, "allowed_actions": allowed})


def _field_error(field_name: str, message: Any, code: str, params: dict[str, Any] | None = None) -> ValidationError:
    return ValidationError({field_name: ValidationError(message, code=code, params=params or {})})


def _clean_reason(reason: str) -> str:
    text = (reason or "").strip()
    if len(text) > MAX_REASON_LENGTH:
        raise _field_error(
            "reason", _("Use at most %(maximum)s characters."), "max_length", {"maximum": MAX_REASON_LENGTH}
        )
    return text


# --- Booking policy -------------------------------------------------------------------------


POLICY_FIELDS: tuple[str, ...] = (
    "buffer_before_minutes",
    "buffer_after_minutes",
    "min_notice_minutes",
    "max_advance_days",
    "slot_step_minutes",
    "free_cancellation_hours",
    "late_cancellation_fee_percent",
    "no_show_fee_percent",
)


def policy_state(policy: ExperienceBookingPolicy, staff_ids: Sequence[int]) -> dict[str, Any]:
    return {**{name: getattr(policy, name) for name in POLICY_FIELDS}, "bookable_staff": list(staff_ids)}


def booking_policy_set(
    *,
    actor: User,
    experience: Experience,
    bookable_staff: Sequence[int],
    ip: str | None = None,
    **values: int,
) -> ExperienceBookingPolicy:
    """Replace the experience's booking policy. Bookable staff are active members of its hotel.

    Existing bookings keep the buffers and prices they were made with."""
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise TypeError(f"unknown policy fields {sorted(unknown)}")
    wanted = list(dict.fromkeys(bookable_staff))
    found = set(
        HotelMembership.objects.filter(hotel_id=experience.hotel_id, is_active=True, pk__in=wanted).values_list(
            "pk", flat=True
        )
    )
    missing = [pk for pk in wanted if pk not in found]
    if missing:
        raise _field_error(
            "bookable_staff",
            _("These are not active members of this hotel: %(ids)s."),
            "unknown_members",
            {"ids": ", ".join(str(pk) for pk in missing)},
        )
    with transaction.atomic():
        # The experience row lock serialises policy writes.
        locked = Experience.objects.select_for_update(no_key=True).filter(pk=experience.pk).first()
        if locked is None:
            raise NotFound()
        policy = ExperienceBookingPolicy.objects.filter(experience=locked).first()
        if policy is None:
            policy = ExperienceBookingPolicy(experience=locked)
            before = None
        else:
            before = policy_state(policy, selectors.bookable_staff_ids(policy))
        for name, value in values.items():
            setattr(policy, name, value)
        policy.updated_at = timezone.now()
        policy.full_clean()
        policy.save()
        policy.bookable_staff.set(wanted)
        audit_record(
            actor=actor,
            action="experience.booking_policy_set",
            target=locked,
            hotel=locked.hotel,
            ip=ip,
            before=before,
            after=policy_state(policy, wanted),
        )
    return policy


# --- Staff schedules ------------------------------------------------------------------------


def _schedule_json(work: Sequence[Window], breaks: Sequence[Window]) -> dict[str, Any]:
    def rows(windows: Sequence[Window]) -> list[dict[str, Any]]:
        return [{"weekday": w.weekday, "start": w.start.isoformat(), "end": w.end.isoformat()} for w in windows]

    return {"work": rows(work), "breaks": rows(breaks)}


def staff_schedule_set(
    *,
    actor: User,
    membership: HotelMembership,
    work: Sequence[Window],
    breaks: Sequence[Window] = (),
    ip: str | None = None,
) -> selectors.ScheduleView:
    """Replace a member's weekly working hours and breaks (hotel time zone). Existing bookings stay."""
    for field_name, windows in (("work", work), ("breaks", breaks)):
        try:
            validate_windows(windows)
        except HoursError as exc:
            raise _field_error(field_name, exc.message, exc.code, exc.params) from exc
    with transaction.atomic():
        # The same lock booking creation takes: a booking is checked against one whole schedule.
        locked = HotelMembership.objects.select_for_update(no_key=True).filter(pk=membership.pk).first()
        if locked is None:
            raise NotFound()
        old = selectors.staff_schedule(locked)
        StaffScheduleInterval.objects.filter(membership=locked).delete()
        StaffScheduleInterval.objects.bulk_create(
            [
                *(
                    StaffScheduleInterval(
                        membership=locked, kind=IntervalKind.WORK, weekday=w.weekday, start=w.start, end=w.end
                    )
                    for w in work
                ),
                *(
                    StaffScheduleInterval(
                        membership=locked, kind=IntervalKind.BREAK, weekday=w.weekday, start=w.start, end=w.end
                    )
                    for w in breaks
                ),
            ]
        )
        view = selectors.staff_schedule(locked)
        audit_record(
            actor=actor,
            action="staff.schedule_set",
            target=locked,
            hotel=membership.hotel,
            ip=ip,
            before=_schedule_json(old.work, old.breaks),
            after=_schedule_json(view.work, view.breaks),
        )
    return view


MAX_TIME_OFF = timedelta(days=366)


def staff_time_off_create(
    *,
    actor: User,
    membership: HotelMembership,
    start: datetime,
    end: datetime,
    reason: str = "",
    ip: str | None = None,
) -> StaffTimeOff:
    """Record time off. Bookings already made in it stay; staff cancel them if need be."""
    if end <= start:
        raise _field_error("end", _("Time off must end after it starts."), "invalid_range")
    if end - start > MAX_TIME_OFF:
        raise _field_error("end", _("Time off can last at most a year; add another period."), "too_long")
    text = (reason or "").strip()
    with transaction.atomic():
        locked = HotelMembership.objects.select_for_update(no_key=True).filter(pk=membership.pk).first()
        if locked is None:
            raise NotFound()
        time_off = StaffTimeOff(membership=locked, start=start, end=end, reason=text, created_by=actor)
        time_off.full_clean()
        time_off.save()
        audit_record(
            actor=actor,
            action="staff.time_off_create",
            target=time_off,
            hotel=membership.hotel,
            ip=ip,
            after={"start": start.isoformat(), "end": end.isoformat(), "reason": text},
        )
    return time_off


def staff_time_off_delete(*, actor: User, time_off: StaffTimeOff, ip: str | None = None) -> None:
    with transaction.atomic():
        locked = (
            StaffTimeOff.objects.select_for_update(of=("self",))
            .select_related("membership__hotel")
            .filter(pk=time_off.pk)
            .first()
        )
        if locked is None:
            return  # already gone: deleting twice is a no-op
        audit_record(
            actor=actor,
            action="staff.time_off_delete",
            target=locked,
            hotel=locked.membership.hotel,
            ip=ip,
            before={"start": locked.start.isoformat(), "end": locked.end.isoformat(), "reason": locked.reason},
        )
        locked.delete()


# --- Creating bookings ----------------------------------------------------------------------


@dataclass(frozen=True)
class BookingCreated:
    booking: Booking
    # The Moyasar form's data for a booking awaiting payment (refuje.payments), else None.
    payment: dict[str, Any] | None = field(default=None)


def _bookable_experience(experience_id: int) -> Experience:
    experience = (
        Experience.objects.select_related("hotel", "department")
        .filter(pk=experience_id, is_active=True, hotel__is_active=True, department__is_active=True)
        .first()
    )
    if experience is None:
        raise _field_error("experience", _("This experience cannot be booked."), "unavailable")
    return experience


def _is_exclusion_violation(exc: IntegrityError) -> bool:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) == EXCLUSION_VIOLATION or "bookings_booking_no_overlap" in str(exc)


def booking_create(
    *,
    actor: User,
    experience_id: int,
    start: datetime,
    staff_id: int | None = None,
    now: datetime | None = None,
) -> BookingCreated:
    """Book `experience_id` at `start` with `staff_id` (or the first bookable staff member free then).

    Free experiences are confirmed at once; priced ones hold the slot while awaiting payment for
    BOOKING_PAYMENT_HOLD_MINUTES. A guest with an active stay at the hotel gets it linked.
    """
    if not actor.is_authenticated or not actor.is_active:
        raise NotFound()
    if actor.phone_verified_at is None:
        raise PhoneNotVerified()
    experience = _bookable_experience(experience_id)
    # A start without an offset is the hotel's wall-clock time.
    start = in_zone(start, experience.hotel.tz)
    policy = selectors.booking_policy(experience)
    candidates = selectors.bookable_staff_ids(policy)
    if staff_id is not None:
        if staff_id not in candidates:
            raise _field_error("staff", _("This staff member does not offer this experience."), "not_bookable")
        candidates = [staff_id]
    if not candidates:
        raise _field_error("experience", _("Nobody offers this experience yet."), "no_staff")

    try:
        created = _create_locked(
            actor=actor, experience=experience, policy=policy, start=start, candidates=candidates, now=now
        )
    except IntegrityError as exc:
        if not _is_exclusion_violation(exc):
            raise
        # The database caught an overlap the check did not see (another writer's commit).
        created = "slot_taken"
    if isinstance(created, BookingCreated):
        return created
    current = timezone.now() if now is None else now
    suggestions = selectors.next_slots(experience=experience, after=start, now=current, staff_id=staff_id)
    if created == "slot_taken":
        raise SlotTaken(next_slots=suggestions, zone=experience.hotel.tz)
    raise SlotTaken(
        next_slots=suggestions,
        zone=experience.hotel.tz,
        code="slot_unavailable",
        detail=_("This time cannot be booked. Please choose one of the offered times."),
    )


def _create_locked(
    *,
    actor: User,
    experience: Experience,
    policy: ExperienceBookingPolicy,
    start: datetime,
    candidates: list[int],
    now: datetime | None,
) -> BookingCreated | str:
    rules = selectors.slot_rules(experience, policy)
    with transaction.atomic():
        # Lock the staff rows in id order (no deadlocks between requests naming different subsets);
        # everything read after this sees every booking committed before we got the locks.
        locked_ids = list(
            HotelMembership.objects.select_for_update(no_key=True)
            .filter(pk__in=candidates, is_active=True, hotel_id=experience.hotel_id)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        current = timezone.now() if now is None else now
        calendars = selectors.staff_calendars(
            locked_ids, start=start, end=start + rules.duration, margin=selectors._margin(rules)
        )
        free = free_slots(
            timezone=experience.hotel.timezone,
            staff=calendars,
            rules=rules,
            start=start,
            end=start + timedelta(seconds=1),
            now=current,
        )
        chosen = next((slot for slot in free if slot.start == start), None)
        if chosen is None:
            # Taken by a booking, or never bookable (outside hours, too soon, not on the grid)?
            # Nothing was written; the suggestions are computed after the locks are released.
            without_bookings = free_slots(
                timezone=experience.hotel.timezone,
                staff=[replace(calendar, busy=()) for calendar in calendars],
                rules=rules,
                start=start,
                end=start + timedelta(seconds=1),
                now=current,
            )
            return "slot_taken" if any(slot.start == start for slot in without_bookings) else "slot_unavailable"

        end = start + rules.duration
        is_free = experience.price_minor == 0
        booking = Booking(
            hotel=experience.hotel,
            experience=experience,
            staff_id=chosen.staff_id,
            customer=actor,
            stay=stay_active(hotel=experience.hotel, guest=actor),
            start=start,
            end=end,
            blocked_start=start - rules.buffer_before,
            blocked_end=end + rules.buffer_after,
            status=BookingStatus.CONFIRMED if is_free else BookingStatus.PENDING_PAYMENT,
            price_minor=experience.price_minor,
            currency=experience.currency,
            hold_expires_at=None if is_free else current + timedelta(minutes=settings.BOOKING_PAYMENT_HOLD_MINUTES),
            confirmed_at=current if is_free else None,
            created_at=current,
            updated_at=current,
        )
        # Constraints hold again in the database; skipping their per-constraint SELECTs keeps the
        # locked section short.
        booking.full_clean(validate_constraints=False)
        booking.save(force_insert=True)
        payment: dict[str, Any] | None = None
        if not is_free:
            payment = _payment_start(booking)
        publish_booking_event(BOOKING_CREATED, booking, {"status": booking.status})
        if is_free:
            publish_booking_event(BOOKING_CONFIRMED, booking, {"status": booking.status})
    return BookingCreated(booking=booking, payment=payment)


def _payment_start(booking: Booking) -> dict[str, Any]:
    from refuje.payments import services as payments

    payment = payments.payment_start(booking=booking)
    return dict(payments.payment_form_data(payment))


# --- The lifecycle --------------------------------------------------------------------------


def _lock(booking_id: int) -> Booking:
    locked = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("hotel", "experience")
        .filter(pk=booking_id)
        .first()
    )
    if locked is None:
        raise NotFound()
    return locked


def _check(locked: Booking, action: str, among: Sequence[str] = STAFF_ACTIONS) -> bool:
    """True when `action` is already applied (a repeat); raises when it is not possible."""
    transition = TRANSITIONS[action]
    if locked.status == transition.target:
        return True
    if locked.status not in transition.sources:
        raise IllegalTransition(action=action, status=locked.status, allowed=allowed_actions(locked.status, among))
    return False


def _set_status(locked: Booking, status: str, now: datetime, fields: Sequence[str] = ()) -> None:
    locked.status = status
    locked.updated_at = now
    locked.save(update_fields=["status", "updated_at", *fields])


def booking_payment_succeeded(*, booking_id: int) -> Booking:
    """Payments: the booking's payment went through. pending_payment → confirmed; a confirmed booking
    stays confirmed; an expired or cancelled one is left alone (payments refunds it)."""
    with transaction.atomic():
        locked = _lock(booking_id)
        if locked.status != BookingStatus.PENDING_PAYMENT:
            return locked
        now = timezone.now()
        locked.confirmed_at = now
        locked.hold_expires_at = None
        _set_status(locked, BookingStatus.CONFIRMED, now, ["confirmed_at", "hold_expires_at"])
        publish_booking_event(BOOKING_CONFIRMED, locked, {"status": locked.status})
    return locked


def booking_payment_failed(*, booking_id: int) -> Booking:
    """Payments: an attempt failed. The hold stays until it expires, so the guest may try again."""
    with transaction.atomic():
        return _lock(booking_id)


def booking_expire(*, booking_id: int, now: datetime | None = None) -> Booking:
    """Release an unpaid hold whose time is up; anything else (paid meanwhile, cancelled) is left."""
    with transaction.atomic():
        locked = _lock(booking_id)
        current = timezone.now() if now is None else now
        if locked.status != BookingStatus.PENDING_PAYMENT or (
            locked.hold_expires_at is not None and locked.hold_expires_at > current
        ):
            return locked
        _set_status(locked, BookingStatus.EXPIRED, current)
        publish_booking_event(BOOKING_EXPIRED, locked, {"status": locked.status})
    return locked


def bookings_release_expired_holds(*, now: datetime | None = None, batch: int = 500) -> list[int]:
    """The hold-release job: expire every unpaid booking whose hold has run out. Idempotent."""
    current = timezone.now() if now is None else now
    released: list[int] = []
    for booking_id in list(selectors.holds_expired(now=current).values_list("pk", flat=True)[:batch]):
        if booking_expire(booking_id=booking_id, now=current).status == BookingStatus.EXPIRED:
            released.append(booking_id)
    return released


def _refund(locked: Booking, *, amount_minor: int, reason: str, actor: User | None) -> None:
    if locked.price_minor == 0:
        return
    from refuje.payments import services as payments

    payments.payment_refund_for_cancellation(booking=locked, amount_minor=amount_minor, reason=reason, actor=actor)


def booking_cancel(
    *, actor: User, booking: Booking, by_staff: bool, reason: str = "", now: datetime | None = None
) -> tuple[Booking, Quote]:
    """Cancel under the experience's policy and refund through payments, in one transaction.

    A guest cannot cancel once the booking has started; staff cancel at any time and refund in full.
    Cancelling twice is a no-op that returns the first cancellation's amounts."""
    text = _clean_reason(reason)
    with transaction.atomic():
        locked = _lock(booking.pk)
        current = timezone.now() if now is None else now
        among = STAFF_ACTIONS if by_staff else (BookingAction.CANCEL,)
        if _check(locked, BookingAction.CANCEL, among):
            return locked, Quote(locked.refund_minor or 0, locked.fee_minor or 0, "already_cancelled")
        quote = cancellation_quote(locked, now=current, by_staff=by_staff)
        if not quote.cancellable:
            raise IllegalTransition(
                action=BookingAction.CANCEL,
                status=locked.status,
                allowed=[],
                detail=_("The booking has started; it can no longer be cancelled."),
                code="booking_started",
            )
        locked.cancelled_at = current
        locked.cancelled_by = actor
        locked.cancelled_by_staff = by_staff
        locked.cancellation_reason = text
        locked.fee_minor = quote.fee_minor
        locked.refund_minor = quote.refund_minor
        locked.hold_expires_at = None
        _set_status(
            locked,
            BookingStatus.CANCELLED,
            current,
            [
                "cancelled_at",
                "cancelled_by",
                "cancelled_by_staff",
                "cancellation_reason",
                "fee_minor",
                "refund_minor",
                "hold_expires_at",
            ],
        )
        _refund(locked, amount_minor=quote.refund_minor, reason=text or quote.reason_code, actor=actor)
        publish_booking_event(
            BOOKING_CANCELLED,
            locked,
            {
                "status": locked.status,
                "by_staff": by_staff,
                "refund_minor": quote.refund_minor,
                "fee_minor": quote.fee_minor,
                "currency": locked.currency,
                "reason_code": quote.reason_code,
            },
        )
    return locked, quote


def _not_started(locked: Booking, action: str) -> IllegalTransition:
    return IllegalTransition(
        action=action,
        status=locked.status,
        allowed=[a for a in allowed_actions(locked.status) if a not in AFTER_START_ACTIONS],
        detail=_("The booking has not started yet."),
        code="not_started",
    )


def booking_complete(*, actor: User, booking: Booking, now: datetime | None = None) -> Booking:
    with transaction.atomic():
        locked = _lock(booking.pk)
        if _check(locked, BookingAction.COMPLETE):
            return locked
        current = timezone.now() if now is None else now
        if current < locked.start:
            raise _not_started(locked, BookingAction.COMPLETE)
        locked.completed_at = current
        _set_status(locked, BookingStatus.COMPLETED, current, ["completed_at"])
        if locked.price_minor > 0:
            from refuje.payments import services as payments

            # Authorise-then-capture payments are charged once the experience has been delivered:
            # after commit, so the gateway call never runs under the booking's row lock. One that
            # fails (the gateway is down) is captured by the reconciliation job.
            transaction.on_commit(
                functools.partial(payments.payment_capture_after_completion, booking_id=locked.pk, actor=actor),
                robust=True,
            )
        publish_booking_event(BOOKING_COMPLETED, locked, {"status": locked.status})
    return locked


def booking_mark_no_show(*, actor: User, booking: Booking, reason: str = "", now: datetime | None = None) -> Booking:
    """The guest did not come: keep the no-show fee, refund the rest of what was paid."""
    text = _clean_reason(reason)
    with transaction.atomic():
        locked = _lock(booking.pk)
        if _check(locked, BookingAction.NO_SHOW):
            return locked
        current = timezone.now() if now is None else now
        if current < locked.start:
            raise _not_started(locked, BookingAction.NO_SHOW)
        quote = quote_no_show(
            paid_minor=paid_minor_of(locked), no_show_fee_percent=policy_of(locked).no_show_fee_percent
        )
        locked.fee_minor = quote.fee_minor
        locked.refund_minor = quote.refund_minor
        locked.cancellation_reason = text
        _set_status(locked, BookingStatus.NO_SHOW, current, ["fee_minor", "refund_minor", "cancellation_reason"])
        # Called even when nothing comes back: an authorised-only payment is then captured for the fee.
        _refund(locked, amount_minor=quote.refund_minor, reason=text or quote.reason_code, actor=actor)
        publish_booking_event(
            BOOKING_NO_SHOW,
            locked,
            {
                "status": locked.status,
                "refund_minor": quote.refund_minor,
                "fee_minor": quote.fee_minor,
                "currency": locked.currency,
            },
        )
    return locked
