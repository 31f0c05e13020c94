"""The platform operator's view of the catalogue. Hotels edit it through the API; removal is
deactivation (bookings, requests and printed codes keep referring to experiences)."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from refuje.common.admin import AuditedModelAdmin

from .models import Experience, ExperienceImage


class ExperienceImageInline(admin.TabularInline):
    model = ExperienceImage
    fields = ("position", "image", "thumbnail", "width", "height", "alt_en", "alt_ar")
    readonly_fields = ("image", "thumbnail", "width", "height")
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False  # uploads go through the image pipeline (API), never raw files


@admin.register(Experience)
class ExperienceAdmin(AuditedModelAdmin):
    list_display = ("title_en", "hotel", "department", "price_minor", "currency", "is_active", "display_order")
    list_filter = ("is_active", "currency")
    search_fields = ("title_en", "title_ar", "hotel__slug")
    list_select_related = ("hotel", "department")
    readonly_fields = ("rating_average", "rating_count", "created_at", "updated_at")
    raw_id_fields = ("hotel", "department")
    inlines = (ExperienceImageInline,)

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False
