from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from .models import PushSubscription
from .validation import ENDPOINT_MAX_LENGTH, validate_auth, validate_endpoint, validate_p256dh


def _drf(validator: Callable[[str], str], value: str) -> str:
    try:
        return validator(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages, code=exc.code or "invalid") from exc


class VapidPublicKeySerializer(serializers.Serializer[Any]):
    public_key = serializers.CharField(
        help_text="The VAPID public key, base64url (uncompressed P-256 point): `applicationServerKey`."
    )


class SubscriptionKeysSerializer(serializers.Serializer[Any]):
    p256dh = serializers.CharField(max_length=120, help_text="base64url, a 65-byte uncompressed P-256 point.")
    auth = serializers.CharField(max_length=40, help_text="base64url, 16 bytes.")

    def validate_p256dh(self, value: str) -> str:
        return _drf(validate_p256dh, value)

    def validate_auth(self, value: str) -> str:
        return _drf(validate_auth, value)


class SubscriptionWriteSerializer(serializers.Serializer[Any]):
    """`PushSubscription.toJSON()` as browsers give it (`expirationTime` is accepted and ignored)."""

    endpoint = serializers.CharField(max_length=ENDPOINT_MAX_LENGTH, trim_whitespace=False)
    keys = SubscriptionKeysSerializer()
    expirationTime = serializers.IntegerField(required=False, allow_null=True)  # noqa: N815

    def validate_endpoint(self, value: str) -> str:
        return _drf(validate_endpoint, value)


class SubscriptionDeleteSerializer(serializers.Serializer[Any]):
    endpoint = serializers.CharField(max_length=ENDPOINT_MAX_LENGTH, trim_whitespace=False)


class SubscriptionSerializer(serializers.ModelSerializer[PushSubscription]):
    class Meta:
        model = PushSubscription
        fields = ["id", "endpoint", "user_agent", "created_at", "updated_at", "last_used_at"]
        read_only_fields = fields
