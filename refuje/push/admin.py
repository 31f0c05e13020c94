from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import PushSubscription


@admin.register(PushSubscription)
class PushSubscriptionAdmin(admin.ModelAdmin[PushSubscription]):
    list_display = ["user", "short_endpoint", "failures", "disabled_at", "last_used_at", "created_at"]
    list_filter = ["disabled_at"]
    search_fields = ["user__phone_number", "endpoint"]
    raw_id_fields = ["user"]
    readonly_fields = ["endpoint", "p256dh", "auth", "user_agent", "last_error", "last_used_at", "created_at"]

    @admin.display(description=_("endpoint"))
    def short_endpoint(self, obj: PushSubscription) -> str:
        return obj.endpoint[:60]
