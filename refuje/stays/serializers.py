"""Input parsers and output shapes of the stays API. No business rules here: those are services."""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from refuje.accounts.models import User
from refuje.common.api import PhoneField
from refuje.hotels.models import Hotel
from refuje.qrcodes.models import TOKEN_MAX_LENGTH

from .models import MAX_SELF_CHECK_IN_NIGHTS, ROOM_MAX_LENGTH, GuestStay, HotelConciergeSettings, StayStatus

room_validator = RegexValidator(
    r"^\w[\w .\-/#]*$",
    _("Use letters, digits, spaces and - . / # only, for example 1204 or Villa 3."),
    code="invalid_room",
)


def room_field(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(max_length=ROOM_MAX_LENGTH, validators=[room_validator], **kwargs)


# --- Output ---------------------------------------------------------------------------------


class StayGuestSerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ["id", "phone_number", "full_name"]
        read_only_fields = fields


class GuestStaySerializer(serializers.ModelSerializer[GuestStay]):
    """A stay as the front desk sees it."""

    hotel = serializers.SlugRelatedField[GuestStay](slug_field="slug", read_only=True)
    guest = StayGuestSerializer(read_only=True)

    class Meta:
        model = GuestStay
        fields = [
            "id",
            "hotel",
            "guest",
            "room",
            "check_in",
            "check_out",
            "status",
            "source",
            "created_at",
            "updated_at",
            "ended_at",
        ]
        read_only_fields = fields


class StayHotelSerializer(serializers.ModelSerializer[Hotel]):
    name = serializers.CharField(read_only=True)

    class Meta:
        model = Hotel
        fields = ["slug", "name", "name_ar", "name_en", "timezone"]
        read_only_fields = fields


class OwnStaySerializer(serializers.ModelSerializer[GuestStay]):
    """A stay as its guest sees it (also the `stay` of a guest's sign-in answer)."""

    hotel = StayHotelSerializer(read_only=True)

    class Meta:
        model = GuestStay
        fields = ["id", "hotel", "room", "check_in", "check_out", "status"]
        read_only_fields = fields


class HotelConciergeSettingsSerializer(serializers.ModelSerializer[HotelConciergeSettings]):
    class Meta:
        model = HotelConciergeSettings
        fields = ["self_check_in_enabled", "self_check_in_nights", "updated_at"]
        read_only_fields = fields


class SelfCheckInResultSerializer(serializers.Serializer[Any]):
    created = serializers.BooleanField(help_text="False when an active stay at this hotel existed already.")
    stay = OwnStaySerializer()


# --- Input ----------------------------------------------------------------------------------


class StayDatesMixin(serializers.Serializer[Any]):
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check_in, check_out = attrs.get("check_in"), attrs.get("check_out")
        if check_in is not None and check_out is not None and check_out < check_in:
            raise serializers.ValidationError(
                {"check_out": _("The check-out date cannot be before the check-in date.")}
            )
        return attrs


class StayRegisterSerializer(StayDatesMixin):
    phone = PhoneField(help_text="The guest's phone in any common notation; the account is created if new.")
    full_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    room = room_field()
    check_in = serializers.DateField(help_text="The hotel's local date.")
    check_out = serializers.DateField(help_text="The hotel's local date; not before check-in.")


class StayUpdateSerializer(StayDatesMixin):
    room = room_field(required=False)
    check_in = serializers.DateField(required=False)
    check_out = serializers.DateField(required=False)
    status = serializers.ChoiceField(
        choices=[
            (StayStatus.CHECKED_OUT, StayStatus.CHECKED_OUT.label),
            (StayStatus.CANCELLED, StayStatus.CANCELLED.label),
        ],
        required=False,
        help_text="End the stay: check out, or cancel a registration made in error.",
    )


class StayFilterSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=StayStatus.choices, required=False)
    room = serializers.CharField(max_length=ROOM_MAX_LENGTH, required=False, allow_blank=True)
    search = serializers.CharField(max_length=100, required=False, allow_blank=True)


class CurrentStayQuerySerializer(serializers.Serializer[Any]):
    hotel = serializers.CharField(max_length=60, help_text="Hotel slug.")


class SelfCheckInSerializer(serializers.Serializer[Any]):
    qr_token = serializers.CharField(max_length=TOKEN_MAX_LENGTH, help_text="The token of the room's QR code.")


class HotelConciergeSettingsUpdateSerializer(serializers.Serializer[Any]):
    self_check_in_enabled = serializers.BooleanField(required=False)
    self_check_in_nights = serializers.IntegerField(min_value=1, max_value=MAX_SELF_CHECK_IN_NIGHTS, required=False)
