"""Reads of bookings: policies, staff schedules, availability and booking lists."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import BigIntegerField, F, Func, QuerySet

from refuje.accounts.models import User
from refuje.experiences.models import Experience
from refuje.hotels.models import HotelMembership, Role

from .availability import Instant, Slot, SlotRules, StaffCalendar, Window, free_slots
from .models import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    ExperienceBookingPolicy,
    IntervalKind,
    StaffScheduleInterval,
    StaffTimeOff,
)

# --- Policy ---------------------------------------------------------------------------------


def booking_policy(experience: Experience) -> ExperienceBookingPolicy:
    """The experience's policy row, or an unsaved one holding the defaults (reading never writes)."""
    found = ExperienceBookingPolicy.objects.filter(experience=experience).first()
    return found if found is not None else ExperienceBookingPolicy(experience=experience)


def bookable_staff_ids(policy: ExperienceBookingPolicy) -> list[int]:
    """Active memberships of the experience's hotel that may be booked for it, by id."""
    if policy._state.adding:
        return []
    return list(
        policy.bookable_staff.filter(is_active=True, hotel_id=policy.experience.hotel_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def slot_rules(experience: Experience, policy: ExperienceBookingPolicy) -> SlotRules:
    return SlotRules(
        duration=timedelta(minutes=experience.duration_minutes),
        step=timedelta(minutes=policy.slot_step_minutes),
        buffer_before=timedelta(minutes=policy.buffer_before_minutes),
        buffer_after=timedelta(minutes=policy.buffer_after_minutes),
        min_notice=timedelta(minutes=policy.min_notice_minutes),
        max_advance=timedelta(days=policy.max_advance_days),
    )


# --- Schedules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleView:
    membership: HotelMembership
    work: tuple[Window, ...]
    breaks: tuple[Window, ...]


def _window(row: StaffScheduleInterval) -> Window:
    return Window(row.weekday, row.start, row.end)


def staff_schedule(membership: HotelMembership) -> ScheduleView:
    rows = list(StaffScheduleInterval.objects.filter(membership=membership).order_by("weekday", "start", "id"))
    return ScheduleView(
        membership=membership,
        work=tuple(_window(row) for row in rows if row.kind == IntervalKind.WORK),
        breaks=tuple(_window(row) for row in rows if row.kind == IntervalKind.BREAK),
    )


def staff_time_off_list(
    membership: HotelMembership, *, upcoming_from: datetime | None = None
) -> QuerySet[StaffTimeOff]:
    found = StaffTimeOff.objects.filter(membership=membership)
    if upcoming_from is not None:
        found = found.filter(end__gt=upcoming_from)
    return found.order_by("start", "id")


def staff_calendars(
    staff_ids: Sequence[int],
    *,
    start: datetime,
    end: datetime,
    margin: timedelta,
    exclude_booking_id: int | None = None,
) -> list[StaffCalendar]:
    """Everything the calculator needs about `staff_ids` around ``[start, end)``: three queries."""
    if not staff_ids:
        return []
    low, high = start - margin, end + margin
    work: dict[int, list[Window]] = defaultdict(list)
    breaks: dict[int, list[Window]] = defaultdict(list)
    for membership_id, kind, weekday, opens, closes in StaffScheduleInterval.objects.filter(
        membership_id__in=staff_ids
    ).values_list("membership_id", "kind", "weekday", "start", "end"):
        (work if kind == IntervalKind.WORK else breaks)[membership_id].append(Window(weekday, opens, closes))
    time_off: dict[int, list[tuple[Instant, Instant]]] = defaultdict(list)
    for membership_id, off_start, off_end in StaffTimeOff.objects.filter(
        membership_id__in=staff_ids, start__lt=high, end__gt=low
    ).values_list("membership_id", "start", "end"):
        time_off[membership_id].append((off_start, off_end))
    busy: dict[int, list[tuple[Instant, Instant]]] = defaultdict(list)
    bookings = Booking.objects.filter(
        staff_id__in=staff_ids, status__in=ACTIVE_STATUSES, blocked_start__lt=high, blocked_end__gt=low
    )
    if exclude_booking_id is not None:
        bookings = bookings.exclude(pk=exclude_booking_id)
    rows: Iterable[tuple[int, Instant, Instant]]
    if connection.vendor == "postgresql":
        # A month of bookings is thousands of rows: whole epoch seconds load far faster than
        # timestamptz values (the calculator works in epoch seconds anyway).
        rows = bookings.annotate(b0=_epoch("blocked_start"), b1=_epoch("blocked_end")).values_list(
            "staff_id", "b0", "b1"
        )
    else:
        rows = bookings.values_list("staff_id", "blocked_start", "blocked_end")
    for staff_id, blocked_start, blocked_end in rows:
        busy[staff_id].append((blocked_start, blocked_end))
    return [
        StaffCalendar(
            staff_id=staff_id,
            work=tuple(work[staff_id]),
            breaks=tuple(breaks[staff_id]),
            time_off=tuple(time_off[staff_id]),
            busy=tuple(busy[staff_id]),
        )
        for staff_id in staff_ids
    ]


def _epoch(field_name: str) -> Func:
    # Floor, not round: blocked ranges are whole seconds in practice; flooring the start and the
    # end alike keeps every comparison the calculator makes exact for whole-second values.
    return Func(
        F(field_name), template="floor(extract(epoch from %(expressions)s))::bigint", output_field=BigIntegerField()
    )


# --- Availability ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Availability:
    experience: Experience
    timezone: str
    staff: list[HotelMembership]
    slots: list[Slot]


def _margin(rules: SlotRules) -> timedelta:
    # Anything that can touch a slot starting in the range: the appointment, both buffers, and a
    # day either side for intervals that start the day before.
    return rules.duration + rules.buffer_before + rules.buffer_after + timedelta(days=2)


def availability(
    *,
    experience: Experience,
    start: datetime,
    end: datetime,
    now: datetime,
    staff_id: int | None = None,
    policy: ExperienceBookingPolicy | None = None,
    exclude_booking_id: int | None = None,
) -> Availability:
    """Free slots of the experience's bookable staff (or only `staff_id`) starting in ``[start, end)``."""
    policy = policy if policy is not None else booking_policy(experience)
    ids = bookable_staff_ids(policy)
    if staff_id is not None:
        ids = [pk for pk in ids if pk == staff_id]
    rules = slot_rules(experience, policy)
    calendars = staff_calendars(ids, start=start, end=end, margin=_margin(rules), exclude_booking_id=exclude_booking_id)
    slots = free_slots(timezone=experience.hotel.timezone, staff=calendars, rules=rules, start=start, end=end, now=now)
    members = list(HotelMembership.objects.filter(pk__in=ids).select_related("user").order_by("pk"))
    return Availability(experience=experience, timezone=experience.hotel.timezone, staff=members, slots=slots)


def next_slots(
    *, experience: Experience, after: datetime, now: datetime, staff_id: int | None = None, limit: int | None = None
) -> list[Slot]:
    """The first free slots from `after` on (up to the booking window), for a 409's suggestions."""
    limit = settings.BOOKING_NEXT_SLOTS if limit is None else limit
    if limit <= 0:
        return []
    policy = booking_policy(experience)
    horizon = now + timedelta(days=policy.max_advance_days)
    slots: list[Slot] = []
    window_start = max(after, now)
    # Weekly schedules repeat, so two weeks at a time finds the next slots quickly when there are any.
    while window_start < horizon and len(slots) < limit:
        window_end = min(window_start + timedelta(days=14), horizon + timedelta(seconds=1))
        found = availability(
            experience=experience, start=window_start, end=window_end, now=now, staff_id=staff_id, policy=policy
        ).slots
        slots.extend(found[: limit - len(slots)])
        window_start = window_end
    return slots


def public_experience(hotel_slug: str, experience_id: int) -> Experience | None:
    return (
        Experience.objects.select_related("hotel", "department")
        .filter(
            pk=experience_id,
            hotel__slug=hotel_slug,
            hotel__is_active=True,
            is_active=True,
            department__is_active=True,
        )
        .first()
    )


# --- Bookings -------------------------------------------------------------------------------


def bookings_visible_to(membership: HotelMembership) -> QuerySet[Booking]:
    """ADMIN and above see every booking of the hotel; others only the bookings they deliver."""
    bookings = Booking.objects.filter(hotel_id=membership.hotel_id)
    if not membership.has_role(Role.ADMIN):
        bookings = bookings.filter(staff_id=membership.pk) if membership.pk else bookings.none()
    return bookings


def booking_calendar(
    *,
    membership: HotelMembership,
    start: datetime | None = None,
    end: datetime | None = None,
    staff_id: int | None = None,
    statuses: Iterable[str] = (),
) -> QuerySet[Booking]:
    bookings = bookings_visible_to(membership).select_related("experience", "staff__user", "customer", "hotel")
    if start is not None:
        bookings = bookings.filter(end__gt=start)
    if end is not None:
        bookings = bookings.filter(start__lt=end)
    if staff_id is not None:
        bookings = bookings.filter(staff_id=staff_id)
    statuses = list(statuses)
    if statuses:
        bookings = bookings.filter(status__in=statuses)
    return bookings.order_by("start", "id")


def booking_list_for_customer(*, customer: User, status: str | None = None) -> QuerySet[Booking]:
    bookings = Booking.objects.filter(customer=customer).select_related("experience", "hotel", "staff__user")
    if status:
        bookings = bookings.filter(status=status)
    return bookings.order_by("-start", "-id")


def holds_expired(*, now: datetime) -> QuerySet[Booking]:
    return Booking.objects.filter(status=BookingStatus.PENDING_PAYMENT, hold_expires_at__lte=now).order_by(
        "hold_expires_at", "id"
    )
