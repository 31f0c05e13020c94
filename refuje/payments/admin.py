from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import LedgerEntry, Payment, Refund, WebhookEvent


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Money records change only through the payment services (which audit and lock)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["id", "hotel", "booking", "status", "amount_minor", "currency", "refunded_minor", "flagged"]
    list_filter = ["status", "flagged", "provider"]
    search_fields = ["moyasar_id", "given_id"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["id", "payment", "kind", "amount_minor", "status", "created_at"]
    list_filter = ["status", "kind"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "payment", "kind", "amount_minor", "currency", "status_before", "status_after", "source"]
    list_filter = ["kind", "source"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "provider", "event_type", "outcome", "received_at", "processed_at"]
    list_filter = ["provider", "outcome"]
    search_fields = ["event_id", "object_id"]
