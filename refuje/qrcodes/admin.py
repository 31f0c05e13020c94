"""The platform operator's view of QR codes: tokens are generated, never typed."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from refuje.common.admin import AuditedModelAdmin

from .models import QRCode


@admin.register(QRCode)
class QRCodeAdmin(AuditedModelAdmin):
    list_display = ("label", "hotel", "target_type", "is_active", "scan_count", "last_scanned_at")
    list_filter = ("is_active", "target_type")
    search_fields = ("label", "room_number", "location_label", "hotel__slug")
    list_select_related = ("hotel",)
    readonly_fields = ("token", "scan_count", "last_scanned_at", "created_at")
    raw_id_fields = ("hotel", "department", "experience")

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False  # a printed code should answer 404 by deactivation, with its history kept
