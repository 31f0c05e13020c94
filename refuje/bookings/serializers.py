"""Input parsers and output shapes of the bookings API. No business rules here: those are services.

Times go out as ISO 8601 in the hotel's time zone, with its offset.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from refuje.concierge.serializers import WindowSerializer
from refuje.hotels.models import HotelMembership

from .cancellation import Quote
from .lifecycle import STAFF_ACTIONS
from .models import (
    MAX_ADVANCE_DAYS,
    MAX_BUFFER_MINUTES,
    MAX_FREE_CANCELLATION_HOURS,
    MAX_NOTICE_MINUTES,
    MAX_REASON_LENGTH,
    MAX_SLOT_STEP_MINUTES,
    Booking,
    BookingStatus,
    ExperienceBookingPolicy,
    StaffTimeOff,
)
from .selectors import Availability, ScheduleView

MAX_ID = 2**63 - 1
MAX_WINDOWS = 100
MAX_STAFF = 200


def _id(help_text: str, *, required: bool = True) -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=required, allow_null=not required, help_text=help_text
    )


@extend_schema_field(OpenApiTypes.DATETIME)
class InstantField(serializers.Field[Any, Any, Any, Any]):
    """An ISO 8601 date-time, or a date. Without an offset (or as a bare date: its midnight) it is
    returned naive, and the caller reads it in the hotel's time zone (see `in_zone`)."""

    default_error_messages = {"invalid": _("Use an ISO 8601 date and time, for example 2026-05-01T09:00:00+03:00.")}

    def to_internal_value(self, data: Any) -> datetime:
        if not isinstance(data, str) or len(data) > 40:
            self.fail("invalid")
        text = data.strip()
        try:
            parsed = parse_datetime(text)
            if parsed is None:
                day = parse_date(text)
                if day is None:
                    self.fail("invalid")
                parsed = datetime(day.year, day.month, day.day)  # noqa: DTZ001 - read in the hotel's zone
        except ValueError:
            self.fail("invalid")
        if parsed.year < 2000 or parsed.year > 2200:
            self.fail("invalid")
        return parsed

    def to_representation(self, value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime | date) else value


@extend_schema_field(OpenApiTypes.DATETIME)
class HotelTimeField(serializers.Field[Any, Any, Any, Any]):
    """An instant of a hotel-owned object, shown in that hotel's time zone."""

    def __init__(self, attribute: str, **kwargs: Any) -> None:
        self.attribute = attribute
        kwargs.setdefault("allow_null", True)
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value: Any) -> Any:
        instant = getattr(value, self.attribute)
        return None if instant is None else instant.astimezone(value.hotel.tz).isoformat()


class BookingMoneySerializer(serializers.Serializer[Any]):
    amount_minor = serializers.IntegerField()
    currency = serializers.CharField()


def money(amount_minor: int, currency: str) -> dict[str, Any]:
    return {"amount_minor": amount_minor, "currency": currency}


def public_name(membership: HotelMembership) -> str:
    """What guests see of a staff member: the first name only (never the phone number)."""
    full_name = (membership.user.full_name or "").strip()
    return full_name.split()[0] if full_name else ""


# --- Booking policy -------------------------------------------------------------------------


def _minutes(maximum: int, help_text: str, minimum: int = 0) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=minimum, max_value=maximum, help_text=help_text)


class BookingPolicyWriteSerializer(serializers.Serializer[Any]):
    """PUT replaces the whole policy."""

    bookable_staff = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        max_length=MAX_STAFF,
        help_text="Membership ids of the active members of this hotel who offer the experience.",
    )
    buffer_before_minutes = _minutes(MAX_BUFFER_MINUTES, "Free time the staff member needs before each booking.")
    buffer_after_minutes = _minutes(MAX_BUFFER_MINUTES, "Free time the staff member needs after each booking.")
    min_notice_minutes = _minutes(MAX_NOTICE_MINUTES, "How long before its start a slot can still be booked.")
    max_advance_days = _minutes(MAX_ADVANCE_DAYS, "How many days ahead slots can be booked.", minimum=1)
    slot_step_minutes = _minutes(MAX_SLOT_STEP_MINUTES, "Minutes between offered start times.", minimum=5)
    free_cancellation_hours = _minutes(
        MAX_FREE_CANCELLATION_HOURS, "A guest cancelling at least this many hours ahead gets everything back."
    )
    late_cancellation_fee_percent = _minutes(100, "Share of the price kept when a guest cancels later.")
    no_show_fee_percent = _minutes(100, "Share of the price kept when the guest does not come.")


