"""Input parsers and output shapes of the hotels API. No business rules here: those are services."""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from refuje.accounts.models import User
from refuje.common.api import PhoneField

from .models import Department, Hotel, HotelMembership, Role, validate_timezone

MAX_ID = 2**63 - 1

slug_validator = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
    _("Use lower-case letters, digits and single hyphens, for example grand-riyadh."),
    code="invalid_slug",
)
currency_validator = RegexValidator(r"^[A-Z]{3}$", _("Use a three-letter ISO currency code, for example SAR."))
colour_validator = RegexValidator(r"^#[0-9A-Fa-f]{6}$", _("Use a colour like #0F766E."))


# --- Shared pieces --------------------------------------------------------------------------


class OptionalEmailField(serializers.EmailField):
    """A blank e-mail means "none" (NULL), never an empty string."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("max_length", 254)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str | None:  # type: ignore[override]
        value = super().to_internal_value(data)
        return value.strip().lower() or None


def id_list_field() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), max_length=200, required=False
    )


# --- Hotels ---------------------------------------------------------------------------------


class HotelSerializer(serializers.ModelSerializer[Hotel]):
    name = serializers.CharField(read_only=True)
    my_role = serializers.SerializerMethodField()

    class Meta:
        model = Hotel
        fields = [
            "id",
            "slug",
            "name_ar",
            "name_en",
            "name",
            "timezone",
            "currency",
            "primary_color",
            "logo",
            "contact_phone",
            "contact_email",
            "address_ar",
            "address_en",
            "is_active",
            "created_at",
            "my_role",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=Role.choices, allow_null=True))
    def get_my_role(self, hotel: Hotel) -> str | None:
        return getattr(hotel, "my_role", None)


class InviteeSerializer(serializers.Serializer[Any]):
    phone = PhoneField()
    email = OptionalEmailField()
    full_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")


class HotelWriteSerializer(serializers.Serializer[Any]):
    slug = serializers.CharField(max_length=60, validators=[slug_validator])
    name_ar = serializers.CharField(max_length=150)
    name_en = serializers.CharField(max_length=150)
    timezone = serializers.CharField(max_length=64, default="Asia/Riyadh", validators=[validate_timezone])
    currency = serializers.CharField(max_length=3, default="SAR", validators=[currency_validator])
    primary_color = serializers.CharField(max_length=7, default="#0F766E", validators=[colour_validator])
    contact_phone = PhoneField(required=False, allow_blank=True, default="")
    contact_email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")
    address_ar = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    address_en = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class HotelCreateSerializer(HotelWriteSerializer):
    first_superadmin = InviteeSerializer(
        required=False, help_text="Optionally make this person (by phone) the hotel's first super admin."
    )


class HotelUpdateSerializer(HotelWriteSerializer):
    """PATCH: any subset. `slug` is accepted only unchanged (it is printed on QR codes)."""


# --- Members --------------------------------------------------------------------------------


class MemberUserSerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ["id", "phone_number", "email", "full_name", "user_type"]
        read_only_fields = fields


class MemberSerializer(serializers.ModelSerializer[HotelMembership]):
    user = MemberUserSerializer(read_only=True)
    departments: serializers.PrimaryKeyRelatedField[Department] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )

    class Meta:
        model = HotelMembership
        # The rating comes from published reviews of the member's bookings (kept by the reviews service).
        fields = ["id", "user", "role", "departments", "is_active", "rating_average", "rating_count", "created_at"]
        read_only_fields = fields


class MemberInviteSerializer(InviteeSerializer):
    role = serializers.ChoiceField(choices=Role.choices, default=Role.STAFF)
    departments = id_list_field()


class MemberUpdateSerializer(serializers.Serializer[Any]):
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    departments = id_list_field()
    is_active = serializers.BooleanField(required=False)


class MemberFilterSerializer(serializers.Serializer[Any]):
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    is_active = serializers.BooleanField(required=False)
    department = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    search = serializers.CharField(max_length=100, required=False, allow_blank=True)


# --- Departments ----------------------------------------------------------------------------


class DepartmentSerializer(serializers.ModelSerializer[Department]):
    name = serializers.CharField(read_only=True)

    class Meta:
        model = Department
        fields = ["id", "name_ar", "name_en", "name", "is_active", "display_order", "created_at"]
        read_only_fields = fields


class DepartmentWriteSerializer(serializers.Serializer[Any]):
    name_ar = serializers.CharField(max_length=120)
    name_en = serializers.CharField(max_length=120)
    is_active = serializers.BooleanField(default=True)
    display_order = serializers.IntegerField(min_value=0, max_value=32767, default=0)


class DepartmentFilterSerializer(serializers.Serializer[Any]):
    is_active = serializers.BooleanField(required=False)
