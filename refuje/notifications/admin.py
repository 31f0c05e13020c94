"""Operators see notifications and their per-channel delivery state; they are written by services."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from refuje.common.admin import ReadOnlyModelAdmin

from .models import DailyDigest, Notification, NotificationDelivery


class DeliveryInline(admin.TabularInline):
    model = NotificationDelivery
    fields = ("channel", "status", "provider", "provider_message_id", "attempts", "error", "sent_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


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
