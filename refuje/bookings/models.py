"""Bookings of experiences with a hotel's staff, staff schedules and per-experience booking policy.

Double booking is impossible by construction on PostgreSQL: an exclusion constraint forbids two
active (slot-holding) bookings of the same staff membership whose *blocked* ranges overlap. The
blocked range is the booking's own time widened by the buffers in force when it was made, stored on
the row (``blocked_start``/``blocked_end``) because an index expression may only use immutable
functions and ``timestamptz - interval`` is not one. SQLite (the embedded single-process default)
has no exclusion constraints; there the create service's IMMEDIATE transaction serialises writers.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Func, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refuje.experiences.models import Experience
from refuje.hotels.models import Hotel, HotelMembership
from refuje.stays.models import GuestStay

# --- Booking policy per experience -----------------------------------------------------------

MAX_BUFFER_MINUTES = 24 * 60
MAX_NOTICE_MINUTES = 90 * 24 * 60
MAX_ADVANCE_DAYS = 730
MAX_SLOT_STEP_MINUTES = 24 * 60
MAX_FREE_CANCELLATION_HOURS = 90 * 24
MAX_REASON_LENGTH = 500


class ExperienceBookingPolicy(models.Model):
    """How an experience is booked and what cancelling it costs. Absent row = the defaults."""

    experience = models.OneToOneField(
        Experience, on_delete=models.CASCADE, primary_key=True, related_name="booking_policy"
    )
    bookable_staff = models.ManyToManyField(
        HotelMembership, blank=True, related_name="bookable_experience_policies", verbose_name=_("bookable staff")
    )
    buffer_before_minutes = models.PositiveIntegerField(
        _("buffer before (minutes)"), default=0, validators=[MaxValueValidator(MAX_BUFFER_MINUTES)]
    )
    buffer_after_minutes = models.PositiveIntegerField(
        _("buffer after (minutes)"), default=0, validators=[MaxValueValidator(MAX_BUFFER_MINUTES)]
    )
    min_notice_minutes = models.PositiveIntegerField(
        _("minimum notice (minutes)"), default=60, validators=[MaxValueValidator(MAX_NOTICE_MINUTES)]
    )
    max_advance_days = models.PositiveIntegerField(
        _("maximum advance (days)"),
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_ADVANCE_DAYS)],
    )
    slot_step_minutes = models.PositiveIntegerField(
        _("slot step (minutes)"),
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(MAX_SLOT_STEP_MINUTES)],
    )
    free_cancellation_hours = models.PositiveIntegerField(
        _("free cancellation until (hours before)"),
        default=24,
        validators=[MaxValueValidator(MAX_FREE_CANCELLATION_HOURS)],
    )
    late_cancellation_fee_percent = models.PositiveSmallIntegerField(
        _("late cancellation fee (%)"), default=50, validators=[MaxValueValidator(100)]
    )
    no_show_fee_percent = models.PositiveSmallIntegerField(
        _("no-show fee (%)"), default=100, validators=[MaxValueValidator(100)]
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("experience booking policy")
        verbose_name_plural = _("experience booking policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(late_cancellation_fee_percent__gte=0, late_cancellation_fee_percent__lte=100),
                name="bookings_policy_late_fee_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(no_show_fee_percent__gte=0, no_show_fee_percent__lte=100),
                name="bookings_policy_no_show_fee_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(slot_step_minutes__gte=5, slot_step_minutes__lte=MAX_SLOT_STEP_MINUTES),
                name="bookings_policy_slot_step_range",
            ),
            models.CheckConstraint(
                condition=Q(max_advance_days__gte=1, max_advance_days__lte=MAX_ADVANCE_DAYS),
                name="bookings_policy_max_advance_range",
            ),
            models.CheckConstraint(
                condition=Q(
                    buffer_before_minutes__lte=MAX_BUFFER_MINUTES, buffer_after_minutes__lte=MAX_BUFFER_MINUTES
                ),
                name="bookings_policy_buffers_range",
            ),
        ]

    def __str__(self) -> str:
        return f"policy of experience {self.experience_id}"


# --- Staff schedules --------------------------------------------------------------------------


class IntervalKind(models.TextChoices):
    WORK = "work", _("Working hours")
    BREAK = "break", _("Break")


class StaffScheduleInterval(models.Model):
    """A weekly interval of a staff member in the hotel's local time (see availability.py).

    ``end <= start`` crosses midnight; ``end == start`` is a 24-hour interval. Breaks are cut out of
    the working hours that contain them.
    """

    membership = models.ForeignKey(HotelMembership, on_delete=models.CASCADE, related_name="schedule_intervals")
    kind = models.CharField(_("kind"), max_length=5, choices=IntervalKind.choices, default=IntervalKind.WORK)
    weekday = models.PositiveSmallIntegerField(_("weekday"), help_text=_("0 = Monday … 6 = Sunday"))
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"))

    class Meta:
        verbose_name = _("staff schedule interval")
        verbose_name_plural = _("staff schedule intervals")
        ordering = ["membership_id", "kind", "weekday", "start", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="bookings_interval_weekday_valid"),
            models.CheckConstraint(condition=Q(kind__in=IntervalKind.values), name="bookings_interval_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} {self.kind} {self.weekday} {self.start:%H:%M}-{self.end:%H:%M}"


class StaffTimeOff(models.Model):
    """An absolute period a staff member is unavailable (leave, sickness, training)."""

    membership = models.ForeignKey(HotelMembership, on_delete=models.CASCADE, related_name="time_off")
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("staff time off")
        verbose_name_plural = _("staff time off")
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="bookings_time_off_end_after_start"),
        ]
        indexes = [models.Index(fields=["membership", "start", "end"], name="bookings_time_off_member")]

    def __str__(self) -> str:
        return f"{self.membership_id} off {self.start:%Y-%m-%d %H:%M}..{self.end:%Y-%m-%d %H:%M}"


# --- Bookings ---------------------------------------------------------------------------------


class BookingStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("Awaiting payment")
    CONFIRMED = "confirmed", _("Confirmed")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("No-show")
    EXPIRED = "expired", _("Expired")


# The statuses that hold the staff member's time.
ACTIVE_STATUSES: tuple[str, ...] = (BookingStatus.PENDING_PAYMENT.value, BookingStatus.CONFIRMED.value)


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class PostgresExclusionConstraint(ExclusionConstraint):
    """An ExclusionConstraint that is silently absent on databases without them (SQLite).

    On SQLite the create service serialises writers with IMMEDIATE transactions instead.
    """

    def _skip(self, schema_editor: Any) -> bool:
        return bool(schema_editor.connection.vendor != "postgresql")

    def constraint_sql(self, model: Any, schema_editor: Any) -> Any:
        return None if self._skip(schema_editor) else super().constraint_sql(model, schema_editor)

    def create_sql(self, model: Any, schema_editor: Any) -> Any:
        return None if self._skip(schema_editor) else super().create_sql(model, schema_editor)

    def remove_sql(self, model: Any, schema_editor: Any) -> Any:
        return None if self._skip(schema_editor) else super().remove_sql(model, schema_editor)

    def validate(self, model: Any, instance: Any, exclude: Any = None, using: str = "default") -> None:
        # The services check overlaps themselves (and the database enforces it); full_clean on
        # SQLite must not try to evaluate a PostgreSQL range expression.
        from django.db import connections

        if connections[using].vendor == "postgresql":
            super().validate(model, instance, exclude=exclude, using=using)


class Booking(models.Model):
    hotel = models.ForeignKey(Hotel, on_delete=models.CASCADE, related_name="bookings")
    # RESTRICT: an experience or membership in use is deactivated, never deleted; deleting the
    # whole hotel still cascades through them and the bookings together.
    experience = models.ForeignKey(Experience, on_delete=models.RESTRICT, related_name="bookings")
    staff = models.ForeignKey(HotelMembership, on_delete=models.RESTRICT, related_name="bookings")
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings")
    stay = models.ForeignKey(GuestStay, on_delete=models.SET_NULL, null=True, blank=True, related_name="bookings")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    # The time the staff member is blocked: start - buffer before .. end + buffer after.
    blocked_start = models.DateTimeField(_("blocked from"))
    blocked_end = models.DateTimeField(_("blocked until"))
    status = models.CharField(
        _("status"), max_length=16, choices=BookingStatus.choices, default=BookingStatus.PENDING_PAYMENT
    )
    price_minor = models.PositiveIntegerField(_("price (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    hold_expires_at = models.DateTimeField(_("hold expires at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.CharField(_("cancellation reason"), max_length=MAX_REASON_LENGTH, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cancelled_by_staff = models.BooleanField(default=False)
    # What the cancellation (or no-show) kept and what it gave back, in minor units.
    fee_minor = models.PositiveIntegerField(null=True, blank=True)
    refund_minor = models.PositiveIntegerField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=BookingStatus.values), name="bookings_booking_status_valid"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="bookings_booking_end_after_start"),
            models.CheckConstraint(
                condition=Q(blocked_start__lte=F("start"), blocked_end__gte=F("end")),
                name="bookings_booking_blocked_covers_booking",
            ),
            models.CheckConstraint(condition=Q(price_minor__gte=0), name="bookings_booking_price_not_negative"),
            models.CheckConstraint(
                condition=~Q(status=BookingStatus.PENDING_PAYMENT) | Q(hold_expires_at__isnull=False),
                name="bookings_booking_pending_has_hold",
            ),
            PostgresExclusionConstraint(
                name="bookings_booking_no_overlap",
                expressions=[
                    ("staff", RangeOperators.EQUAL),
                    (TsTzRange("blocked_start", "blocked_end"), RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=ACTIVE_STATUSES),
                violation_error_code="slot_taken",
                violation_error_message=_("This time is no longer available."),
            ),
        ]
        indexes = [
            models.Index(fields=["staff", "blocked_start"], name="bookings_staff_blocked"),
            models.Index(fields=["hotel", "start"], name="bookings_hotel_start"),
            models.Index(fields=["customer", "-start"], name="bookings_customer_start"),
            models.Index(
                fields=["hold_expires_at"],
                condition=Q(status=BookingStatus.PENDING_PAYMENT),
                name="bookings_pending_hold",
            ),
        ]

    def __str__(self) -> str:
        return f"booking #{self.pk} {self.status} ({self.hotel_id})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES
