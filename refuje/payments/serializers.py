from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import Payment, PaymentStatus, Refund, RefundKind, RefundStatus

MAX_AMOUNT_MINOR = 10**9
GATEWAY_ID = RegexValidator(r"^[A-Za-z0-9_-]{1,100}$", _("This is not a payment id."))


def money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount_minor": amount, "currency": currency}


class MoneySerializer(serializers.Serializer[Any]):
    amount_minor = serializers.IntegerField()
    currency = serializers.CharField()


class PaymentSerializer(serializers.Serializer[Payment]):
    id = serializers.IntegerField()
    booking = serializers.IntegerField(source="booking_id")
    status = serializers.ChoiceField(choices=PaymentStatus.choices)
    amount = serializers.SerializerMethodField()
    captured = serializers.SerializerMethodField()
    refunded = serializers.SerializerMethodField()
    manual_capture = serializers.BooleanField()
    flagged = serializers.BooleanField()
    failure_message = serializers.CharField()
    paid_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @staticmethod
    def _money(amount: int, payment: Payment) -> dict[str, Any]:
        return money(amount, payment.currency)

    @extend_schema_field(MoneySerializer)
    def get_amount(self, payment: Payment) -> dict[str, Any]:
        return self._money(payment.amount_minor, payment)

    @extend_schema_field(MoneySerializer)
    def get_captured(self, payment: Payment) -> dict[str, Any]:
        return self._money(payment.captured_minor, payment)

    @extend_schema_field(MoneySerializer)
    def get_refunded(self, payment: Payment) -> dict[str, Any]:
        return self._money(payment.refunded_minor, payment)


class RefundSerializer(serializers.Serializer[Refund]):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=RefundKind.choices)
    status = serializers.ChoiceField(choices=RefundStatus.choices)
    amount = serializers.SerializerMethodField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    payment = PaymentSerializer()

    @extend_schema_field(MoneySerializer)
    def get_amount(self, refund: Refund) -> dict[str, Any]:
        return money(refund.amount_minor, refund.payment.currency)


class VerifyInputSerializer(serializers.Serializer[Any]):
    moyasar_id = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        validators=[GATEWAY_ID],
        help_text="The `id` Moyasar put in the callback URL's query string (optional).",
    )


class CaptureInputSerializer(serializers.Serializer[Any]):
    amount_minor = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_AMOUNT_MINOR, help_text="Omit to capture the whole authorisation."
    )


class RefundInputSerializer(serializers.Serializer[Any]):
    amount_minor = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_AMOUNT_MINOR, help_text="Omit to refund all that is left."
    )
    reason = serializers.CharField(max_length=500)


class VoidInputSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class MoyasarWebhookSerializer(serializers.Serializer[Any]):
    """The event Moyasar POSTs (providers.md: Webhooks). `data` is a payment object."""

    id = serializers.CharField(max_length=100)
    type = serializers.CharField(max_length=64)
    secret_token = serializers.CharField(max_length=500)
    created_at = serializers.CharField(required=False, allow_blank=True, max_length=64)
    account_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    live = serializers.BooleanField(required=False)
    data = serializers.DictField()  # type: ignore[assignment]  # a field, popped by the metaclass

    def validate_data(self, value: dict[str, Any]) -> dict[str, Any]:
        payment_id = value.get("id")
        if not isinstance(payment_id, str) or not payment_id:
            raise serializers.ValidationError(_("The event names no payment."))
        GATEWAY_ID(payment_id)
        if _has_nul(value):
            # PostgreSQL cannot store NUL characters in text or JSON.
            raise serializers.ValidationError(_("Null characters are not allowed."))
        return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


class WebhookResultSerializer(serializers.Serializer[Any]):
    outcome = serializers.CharField()
