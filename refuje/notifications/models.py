"""Notifications: the in-app inbox, one delivery row per outside channel, preferences, and the
rows that make the periodic jobs (re-alerts, reminders, digests) happen exactly once."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refuje.hotels.models import Hotel

MAX_TITLE_LENGTH = 200
MAX_BODY_LENGTH = 1000
MAX_ERROR_LENGTH = 500


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In the app")
    PUSH = "push", _("Web push")
    WHATSAPP = "whatsapp", _("WhatsApp")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


# Channels with a delivery row; the in-app item is the notification itself.
OUTSIDE_CHANNELS: tuple[str, ...] = (Channel.PUSH, Channel.WHATSAPP, Channel.SMS, Channel.EMAIL)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class Notification(models.Model):
    """One message to one person, rendered once in their language when it was created."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    hotel = models.ForeignKey(Hotel, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    kind = models.CharField(_("kind"), max_length=64)
    language = models.CharField(_("language"), max_length=8)
    title = models.CharField(_("title"), max_length=MAX_TITLE_LENGTH)
    body = models.CharField(_("body"), max_length=MAX_BODY_LENGTH, blank=True)
    # What the message is about (ids, the rendered values): JSON-safe, shown to its recipient only.
    data = models.JSONField(_("data"), default=dict, blank=True)
    # Where a click on it leads (a path in our app).
    target = models.CharField(_("target"), max_length=300, blank=True)
    # Makes a repeated cause (a retried event, a second job run) land on the same notification.
    dedupe_key = models.CharField(max_length=150, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="notifications_notification_dedupe",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notif_recipient_created"),
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notif_recipient_unread"),
            models.Index(fields=["created_at"], name="notif_created"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}"


class NotificationDelivery(models.Model):
    """The state of one notification on one outside channel (push, WhatsApp, SMS, e-mail).

    A delivery task claims the row with one conditional UPDATE (pending and not freshly claimed),
    so a retried or duplicated task sends it once; provider webhooks move the status forward only.
    """

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    provider = models.CharField(_("provider"), max_length=20, blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=100, blank=True, db_index=True)
    error = models.CharField(_("error"), max_length=MAX_ERROR_LENGTH, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("notification delivery")
        verbose_name_plural = _("notification deliveries")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="notifications_delivery_once_per_channel"),
            models.CheckConstraint(condition=Q(channel__in=OUTSIDE_CHANNELS), name="notifications_delivery_channel"),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="notifications_delivery_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["created_at"], condition=Q(status="pending"), name="notif_delivery_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.notification_id} {self.channel} {self.status}"


class NotificationPreference(models.Model):
    """Which outside channels a person accepts. No row = every channel on, nothing muted."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="notification_preference"
    )
    push = models.BooleanField(_("web push"), default=True)
    whatsapp = models.BooleanField(_("WhatsApp"), default=True)
    sms = models.BooleanField(_("SMS"), default=True)
    email = models.BooleanField(_("e-mail"), default=True)
    # Kinds kept in the app only (no push, WhatsApp, SMS or e-mail); operational alerts can't be muted.
    muted_kinds = models.JSONField(_("muted kinds"), default=list, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"


class RequestRealert(models.Model):
    """How often the staff were re-alerted about a still-NEW request, and when last."""

    request = models.OneToOneField(
        "concierge.ServiceRequest", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    count = models.PositiveSmallIntegerField(default=0)
    last_alert_at = models.DateTimeField()

    class Meta:
        verbose_name = _("request re-alert")
        verbose_name_plural = _("request re-alerts")

    def __str__(self) -> str:
        return f"request {self.request_id}: {self.count} re-alerts"


class JobClaim(models.Model):
    """A one-time effect of a periodic job (a reminder), claimed by inserting its unique key."""

    key = models.CharField(max_length=150, unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("job claim")
        verbose_name_plural = _("job claims")

    def __str__(self) -> str:
        return self.key


class DailyDigest(models.Model):
    """A hotel's daily digest for one local date: the unique key makes it once per hotel and day."""

    hotel = models.ForeignKey(Hotel, on_delete=models.CASCADE, related_name="+")
    local_date = models.DateField(_("local date"))
    summary = models.JSONField(_("summary"), default=dict)
    recipients = models.PositiveIntegerField(_("recipients"), default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("daily digest")
        verbose_name_plural = _("daily digests")
        ordering = ["-local_date", "hotel_id"]
        constraints = [
            models.UniqueConstraint(fields=["hotel", "local_date"], name="notifications_digest_once_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.hotel_id} {self.local_date}"