class BookingPolicySerializer(serializers.Serializer[ExperienceBookingPolicy]):
    experience = serializers.IntegerField(source="experience_id")
    configured = serializers.SerializerMethodField(help_text="False while the experience runs on the defaults.")
    bookable_staff = serializers.SerializerMethodField()
    buffer_before_minutes = serializers.IntegerField()
    buffer_after_minutes = serializers.IntegerField()
    min_notice_minutes = serializers.IntegerField()
    max_advance_days = serializers.IntegerField()
    slot_step_minutes = serializers.IntegerField()
    free_cancellation_hours = serializers.IntegerField()
    late_cancellation_fee_percent = serializers.IntegerField()
    no_show_fee_percent = serializers.IntegerField()

    def get_configured(self, policy: ExperienceBookingPolicy) -> bool:
        return not policy._state.adding

    def get_bookable_staff(self, policy: ExperienceBookingPolicy) -> list[int]:
        if policy._state.adding:
            return []
        return sorted(policy.bookable_staff.values_list("pk", flat=True))


# --- Schedules ------------------------------------------------------------------------------


class ScheduleWriteSerializer(serializers.Serializer[Any]):
    """PUT replaces the whole weekly schedule; lists left out become empty."""

    work = WindowSerializer(  # type: ignore[call-arg]
        many=True,
        required=False,
        max_length=MAX_WINDOWS,
        help_text="Weekly working hours in the hotel's time zone; an end at or before the start is the next day.",
    )
    breaks = WindowSerializer(  # type: ignore[call-arg]
        many=True, required=False, max_length=MAX_WINDOWS, help_text="Weekly breaks, cut out of the working hours."
    )


class ScheduleSerializer(serializers.Serializer[ScheduleView]):
    member = serializers.IntegerField(source="membership.pk")
    timezone = serializers.CharField(source="membership.hotel.timezone")
    work = WindowSerializer(many=True)
    breaks = WindowSerializer(many=True)


class TimeOffWriteSerializer(serializers.Serializer[Any]):
    start = InstantField(help_text="ISO 8601; without an offset, the hotel's local time.")
    end = InstantField(help_text="ISO 8601; without an offset, the hotel's local time.")
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class TimeOffSerializer(serializers.Serializer[StaffTimeOff]):
    id = serializers.IntegerField()
    member = serializers.IntegerField(source="membership_id")
    start = serializers.SerializerMethodField()
    end = serializers.SerializerMethodField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_start(self, time_off: StaffTimeOff) -> str:
        return time_off.start.astimezone(time_off.membership.hotel.tz).isoformat()

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_end(self, time_off: StaffTimeOff) -> str:
        return time_off.end.astimezone(time_off.membership.hotel.tz).isoformat()


# --- Availability ---------------------------------------------------------------------------


class AvailabilityQuerySerializer(serializers.Serializer[Any]):
    to = InstantField(required=False, help_text="Until (exclusive); default 7 days after `from`.")
    staff = _id("Only this staff member (membership id).", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # "from" is a Python keyword, so this field cannot be declared in the class body.
        self.fields["from"] = InstantField(
            required=False, help_text="From (inclusive); default now. A date means its local midnight."
        )


class CalendarQuerySerializer(AvailabilityQuerySerializer):
    status = serializers.MultipleChoiceField(choices=BookingStatus.choices, required=False)


class BookableStaffSerializer(serializers.Serializer[HotelMembership]):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, membership: HotelMembership) -> str:
        return public_name(membership)


class AvailabilitySlotSerializer(serializers.Serializer[Any]):
    start = serializers.CharField(help_text="ISO 8601 in the hotel's time zone.")
    end = serializers.CharField(help_text="ISO 8601 in the hotel's time zone.")
    staff = serializers.ListField(child=serializers.IntegerField(), help_text="Staff members free at this time.")


class AvailabilitySerializer(serializers.Serializer[Availability]):
    experience = serializers.IntegerField(source="experience.pk")
    timezone = serializers.CharField()
    duration_minutes = serializers.IntegerField(source="experience.duration_minutes")
    staff = BookableStaffSerializer(many=True)
    slots = serializers.SerializerMethodField()

    @extend_schema_field(AvailabilitySlotSerializer(many=True))
    def get_slots(self, found: Availability) -> list[dict[str, Any]]:
        zone = ZoneInfo(found.timezone)
        grouped: dict[int, dict[str, Any]] = {}
        for slot in found.slots:
            entry = grouped.get(slot.start_ts)
            if entry is None:
                start, end = slot.local_iso(zone)
                entry = grouped[slot.start_ts] = {"start": start, "end": end, "staff": []}
            entry["staff"].append(slot.staff_id)
        return list(grouped.values())


class NextSlotSerializer(serializers.Serializer[Any]):
    start = serializers.CharField()
    end = serializers.CharField()
    staff = serializers.IntegerField()


class SlotTakenSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()
    code = serializers.CharField(help_text="`slot_taken` (someone was faster) or `slot_unavailable` (never bookable).")
    next_slots = NextSlotSerializer(many=True)


# --- Bookings -------------------------------------------------------------------------------


