"""Money records change only through the payment services (which lock and audit): read-only here."""

from __future__ import annotations

from django.contrib import admin

from refuje.common.admin import ReadOnlyModelAdmin

from .models import LedgerEntry, Payment, Refund, WebhookEvent


@admin.register(Payment)
class PaymentAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "hotel", "booking", "status", "amount_minor", "currency", "refunded_minor", "flagged"]
    list_filter = ["status", "flagged", "provider"]
    search_fields = ["moyasar_id", "given_id"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "payment", "kind", "amount_minor", "status", "created_at"]
    list_filter = ["status", "kind"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "payment", "kind", "amount_minor", "currency", "status_before", "status_after", "source"]
    list_filter = ["kind", "source"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyModelAdmin):
    list_display = ["event_id", "provider", "event_type", "outcome", "received_at", "processed_at"]
    list_filter = ["provider", "outcome"]
    search_fields = ["event_id", "object_id"]
