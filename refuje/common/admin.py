"""Admin-wide pieces: phone-first sign-in, audited and read-only model admins, phone search."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refuje.accounts.models import User
from refuje.accounts.phone import normalize_phone
from refuje.compliance.services import audit_record
from refuje.hotels.models import Hotel

from .jobs import BeatJob, JobHealth, JobState, beat_jobs, job_health_of
from .models import JobHeartbeat, RateLimitCounter

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


class PhoneAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin sign-in takes a phone number in any form people type it, or an e-mail address."""

    def __init__(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        username = self.fields["username"]
        # The model field holds 16 characters of E.164, but "00966 50 123 4567" or an e-mail
        # address is longer before it is normalised.
        username.max_length = 254  # type: ignore[attr-defined]
        username.widget.attrs["maxlength"] = "254"
        username.label = _("Phone number or e-mail")


admin.site.site_header = _("Refuje administration")
admin.site.site_title = _("Refuje admin")
admin.site.index_title = _("Platform administration")
admin.site.login_form = PhoneAdminAuthenticationForm


def search_by_phone(
    queryset: models.QuerySet[Any], results: models.QuerySet[Any], search_term: str, field: str
) -> models.QuerySet[Any]:
    """Add the rows whose phone matches `search_term` typed in any form ("0501234567" finds
    +966501234567); a partial local number ("05012") matches by its digits after the trunk 0."""
    term = search_term.strip()
    if not term:
        return results
    try:
        return results | queryset.filter(**{field: normalize_phone(term)})
    except ValidationError:
        pass
    digits = re.sub(r"[\s\-()]", "", term.translate(_DIGITS))
    if len(digits) >= 4 and digits.isdigit() and digits.startswith("0") and not digits.startswith("00"):
        return results | queryset.filter(**{f"{field}__contains": digits[1:]})
    return results


def _hotel_of(obj: models.Model) -> Hotel | None:
    if isinstance(obj, Hotel):
        return obj
    hotel = getattr(obj, "hotel", None)
    return hotel if isinstance(hotel, Hotel) else None


def _actor(request: HttpRequest) -> User | None:
    user = getattr(request, "user", None)
    return user if isinstance(user, User) else None


class AuditedModelAdmin(admin.ModelAdmin):
    """Every add, change and delete made through the admin also lands in the audit log, in the
    same transaction as the change itself."""

    def _audit(self, request: HttpRequest, obj: models.Model, action: str, message: Any = None) -> None:
        after = {"message": json.loads(json.dumps(message, default=str))} if message else None
        audit_record(
            actor=_actor(request),
            action=action,
            target=obj,
            hotel=_hotel_of(obj),
            ip=request.META.get("REMOTE_ADDR") or None,
            after=after,
        )

    def log_addition(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        self._audit(request, obj, "admin.add", message)
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        self._audit(request, obj, "admin.change", message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: Iterable[models.Model]) -> Any:
        objects = list(queryset)
        for obj in objects:
            self._audit(request, obj, "admin.delete")
        return super().log_deletions(request, objects)  # type: ignore[arg-type]


class ReadOnlyInline(admin.TabularInline):
    """Child rows written only by the system, listed under their parent; `fields` are all read-only."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: models.Model | None = None) -> Any:
        return self.fields or ()

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """Rows written only by the system: the admin shows them and changes nothing."""

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


@admin.register(RateLimitCounter)
class RateLimitCounterAdmin(ReadOnlyModelAdmin):
    list_display = ("key", "window_start", "count")
    search_fields = ("key",)
    ordering = ("-window_start", "key")
    date_hierarchy = "window_start"


JOB_STATE_LABELS = {
    JobState.OK: _("healthy"),
    JobState.RUNNING: _("healthy (running now)"),
    JobState.FAILING: _("failing"),
    JobState.STALE: _("stale"),
    JobState.NEVER_RAN: _("never ran"),
}


@admin.register(JobHeartbeat)
class JobHeartbeatAdmin(ReadOnlyModelAdmin):
    """The periodic jobs' last runs. Healthy or stale is judged against each job's period in
    CELERY_BEAT_SCHEDULE (see refuje.common.jobs)."""

    list_display = (
        "name",
        "health",
        "last_started_at",
        "last_finished_at",
        "last_ok",
        "last_duration_ms",
        "runs",
        "failures",
        "last_error",
    )
    readonly_fields = (
        "name",
        "health",
        "last_started_at",
        "last_finished_at",
        "last_ok",
        "last_error",
        "last_duration_ms",
        "last_result",
        "runs",
        "failures",
    )
    fields = readonly_fields
    search_fields = ("name",)
    ordering = ("name",)

    def _health(self, obj: JobHeartbeat) -> JobHealth:
        jobs = {job.task: job for job in beat_jobs()}
        # A job no longer in the schedule has no period: only its last outcome counts.
        job = jobs.get(obj.name) or BeatJob(entry="", task=obj.name, period_seconds=None)
        return job_health_of(job, obj, now=timezone.now())

    @admin.display(description=_("health"))
    def health(self, obj: JobHeartbeat) -> str:
        return str(JOB_STATE_LABELS[self._health(obj).state])
