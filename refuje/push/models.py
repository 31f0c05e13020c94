from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .validation import ENDPOINT_MAX_LENGTH


class PushSubscription(models.Model):
    """One browser's push subscription. The endpoint is the browser's own capability URL, so it is
    unique across users: when another user signs in on that browser and subscribes, the row moves."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions", verbose_name=_("user")
    )
    endpoint = models.CharField(_("endpoint"), max_length=ENDPOINT_MAX_LENGTH, unique=True)
    p256dh = models.CharField(_("p256dh key"), max_length=100)
    auth = models.CharField(_("auth secret"), max_length=32)
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)
    # Consecutive failed deliveries; a success resets it. At PUSH_MAX_CONSECUTIVE_FAILURES the
    # subscription is disabled until the browser subscribes again.
    failures = models.PositiveIntegerField(_("consecutive failures"), default=0)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    last_used_at = models.DateTimeField(_("last delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("push subscription")
        verbose_name_plural = _("push subscriptions")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "created_at"], name="push_sub_user_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(endpoint=""), name="push_subscription_endpoint_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.endpoint[:60]}"

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None
