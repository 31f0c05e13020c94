"""The platform operator's view of bookings, schedules and booking policies. Bookings change only
through the booking services (row locks, the overlap re-check, refunds, events), and hotels edit
schedules and policies through the API, which validates them; so everything here is read-only."""

from __future__ import annotations

from django.contrib import admin

from refuje.common.admin import ReadOnlyInline, ReadOnlyModelAdmin
from refuje.payments.models import Payment

from .models import Booking, ExperienceBookingPolicy, StaffScheduleInterval, StaffTimeOff


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ("id", "status", "amount_minor", "currency", "refunded_minor", "moyasar_id", "created_at")
    show_change_link = True


@admin.register(Booking)
class BookingAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "hotel", "experience", "staff", "start", "status", "price_minor", "currency")
    list_filter = ("status", "cancelled_by_staff")
    search_fields = ("hotel__slug", "customer__phone_number", "staff__user__phone_number")
    list_select_related = ("hotel", "experience", "staff__user")
    date_hierarchy = "start"
    inlines = (PaymentInline,)


@admin.register(ExperienceBookingPolicy)
class ExperienceBookingPolicyAdmin(ReadOnlyModelAdmin):
    list_display = (
        "experience",
        "slot_step_minutes",
        "min_notice_minutes",
        "max_advance_days",
        "free_cancellation_hours",
        "late_cancellation_fee_percent",
        "no_show_fee_percent",
    )
    list_select_related = ("experience", "experience__hotel")


@admin.register(StaffScheduleInterval)
class StaffScheduleIntervalAdmin(ReadOnlyModelAdmin):
    list_display = ("membership", "kind", "weekday", "start", "end")
    list_filter = ("kind", "weekday")
    list_select_related = ("membership__user", "membership__hotel")


@admin.register(StaffTimeOff)
class StaffTimeOffAdmin(ReadOnlyModelAdmin):
    list_display = ("membership", "start", "end", "reason")
    list_select_related = ("membership__user", "membership__hotel")
    date_hierarchy = "start"
