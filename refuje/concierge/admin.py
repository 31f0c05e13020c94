"""The platform operator's view of requests and service policies. Requests move only through the
lifecycle services (transition table, activity log, events), so they are read-only here; hotels
edit policies through the API, which validates the hours."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from refuje.common.admin import ReadOnlyInline, ReadOnlyModelAdmin

from .health_selectors import EscalationState, escalation_health
from .models import DepartmentPolicy, EscalationContact, EscalationHeartbeat, RequestActivity, ServiceRequest


class RequestActivityInline(ReadOnlyInline):
    model = RequestActivity
    fields = ("at", "action", "from_status", "to_status", "actor", "note", "is_internal")


@admin.register(ServiceRequest)
class ServiceRequestAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "hotel", "department", "status", "priority", "after_hours", "response_due_at", "created_at")
    list_filter = ("status", "priority", "after_hours", "created_via")
    search_fields = ("description", "hotel__slug", "stay__room", "stay__guest__phone_number")
    list_select_related = ("hotel", "department")
    date_hierarchy = "created_at"
    inlines = (RequestActivityInline,)


class EscalationContactInline(ReadOnlyInline):
    model = EscalationContact
    fields = ("level", "membership")


@admin.register(DepartmentPolicy)
class DepartmentPolicyAdmin(ReadOnlyModelAdmin):
    list_display = ("department", "sla_minutes", "after_hours_sla_minutes", "reminder_interval_minutes", "updated_at")
    list_select_related = ("department", "department__hotel")
    inlines = (EscalationContactInline,)


ESCALATION_STATE_LABELS = {
    EscalationState.OK: _("healthy"),
    EscalationState.FAILING: _("failing"),
    EscalationState.STALE: _("stale"),
    EscalationState.NEVER_RAN: _("never ran"),
}


@admin.register(EscalationHeartbeat)
class EscalationHeartbeatAdmin(ReadOnlyModelAdmin):
    """Whether the escalation job is alive: stale past ESCALATION_HEARTBEAT_MAX_AGE_SECONDS,
    failing when its last run raised (the same rule as /readyz)."""

    list_display = ("__str__", "health", "last_run_at", "last_duration_ms", "escalated_count", "last_error")
    readonly_fields = ("health", "last_run_at", "last_duration_ms", "escalated_count", "last_error")
    fields = readonly_fields

    @admin.display(description=_("health"))
    def health(self, obj: EscalationHeartbeat) -> str:
        return str(ESCALATION_STATE_LABELS[escalation_health(heartbeat=obj).state])
