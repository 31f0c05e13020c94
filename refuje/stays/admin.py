"""The platform operator's view of stays. They change through the API's services, which keep the
one-active-stay rule and the audit trail, so rows are read-only here."""

from __future__ import annotations

from django.contrib import admin

from refuje.common.admin import AuditedModelAdmin, ReadOnlyModelAdmin

from .models import GuestStay, HotelConciergeSettings


@admin.register(GuestStay)
class GuestStayAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "hotel", "room", "guest", "check_in", "check_out", "status", "source")
    list_filter = ("status", "source")
    search_fields = ("room", "guest__phone_number", "guest__full_name", "hotel__slug")
    list_select_related = ("hotel", "guest")


@admin.register(HotelConciergeSettings)
class HotelConciergeSettingsAdmin(AuditedModelAdmin):
    list_display = ("hotel", "self_check_in_enabled", "self_check_in_nights", "updated_at")
