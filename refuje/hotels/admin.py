"""Admin for hotels, departments and memberships (the platform operator's view of tenancy)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from refuje.common.admin import AuditedModelAdmin, search_by_phone

from .models import Department, Hotel, HotelMembership, Role


class DepartmentInline(admin.TabularInline):
    model = Department
    fields = ("name_en", "name_ar", "display_order", "is_active")
    extra = 0


@admin.register(Hotel)
class HotelAdmin(AuditedModelAdmin):
    list_display = ("slug", "name_en", "name_ar", "timezone", "currency", "is_active")
    list_filter = ("is_active", "currency")
    search_fields = ("slug", "name_en", "name_ar")
    ordering = ("slug",)
    prepopulated_fields = {"slug": ("name_en",)}
    readonly_fields = ("created_at",)
    fieldsets = (
        (None, {"fields": ("slug", "name_en", "name_ar", "is_active")}),
        (_("Locale"), {"fields": ("timezone", "currency")}),
        (_("Branding"), {"fields": ("primary_color", "logo")}),
        (_("Contact"), {"fields": ("contact_phone", "contact_email", "address_en", "address_ar")}),
        (_("Record"), {"fields": ("created_at",)}),
    )
    inlines = (DepartmentInline,)


@admin.register(Department)
class DepartmentAdmin(AuditedModelAdmin):
    list_display = ("name_en", "name_ar", "hotel", "display_order", "is_active")
    list_filter = ("hotel", "is_active")
    list_select_related = ("hotel",)
    search_fields = ("name_en", "name_ar", "hotel__slug")
    autocomplete_fields = ("hotel",)
    readonly_fields = ("created_at",)
    ordering = ("hotel__slug", "display_order", "id")


def _is_last_superadmin(membership: HotelMembership) -> bool:
    if membership.pk is None or membership.role != Role.SUPERADMIN or not membership.is_active:
        return False
    others = HotelMembership.objects.filter(hotel_id=membership.hotel_id, role=Role.SUPERADMIN, is_active=True)
    return not others.exclude(pk=membership.pk).exists()


class MembershipForm(forms.ModelForm):
    class Meta:
        model = HotelMembership
        fields = ("user", "hotel", "role", "departments", "is_active")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        hotel = cleaned.get("hotel")
        departments = cleaned.get("departments") or []
        foreign = [department for department in departments if hotel is not None and department.hotel_id != hotel.pk]
        if foreign:
            self.add_error(
                "departments",
                ValidationError(
                    _("These departments belong to another hotel: %(names)s."),
                    params={"names": ", ".join(str(department) for department in foreign)},
                    code="department_of_other_hotel",
                ),
            )
        # The same rule as the members API: a hotel never loses its last super-admin.
        original = HotelMembership.objects.filter(pk=self.instance.pk).first() if self.instance.pk else None
        stays_superadmin = cleaned.get("role") == Role.SUPERADMIN and cleaned.get("is_active")
        if original is not None and _is_last_superadmin(original) and not stays_superadmin:
            raise ValidationError(
                _("This is the hotel's last active super-admin; make someone else super-admin first."),
                code="last_superadmin",
            )
        return cleaned


@admin.register(HotelMembership)
class HotelMembershipAdmin(AuditedModelAdmin):
    form = MembershipForm
    list_display = ("user", "hotel", "role", "is_active", "created_at")
    list_filter = ("hotel", "role", "is_active")
    list_select_related = ("user", "hotel")
    search_fields = ("user__phone_number", "user__full_name", "user__email", "hotel__slug")
    autocomplete_fields = ("user", "hotel")
    filter_horizontal = ("departments",)
    readonly_fields = ("created_at",)
    ordering = ("hotel__slug", "role", "id")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[HotelMembership], search_term: str
    ) -> tuple[QuerySet[HotelMembership], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return search_by_phone(queryset, results, search_term, "user__phone_number"), may_have_duplicates

    def has_delete_permission(self, request: HttpRequest, obj: HotelMembership | None = None) -> bool:
        if obj is not None and _is_last_superadmin(obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # Bulk delete cannot check the last-super-admin rule row by row, so it is not offered.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions
