from __future__ import annotations

from typing import Any

from rest_framework import serializers

from refuje.hotels.models import Hotel

from .kinds import KIND_LABELS, MUTABLE_KINDS
from .models import Channel, DeliveryStatus, Notification, NotificationDelivery, NotificationPreference


class DeliverySerializer(serializers.ModelSerializer[NotificationDelivery]):
    channel = serializers.ChoiceField(choices=Channel.choices, read_only=True)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, read_only=True)

    class Meta:
        model = NotificationDelivery
        fields = ("channel", "status")


class NotificationSerializer(serializers.ModelSerializer[Notification]):
    hotel: serializers.SlugRelatedField[Hotel] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    is_read = serializers.SerializerMethodField()
    deliveries = DeliverySerializer(many=True, read_only=True)

    class Meta:
        model = Notification
        fields = (
            "id",
            "kind",
            "hotel",
            "language",
            "title",
            "body",
            "data",
            "target",
            "is_read",
            "read_at",
            "created_at",
            "deliveries",
        )
        read_only_fields = fields

    def get_is_read(self, obj: Notification) -> bool:
        return obj.read_at is not None


class NotificationFilterSerializer(serializers.Serializer[Any]):
    unread = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="true: unread only; false: read only."
    )


class UnreadCountSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField()


class ReadAllSerializer(serializers.Serializer[Any]):
    updated = serializers.IntegerField(help_text="How many notifications were marked read.")


class PreferenceSerializer(serializers.ModelSerializer[NotificationPreference]):
    muted_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=list(MUTABLE_KINDS)),
        help_text="Kinds kept in the app only (no push, WhatsApp, SMS or e-mail).",
    )
    mutable_kinds = serializers.SerializerMethodField()

    class Meta:
        model = NotificationPreference
        fields = ("push", "whatsapp", "sms", "email", "muted_kinds", "mutable_kinds")

    def get_mutable_kinds(self, obj: NotificationPreference) -> list[dict[str, str]]:
        return [{"kind": kind, "label": str(KIND_LABELS.get(kind, kind))} for kind in MUTABLE_KINDS]


class PreferenceUpdateSerializer(serializers.Serializer[Any]):
    push = serializers.BooleanField(required=False)
    whatsapp = serializers.BooleanField(required=False)
    sms = serializers.BooleanField(required=False)
    email = serializers.BooleanField(required=False)
    muted_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=list(MUTABLE_KINDS)), required=False, max_length=len(MUTABLE_KINDS)
    )
