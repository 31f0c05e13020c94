"""Operators see notifications and their per-channel delivery state; they are written by services."""

from __future__ import annotations

from django.contrib import admin

from refuje.common.admin import ReadOnlyInline, ReadOnlyModelAdmin

from .models import DailyDigest, Notification, NotificationDelivery


class DeliveryInline(ReadOnlyInline):
    model = NotificationDelivery
    fields = ("channel", "status", "provider", "provider_message_id", "attempts", "error", "sent_at")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "kind", "recipient", "hotel", "language", "read_at", "created_at")
    list_filter = ("kind", "language")
    search_fields = ("recipient__phone_number", "kind")
    list_select_related = ("recipient", "hotel")
    date_hierarchy = "created_at"
    inlines = (DeliveryInline,)


@admin.register(DailyDigest)
class DailyDigestAdmin(ReadOnlyModelAdmin):
    list_display = ("hotel", "local_date", "recipients", "created_at")
    list_select_related = ("hotel",)
