"""Input parsers and output shapes of the experiences API. No business rules here: those are services."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from refuje.common.images import ImageUploadField
from refuje.hotels.models import Department

from .models import CURRENCY_PATTERN, Experience, ExperienceImage

MAX_ID = 2**63 - 1
MAX_PRICE_MINOR = 2**31 - 1  # PositiveIntegerField
MAX_DURATION_MINUTES = 7 * 24 * 60
MAX_CAPACITY = 10_000
MAX_DESCRIPTION = 4000

currency_validator = RegexValidator(CURRENCY_PATTERN, _("Use a three-letter ISO currency code, for example SAR."))


# --- Money ----------------------------------------------------------------------------------


class MoneyInputSerializer(serializers.Serializer[Any]):
    amount_minor = serializers.IntegerField(
        min_value=0,
        max_value=MAX_PRICE_MINOR,
        help_text="Integer minor units (halalas for SAR): 15000 is SAR 150.00.",
    )
    currency = serializers.CharField(
        max_length=3,
        required=False,
        validators=[currency_validator],
        help_text="ISO 4217 code; the hotel's currency when left out.",
    )


class PriceSerializer(serializers.Serializer[Any]):
    """An experience's price as the API shows money everywhere: {"amount_minor", "currency"}."""

    amount_minor = serializers.IntegerField(source="price_minor", read_only=True)
    currency = serializers.CharField(read_only=True)


# --- Output ---------------------------------------------------------------------------------


class DepartmentSummarySerializer(serializers.ModelSerializer[Department]):
    name = serializers.CharField(read_only=True)

    class Meta:
        model = Department
        fields = ["id", "name_ar", "name_en", "name", "is_active"]
        read_only_fields = fields


def absolute_url(context: Mapping[str, Any], url: str) -> str:
    request = context.get("request")
    return request.build_absolute_uri(url) if request is not None else url


class ExperienceImageSerializer(serializers.ModelSerializer[ExperienceImage]):
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    alt = serializers.CharField(read_only=True)

    class Meta:
        model = ExperienceImage
        fields = ["id", "url", "thumbnail_url", "width", "height", "position", "alt_ar", "alt_en", "alt"]
        read_only_fields = fields

    def get_url(self, image: ExperienceImage) -> str:
        return absolute_url(self.context, image.image.url)

    def get_thumbnail_url(self, image: ExperienceImage) -> str:
        return absolute_url(self.context, image.thumbnail.url)


class ExperienceSerializer(serializers.ModelSerializer[Experience]):
    department = DepartmentSummarySerializer(read_only=True)
    title = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    price = PriceSerializer(source="*", read_only=True)
    images = ExperienceImageSerializer(many=True, read_only=True)

    class Meta:
        model = Experience
        fields = [
            "id",
            "department",
            "title_ar",
            "title_en",
            "title",
            "description_ar",
            "description_en",
            "description",
            "price",
            "duration_minutes",
            "capacity",
            "is_active",
            "display_order",
            "rating_average",
            "rating_count",
            "images",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# --- Input ----------------------------------------------------------------------------------


class ExperienceWriteSerializer(serializers.Serializer[Any]):
    department = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="A department of this hotel.")
    title_ar = serializers.CharField(max_length=150)
    title_en = serializers.CharField(max_length=150)
    description_ar = serializers.CharField(max_length=MAX_DESCRIPTION, required=False, allow_blank=True, default="")
    description_en = serializers.CharField(max_length=MAX_DESCRIPTION, required=False, allow_blank=True, default="")
    price = MoneyInputSerializer()
    duration_minutes = serializers.IntegerField(min_value=1, max_value=MAX_DURATION_MINUTES)
    capacity = serializers.IntegerField(min_value=1, max_value=MAX_CAPACITY, default=1)
    is_active = serializers.BooleanField(default=True)
    display_order = serializers.IntegerField(min_value=0, max_value=32767, default=0)

    def service_arguments(self) -> dict[str, Any]:
        """validated_data in the services' vocabulary: department → department_id, price → price_minor + currency."""
        data = dict(self.validated_data)
        if "department" in data:
            data["department_id"] = data.pop("department")
        price = data.pop("price", None)
        if price is not None:
            if "amount_minor" in price:
                data["price_minor"] = price["amount_minor"]
            if price.get("currency"):
                data["currency"] = price["currency"]
        return data


class ExperienceFilterSerializer(serializers.Serializer[Any]):
    is_active = serializers.BooleanField(required=False)
    department = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)


class ExperienceImageUploadSerializer(serializers.Serializer[Any]):
    image = ImageUploadField(help_text="JPEG, PNG or WebP. Re-encoded without metadata; a thumbnail is made.")
    alt_ar = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    alt_en = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
