from __future__ import annotations

from django.contrib import admin

from refuje.common.admin import ReadOnlyModelAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    # Append-only: nobody adds, edits or deletes audit rows through the admin (retention is a job).
    list_display = ("at", "actor_display", "action", "target_display", "hotel", "ip")
    list_filter = ("action", "hotel")
    list_select_related = ("hotel",)
    search_fields = ("actor_display", "action", "target_display", "target_id", "ip")
    ordering = ("-at", "-id")
    date_hierarchy = "at"
