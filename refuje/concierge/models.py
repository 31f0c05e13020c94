from __future__ import annotations

from typing import Any, ClassVar, NoReturn

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refuje.experiences.models import Experience
from refuje.hotels.models import Department, Hotel, HotelMembership
from refuje.stays.models import GuestStay

DEFAULT_SLA_MINUTES = 15
DEFAULT_AFTER_HOURS_SLA_MINUTES = 60
DEFAULT_REMINDER_INTERVAL_MINUTES = 30
MAX_SLA_MINUTES = 7 * 24 * 60
MAX_DESCRIPTION_LENGTH = 2000
MAX_REASON_LENGTH = 500
MAX_NOTE_LENGTH = 2000
ESCALATION_LEVELS = (1, 2)
MAX_ESCALATION_LEVEL = max(ESCALATION_LEVELS)


# --- Department hours and service policy ----------------------------------------------------


class DepartmentPolicy(models.Model):
    """A department's response times and escalation contacts. Departments without a row use the
    defaults below (and, without working windows, count as open around the clock)."""

    # Part of the department's own settings: deleting an otherwise unused department deletes it too.
    DELETED_WITH_DEPARTMENT: ClassVar[bool] = True

    department = models.OneToOneField(Department, on_delete=models.CASCADE, primary_key=True, related_name="policy")
    sla_minutes = models.PositiveIntegerField(
        _("response time (minutes)"),
        default=DEFAULT_SLA_MINUTES,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SLA_MINUTES)],
    )
    after_hours_sla_minutes = models.PositiveIntegerField(
        _("after-hours response time (minutes)"),
        default=DEFAULT_AFTER_HOURS_SLA_MINUTES,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SLA_MINUTES)],
    )
    reminder_interval_minutes = models.PositiveIntegerField(
        _("reminder interval (minutes)"),
        default=DEFAULT_REMINDER_INTERVAL_MINUTES,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SLA_MINUTES)],
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("department service policy")
        verbose_name_plural = _("department service policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(sla_minutes__gte=1, sla_minutes__lte=MAX_SLA_MINUTES)
                & Q(after_hours_sla_minutes__gte=1, after_hours_sla_minutes__lte=MAX_SLA_MINUTES)
                & Q(reminder_interval_minutes__gte=1, reminder_interval_minutes__lte=MAX_SLA_MINUTES),
                name="concierge_policy_minutes_range",
            ),
        ]

    def __str__(self) -> str:
        return f"policy of department {self.department_id}"


class EscalationContact(models.Model):
    """Who hears about an unanswered request at each escalation level of a department."""

    policy = models.ForeignKey(DepartmentPolicy, on_delete=models.CASCADE, related_name="escalation_contacts")
    membership = models.ForeignKey(HotelMembership, on_delete=models.CASCADE, related_name="escalation_duties")
    level = models.PositiveSmallIntegerField(_("escalation level"))

    class Meta:
        verbose_name = _("escalation contact")
        verbose_name_plural = _("escalation contacts")
        ordering = ["level", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "membership", "level"], name="concierge_escalation_contact_unique"
            ),
            models.CheckConstraint(condition=Q(level__in=ESCALATION_LEVELS), name="concierge_escalation_level_valid"),
        ]

    def __str__(self) -> str:
        return f"level {self.level}: membership {self.membership_id}"


