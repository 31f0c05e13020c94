"""Payments of bookings, their refunds, the webhooks that reported them and the money ledger.

Money is integer minor units plus an ISO currency code. A payment's amounts only ever move
through refuje.payments.services, under a row lock, and every movement of money (authorisation,
charge, capture, refund, void) appends exactly one LedgerEntry.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refuje.bookings.models import Booking
from refuje.hotels.models import Hotel


class PaymentStatus(models.TextChoices):
    INITIATED = "initiated", _("Awaiting payment")
    AUTHORIZED = "authorized", _("Authorised")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    REFUNDED = "refunded", _("Refunded")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    VOIDED = "voided", _("Voided")


# Statuses in which the payer's money is held or charged.
HOLDING_STATUSES: tuple[str, ...] = (
    PaymentStatus.AUTHORIZED.value,
    PaymentStatus.PAID.value,
    PaymentStatus.PARTIALLY_REFUNDED.value,
)


class Payment(models.Model):
    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="payments")
    hotel = models.ForeignKey(Hotel, on_delete=models.PROTECT, related_name="payments")
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(_("provider"), max_length=16, default="moyasar")
    # The gateway's id; Moyasar makes it the given_id when the form sends one.
    moyasar_id = models.CharField(_("Moyasar id"), max_length=100, unique=True, null=True, blank=True)
    # Idempotency key of the create call (providers.md: given_id).
    given_id = models.UUIDField(_("idempotency key"), unique=True, default=uuid.uuid4, editable=False)
    amount_minor = models.PositiveIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"), max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.INITIATED
    )
    manual_capture = models.BooleanField(_("authorise, capture later"), default=False)
    authorized_minor = models.PositiveIntegerField(_("authorised (minor units)"), default=0)
    captured_minor = models.PositiveIntegerField(_("captured (minor units)"), default=0)
    refunded_minor = models.PositiveIntegerField(_("refunded (minor units)"), default=0)
    failure_message = models.CharField(_("failure message"), max_length=255, blank=True)
    # Set when the gateway reported something we refuse to act on (wrong amount or currency).
    flagged = models.BooleanField(_("flagged"), default=False)
    flag_reason = models.CharField(_("flag reason"), max_length=255, blank=True)
    raw = models.JSONField(_("last state at the gateway"), default=dict, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=PaymentStatus.values), name="payments_payment_status_valid"),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="payments_payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(captured_minor__lte=F("amount_minor")), name="payments_payment_captured_within_amount"
            ),
            models.CheckConstraint(
                condition=Q(refunded_minor__lte=F("captured_minor")), name="payments_payment_refunded_within_captured"
            ),
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="payments_payment_currency_iso"),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="payments_status_created"),
            models.Index(fields=["hotel", "-created_at"], name="payments_hotel_created"),
        ]

    def __str__(self) -> str:
        return f"payment #{self.pk} {self.status} {self.amount_minor} {self.currency}"

    @property
    def refundable_minor(self) -> int:
        return self.captured_minor - self.refunded_minor


class RefundKind(models.TextChoices):
    REFUND = "refund", _("Refund")
    VOID = "void", _("Void")


class RefundStatus(models.TextChoices):
    # Pending: sent (or about to be) and not yet confirmed by the gateway; its amount is reserved.
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class Refund(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    kind = models.CharField(_("kind"), max_length=8, choices=RefundKind.choices, default=RefundKind.REFUND)
    amount_minor = models.PositiveIntegerField(_("amount (minor units)"))
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(_("status"), max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    # What Moyasar answered: the payment's cumulative refund and its time (refunds have no own id).
    moyasar_reference = models.CharField(_("Moyasar reference"), max_length=200, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="payments_refund_amount_positive"),
            models.CheckConstraint(condition=Q(status__in=RefundStatus.values), name="payments_refund_status_valid"),
            models.CheckConstraint(condition=Q(kind__in=RefundKind.values), name="payments_refund_kind_valid"),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="payments_refund_status"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} of payment {self.payment_id}: {self.amount_minor} {self.status}"


class LedgerKind(models.TextChoices):
    AUTHORIZATION = "authorization", _("Authorisation")
    CHARGE = "charge", _("Charge")
    CAPTURE = "capture", _("Capture")
    REFUND = "refund", _("Refund")
    VOID = "void", _("Void")


class LedgerEntry(models.Model):
    """One row per movement of money, never changed or deleted.

    Authorisation, charge, capture and void happen at most once per payment (a database
    constraint), so a repeated or concurrent report of the same change cannot book it twice.
    """

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="ledger")
    kind = models.CharField(_("kind"), max_length=16, choices=LedgerKind.choices)
    amount_minor = models.PositiveIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    status_before = models.CharField(max_length=20)
    status_after = models.CharField(max_length=20)
    # What reported it: verify, webhook, reconcile, admin, cancellation, …
    source = models.CharField(max_length=32)
    refund = models.ForeignKey(Refund, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=LedgerKind.values), name="payments_ledger_kind_valid"),
            models.UniqueConstraint(
                fields=["payment", "kind"],
                condition=~Q(kind="refund"),
                name="payments_ledger_once_per_payment",
            ),
            models.UniqueConstraint(
                fields=["refund"], condition=Q(refund__isnull=False), name="payments_ledger_once_per_refund"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_minor} {self.currency} (payment {self.payment_id})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("Ledger entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("Ledger entries are append-only.")


class WebhookOutcome(models.TextChoices):
    RECEIVED = "received", _("Received")
    APPLIED = "applied", _("Applied")
    NO_CHANGE = "no_change", _("No change")
    UNKNOWN_PAYMENT = "unknown_payment", _("Unknown payment")
    MISMATCH = "mismatch", _("Amount or currency mismatch")
    IGNORED = "ignored", _("Ignored")
    FETCH_FAILED = "fetch_failed", _("Fetching the payment failed")


class WebhookEvent(models.Model):
    """A provider's event, stored before it is applied; the event id makes repeats harmless."""

    provider = models.CharField(_("provider"), max_length=16)
    event_id = models.CharField(_("event id"), max_length=100)
    event_type = models.CharField(_("event type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=100, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=WebhookOutcome.choices, default=WebhookOutcome.RECEIVED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    payment = models.ForeignKey(Payment, on_delete=models.SET_NULL, null=True, blank=True, related_name="webhooks")

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="payments_webhook_event_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.event_id} ({self.outcome})"