class BookingCreateSerializer(serializers.Serializer[Any]):
    experience = _id("The experience to book.")
    start = InstantField(help_text="A slot start from the availability endpoint, with its offset.")
    staff = _id("A staff member (membership id); any free one when left out.", required=False)


class BookingCancelSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=MAX_REASON_LENGTH, required=False, allow_blank=True, default="")


class BookingTransitionSerializer(serializers.Serializer[Any]):
    action = serializers.ChoiceField(choices=[(action, action) for action in STAFF_ACTIONS])
    reason = serializers.CharField(max_length=MAX_REASON_LENGTH, required=False, allow_blank=True, default="")


class BookingIllegalTransitionSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()
    code = serializers.CharField(help_text="`illegal_transition`, `not_started` or `booking_started`")
    status = serializers.ChoiceField(choices=BookingStatus.choices)
    allowed_actions = serializers.ListField(child=serializers.CharField())


class BookingRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class BookingSerializer(serializers.Serializer[Booking]):
    id = serializers.IntegerField()
    hotel = serializers.SerializerMethodField()
    experience = serializers.SerializerMethodField()
    staff = serializers.SerializerMethodField()
    start = HotelTimeField("start")
    end = HotelTimeField("end")
    status = serializers.ChoiceField(choices=BookingStatus.choices)
    price = serializers.SerializerMethodField()
    hold_expires_at = HotelTimeField("hold_expires_at")
    cancelled_at = HotelTimeField("cancelled_at")
    cancellation_reason = serializers.CharField()
    refund = serializers.SerializerMethodField()
    fee = serializers.SerializerMethodField()
    stay = serializers.IntegerField(source="stay_id", allow_null=True)
    created_at = HotelTimeField("created_at")

    @extend_schema_field({"type": "object", "properties": {"slug": {"type": "string"}, "name": {"type": "string"}}})
    def get_hotel(self, booking: Booking) -> dict[str, Any]:
        return {"slug": booking.hotel.slug, "name": booking.hotel.name}

    @extend_schema_field(BookingRefSerializer)
    def get_experience(self, booking: Booking) -> dict[str, Any]:
        return {"id": booking.experience_id, "name": booking.experience.title}

    @extend_schema_field(BookingRefSerializer)
    def get_staff(self, booking: Booking) -> dict[str, Any]:
        return {"id": booking.staff_id, "name": public_name(booking.staff)}

    @extend_schema_field(BookingMoneySerializer)
    def get_price(self, booking: Booking) -> dict[str, Any]:
        return money(booking.price_minor, booking.currency)

    @extend_schema_field(BookingMoneySerializer(allow_null=True))
    def get_refund(self, booking: Booking) -> dict[str, Any] | None:
        return None if booking.refund_minor is None else money(booking.refund_minor, booking.currency)

    @extend_schema_field(BookingMoneySerializer(allow_null=True))
    def get_fee(self, booking: Booking) -> dict[str, Any] | None:
        return None if booking.fee_minor is None else money(booking.fee_minor, booking.currency)


class BookingCreatedSerializer(serializers.Serializer[Any]):
    booking = BookingSerializer()
    payment = serializers.DictField(
        allow_null=True,
        help_text="Awaiting payment: the Moyasar form's data (publishable key, amount, callback URL, metadata). "
        "Null for a free experience, which is confirmed at once.",
    )


class BookingCustomerSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField(source="display_name")
    phone = serializers.CharField(source="phone_number")


class StaffBookingSerializer(BookingSerializer):
    customer = BookingCustomerSerializer()
    cancelled_by_staff = serializers.BooleanField()
    completed_at = HotelTimeField("completed_at")


class QuoteSerializer(serializers.Serializer[Quote]):
    cancellable = serializers.BooleanField()
    reason_code = serializers.CharField(
        help_text="free_cancellation, late_cancellation, nothing_paid, booking_started or not_active"
    )
    paid = serializers.SerializerMethodField()
    refund = serializers.SerializerMethodField()
    fee = serializers.SerializerMethodField()
    free_until = serializers.SerializerMethodField()

    def _currency(self) -> str:
        return str(self.context["booking"].currency)

    @extend_schema_field(BookingMoneySerializer)
    def get_paid(self, quote: Quote) -> dict[str, Any]:
        return money(quote.paid_minor, self._currency())

    @extend_schema_field(BookingMoneySerializer)
    def get_refund(self, quote: Quote) -> dict[str, Any]:
        return money(quote.refund_minor, self._currency())

    @extend_schema_field(BookingMoneySerializer)
    def get_fee(self, quote: Quote) -> dict[str, Any]:
        return money(quote.fee_minor, self._currency())

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_free_until(self, quote: Quote) -> str | None:
        if quote.free_until is None:
            return None
        return quote.free_until.astimezone(self.context["booking"].hotel.tz).isoformat()


class CancelledSerializer(serializers.Serializer[Any]):
    booking = BookingSerializer()
    refund = BookingMoneySerializer()
    fee = BookingMoneySerializer()