class WorkingWindow(models.Model):
    """A weekly opening in the hotel's local time; `end <= start` crosses midnight (see hours.py)."""

    DELETED_WITH_DEPARTMENT: ClassVar[bool] = True

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="working_windows")
    weekday = models.PositiveSmallIntegerField(_("weekday"), help_text=_("0 = Monday … 6 = Sunday"))
    start = models.TimeField(_("opens"))
    end = models.TimeField(_("closes"))

    class Meta:
        verbose_name = _("working window")
        verbose_name_plural = _("working windows")
        ordering = ["weekday", "start", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="concierge_window_weekday_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.start:%H:%M}-{self.end:%H:%M}"


class HoursOverride(models.Model):
    """Dates with other hours (holidays, Ramadan): closed, or their own windows.

    `windows` is a list of {"weekday", "start", "end"} with times as "HH:MM[:SS]" — a value owned
    by its override, never queried on its own, so it lives in the row.
    """

    DELETED_WITH_DEPARTMENT: ClassVar[bool] = True

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="hours_overrides")
    start_date = models.DateField(_("first date"))
    end_date = models.DateField(_("last date"))
    closed = models.BooleanField(_("closed"), default=False)
    windows = models.JSONField(_("working windows"), default=list, blank=True)
    label = models.CharField(_("label"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("hours override")
        verbose_name_plural = _("hours overrides")
        ordering = ["start_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="concierge_override_dates_order"),
            models.CheckConstraint(
                condition=Q(closed=False) | Q(windows=[]), name="concierge_override_closed_has_no_windows"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start_date}..{self.end_date}"


# --- Service requests -----------------------------------------------------------------------


class RequestStatus(models.TextChoices):
    NEW = "NEW", _("New")
    ACKNOWLEDGED = "ACKNOWLEDGED", _("Acknowledged")
    CONFIRMED = "CONFIRMED", _("Confirmed")
    IN_PROGRESS = "IN_PROGRESS", _("In progress")
    COMPLETED = "COMPLETED", _("Completed")
    DECLINED = "DECLINED", _("Declined")
    CANCELLED = "CANCELLED", _("Cancelled")
    EXPIRED = "EXPIRED", _("Expired")


class RequestPriority(models.TextChoices):
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class CreatedVia(models.TextChoices):
    GUEST = "guest", _("Guest")
    STAFF = "staff", _("Staff")


class RequestAction(models.TextChoices):
    """What a RequestActivity records: the request's creation, a lifecycle action, or a note."""

    CREATE = "create", _("Created")
    ACKNOWLEDGE = "acknowledge", _("Acknowledged")
    CONFIRM = "confirm", _("Confirmed")
    DECLINE = "decline", _("Declined")
    START = "start", _("Started")
    COMPLETE = "complete", _("Completed")
    CANCEL = "cancel", _("Cancelled")
    EXPIRE = "expire", _("Expired")
    NOTE = "note", _("Note")
    # Raised escalation level of an unanswered request; not a status change (see escalation.py).
    ESCALATE = "escalate", _("Escalated")


class ServiceRequest(models.Model):
    """Something a guest asked for. Status changes only through the services' transition table."""

    hotel = models.ForeignKey(Hotel, on_delete=models.CASCADE, related_name="service_requests")
    stay = models.ForeignKey(GuestStay, on_delete=models.CASCADE, related_name="requests")
    # RESTRICT: a department or experience in use is deactivated, never deleted; deleting the whole
    # hotel still cascades through them and the requests together.
    department = models.ForeignKey(Department, on_delete=models.RESTRICT, related_name="service_requests")
    experience = models.ForeignKey(
        Experience, on_delete=models.RESTRICT, null=True, blank=True, related_name="service_requests"
    )
    description = models.CharField(_("description"), max_length=MAX_DESCRIPTION_LENGTH)
    # Storage names written by refuje.common.images; URLs are rendered fresh from the storage.
    photo = models.ImageField(_("photo"), max_length=255, blank=True)
    photo_thumbnail = models.ImageField(_("photo thumbnail"), max_length=255, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=RequestStatus.choices, default=RequestStatus.NEW)
    priority = models.CharField(
        _("priority"), max_length=6, choices=RequestPriority.choices, default=RequestPriority.NORMAL
    )
    after_hours = models.BooleanField(_("created after hours"), default=False)
    response_due_at = models.DateTimeField(_("response due at"))
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmation_reason = models.CharField(max_length=MAX_REASON_LENGTH, blank=True)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    declined_reason = models.CharField(max_length=MAX_REASON_LENGTH, blank=True)
    cancellation_reason = models.CharField(max_length=MAX_REASON_LENGTH, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the request reached a final status, whichever it was.")
    )
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_via = models.CharField(_("created via"), max_length=5, choices=CreatedVia.choices)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=RequestStatus.values), name="concierge_request_status_valid"),
            models.CheckConstraint(
                condition=Q(priority__in=RequestPriority.values), name="concierge_request_priority_valid"
            ),
            models.CheckConstraint(
                condition=Q(created_via__in=CreatedVia.values), name="concierge_request_created_via_valid"
            ),
            models.CheckConstraint(
                condition=Q(escalation_level__gte=0, escalation_level__lte=MAX_ESCALATION_LEVEL),
                name="concierge_request_escalation_level_range",
            ),
            models.CheckConstraint(condition=~Q(description=""), name="concierge_request_description_not_blank"),
            models.CheckConstraint(
                condition=~Q(status=RequestStatus.DECLINED) | ~Q(declined_reason=""),
                name="concierge_request_declined_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(response_due_at__gte=F("created_at")), name="concierge_request_due_after_creation"
            ),
        ]
        indexes = [
            models.Index(fields=["hotel", "-created_at"], name="concierge_req_hotel_created"),
            models.Index(fields=["hotel", "status", "department"], name="concierge_req_hotel_status_dep"),
            models.Index(fields=["stay", "-created_at"], name="concierge_req_stay_created"),
            # The escalation job's sweep: unanswered requests by deadline.
            models.Index(
                fields=["response_due_at"], condition=Q(status=RequestStatus.NEW), name="concierge_req_new_due"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.status} ({self.hotel_id})"

    def clean(self) -> None:
        # The database cannot compare across tables; the create service runs this before saving.
        errors: dict[str, str] = {}
        if self.stay_id and self.stay.hotel_id != self.hotel_id:
            errors["stay"] = str(_("This stay is not at this hotel."))
        if self.department_id and self.department.hotel_id != self.hotel_id:
            errors["department"] = str(_("This department is not part of this hotel."))
        if self.experience_id and self.experience is not None and self.experience.hotel_id != self.hotel_id:
            errors["experience"] = str(_("This experience is not part of this hotel."))
        if errors:
            raise ValidationError(errors)


class AppendOnlyError(RuntimeError):
    pass


class AppendOnlyQuerySet(models.QuerySet["RequestActivity"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Request activities are append-only.")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("Request activities are append-only.")


class RequestActivity(models.Model):
    """One entry of a request's history: its creation, each status change, each note.

    Append-only: the source of truth for timelines and for replaying missed live events by id.
    Saving an existing row, deleting a row and queryset update()/delete() all raise. Only the
    cascade of deleting a whole hotel, stay or account (erasure) removes rows: Django's collector
    deletes them in bulk without calling these methods. No database trigger: every write path
    goes through the ORM, and the cascade has to stay possible.
    """

    # Denormalised from the request so a hotel's live stream can be replayed with one index scan.
    hotel = models.ForeignKey(Hotel, on_delete=models.CASCADE, related_name="+")
    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="activities")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(_("action"), max_length=12, choices=RequestAction.choices)
    from_status = models.CharField(_("from status"), max_length=12, choices=RequestStatus.choices, blank=True)
    to_status = models.CharField(_("to status"), max_length=12, choices=RequestStatus.choices, blank=True)
    note = models.CharField(_("note"), max_length=MAX_NOTE_LENGTH, blank=True)
    is_internal = models.BooleanField(_("staff only"), default=False)
    at = models.DateTimeField(default=timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("request activity")
        verbose_name_plural = _("request activities")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=RequestAction.values), name="concierge_activity_action_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["request", "id"], name="concierge_activity_request_id"),
            models.Index(fields=["hotel", "id"], name="concierge_activity_hotel_id"),
        ]

    def __str__(self) -> str:
        return f"#{self.request_id} {self.action} {self.from_status}->{self.to_status}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Request activities are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Request activities are append-only.")


# --- Jobs -----------------------------------------------------------------------------------


class EscalationHeartbeat(models.Model):
    """The escalation job's last run, a single row: admin and readiness show whether it is alive."""

    SINGLETON_ID: ClassVar[int] = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    last_run_at = models.DateTimeField(_("last run"))
    last_duration_ms = models.PositiveIntegerField(_("last duration (ms)"), default=0)
    escalated_count = models.PositiveIntegerField(_("requests escalated in the last run"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("escalation heartbeat")
        verbose_name_plural = _("escalation heartbeat")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="concierge_escalation_heartbeat_singleton"),
        ]

    def __str__(self) -> str:
        return f"escalation ran at {self.last_run_at:%Y-%m-%d %H:%M:%S}"
