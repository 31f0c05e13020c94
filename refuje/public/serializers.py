"""Guest-facing shapes: hotel branding, departments, experiences and what a QR code opens.

Each bilingual value comes as its raw `_ar`/`_en` pair plus the request language's version
(`name`, `title`, …) chosen by Accept-Language.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from refuje.experiences.models import Experience
from refuje.experiences.serializers import PriceSerializer, absolute_url
from refuje.hotels.models import Department, Hotel
from refuje.qrcodes.models import QRCode, QRTargetType


class BrandingSerializer(serializers.ModelSerializer[Hotel]):
    name = serializers.CharField(read_only=True)
    logo_url = serializers.SerializerMethodField()
    languages = serializers.SerializerMethodField()

    class Meta:
        model = Hotel
        fields = ["slug", "name_ar", "name_en", "name", "primary_color", "logo_url", "languages"]
        read_only_fields = fields

    def get_logo_url(self, hotel: Hotel) -> str | None:
        return absolute_url(self.context, hotel.logo.url) if hotel.logo else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_languages(self, hotel: Hotel) -> list[str]:
        return [code for code, _name in settings.LANGUAGES]


class PublicDepartmentSerializer(serializers.ModelSerializer[Department]):
    name = serializers.CharField(read_only=True)

    class Meta:
        model = Department
        fields = ["id", "name_ar", "name_en", "name"]
        read_only_fields = fields


class PublicExperienceSerializer(serializers.ModelSerializer[Experience]):
    title = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    price = PriceSerializer(source="*", read_only=True)
    thumbnail_url = serializers.SerializerMethodField(help_text="The first image's thumbnail, if any.")

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
            "rating_average",
            "rating_count",
            "thumbnail_url",
        ]
        read_only_fields = fields

    def get_thumbnail_url(self, experience: Experience) -> str | None:
        name = getattr(experience, "cover_thumbnail", None)
        return absolute_url(self.context, default_storage.url(name)) if name else None


class PublicHotelSerializer(BrandingSerializer):
    """Branding plus the catalogue; the lists come from the view's selectors through the context."""

    departments = serializers.SerializerMethodField()
    experiences = serializers.SerializerMethodField()

    class Meta(BrandingSerializer.Meta):
        fields = [*BrandingSerializer.Meta.fields, "departments", "experiences"]
        read_only_fields = fields

    @extend_schema_field(PublicDepartmentSerializer(many=True))
    def get_departments(self, hotel: Hotel) -> Any:
        return PublicDepartmentSerializer(self.context["departments"], many=True, context=self.context).data

    @extend_schema_field(PublicExperienceSerializer(many=True))
    def get_experiences(self, hotel: Hotel) -> Any:
        return PublicExperienceSerializer(self.context["experiences"], many=True, context=self.context).data


class QRTargetSerializer(serializers.ModelSerializer[QRCode]):
    type = serializers.SerializerMethodField()
    room_number = serializers.SerializerMethodField()
    location_label = serializers.SerializerMethodField()
    department = PublicDepartmentSerializer(read_only=True, allow_null=True)
    experience = PublicExperienceSerializer(read_only=True, allow_null=True)

    class Meta:
        model = QRCode
        fields = ["type", "room_number", "location_label", "department", "experience"]
        read_only_fields = fields

    # A plain enum (no component): the admin API's TargetTypeEnum already names this choice set.
    @extend_schema_field({"type": "string", "enum": list(QRTargetType.values)})
    def get_type(self, code: QRCode) -> str:
        return code.target_type

    def get_room_number(self, code: QRCode) -> str | None:
        return code.room_number or None

    def get_location_label(self, code: QRCode) -> str | None:
        return code.location_label or None


class PublicQRCodeSerializer(serializers.ModelSerializer[QRCode]):
    hotel = BrandingSerializer(read_only=True)
    target = QRTargetSerializer(source="*", read_only=True)

    class Meta:
        model = QRCode
        fields = ["hotel", "target"]
        read_only_fields = fields
