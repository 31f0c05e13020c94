from __future__ import annotations

import uuid
from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .fields import PhoneNumberField
from .managers import UserManager
from .phone import E164_PATTERN


class UserType(models.TextChoices):
    STAFF = "STAFF", _("Staff")
    GUEST = "GUEST", _("Guest")


class Language(models.TextChoices):
    ARABIC = "ar", _("Arabic")
    ENGLISH = "en", _("English")


class User(AbstractBaseUser, PermissionsMixin):
    phone_number = PhoneNumberField(_("phone number"), unique=True)
    # NULL, not "", means no e-mail: the partial unique index only covers real addresses.
    email = models.EmailField(_("email address"), null=True, blank=True)  # noqa: DJ001
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    user_type = models.CharField(_("user type"), max_length=5, choices=UserType.choices, default=UserType.GUEST)
    preferred_language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.ARABIC
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("Django admin access"), default=False)
    phone_verified_at = models.DateTimeField(_("phone verified at"), null=True, blank=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "phone_number"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["phone_number"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(phone_number__regex=E164_PATTERN), name="accounts_user_phone_e164"
            ),
            models.UniqueConstraint(
                Lower("email"), condition=models.Q(email__isnull=False), name="accounts_user_email_unique_ci"
            ),
            models.CheckConstraint(condition=~models.Q(email=""), name="accounts_user_email_not_blank"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.phone_number})" if self.full_name else self.phone_number

    def clean(self) -> None:
        super().clean()
        # A blank email is "no email": NULL keeps the partial unique index meaningful.
        self.email = self.email.strip().lower() if self.email and self.email.strip() else None

    @property
    def display_name(self) -> str:
        return self.full_name or self.phone_number


class OtpPurpose(models.TextChoices):
    AUTH = "auth", _("Sign in")
    VERIFY = "verify", _("Verify phone")


class OtpChannel(models.TextChoices):
    WHATSAPP = "whatsapp", _("WhatsApp")
    SMS = "sms", _("SMS")
    CONSOLE = "console", _("Console")


class OTPCode(models.Model):
    """One code sent to a phone. The code itself is never stored, only a keyed hash of it.

    A row is written before delivery, so every attempt counts for the abuse limits even when the
    provider fails; `sent_at` stays empty until a provider accepted the code, and only sent rows
    can be verified.
    """

    phone_number = models.CharField(max_length=16, db_index=True)
    purpose = models.CharField(max_length=10, choices=OtpPurpose.choices)
    hotel = models.ForeignKey("hotels.Hotel", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=64)
    channel = models.CharField(max_length=10, choices=OtpChannel.choices, blank=True)
    language = models.CharField(max_length=8, blank=True)
    provider_message_id = models.CharField(max_length=100, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    is_used = models.BooleanField(default=False)
    delivery_failed = models.BooleanField(default=False)
    sms_fallback_sent = models.BooleanField(default=False)
    sms_fallback_claimed_at = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    device_fingerprint = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        indexes = [
            models.Index(fields=["phone_number", "purpose", "created_at"]),
            # The durable floor of the abuse limits counts recent rows per IP and per device.
            models.Index(fields=["ip", "created_at"], name="accounts_otp_ip_created"),
            models.Index(fields=["device_fingerprint", "created_at"], name="accounts_otp_device_created"),
        ]

    def __str__(self) -> str:
        from .phone import mask_phone

        return f"{mask_phone(self.phone_number)} {self.purpose} {self.created_at:%Y-%m-%d %H:%M}"


class RefreshTokenFamily(models.Model):
    """All refresh tokens descended from one sign-in. Reuse of a rotated token revokes the family."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="token_families")
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, blank=True)

    def __str__(self) -> str:
        return f"{self.user} {self.id}"
