"""The platform operator's view of reviews. Moderation goes through the API (ratings follow in the
same transaction, and it is audited), so reviews are read-only here."""

from __future__ import annotations

from django.contrib import admin

from refuje.common.admin import ReadOnlyModelAdmin

from .models import Review


@admin.register(Review)
class ReviewAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "hotel", "rating", "experience", "booking", "request", "is_hidden", "created_at")
    list_filter = ("is_hidden", "rating")
    search_fields = ("text", "hotel__slug", "author__phone_number")
    list_select_related = ("hotel", "experience")
    date_hierarchy = "created_at"
