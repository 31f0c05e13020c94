"""Input parsers and output shapes of the QR codes API."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from refuje.experiences.serializers import MAX_ID

from .models import QRCode, QRTargetType
from .rendering import DEFAULT_SHEET_MAX_CODES, landing_url, sheet_max_codes


class QRCodeSerializer(serializers.ModelSerializer[QRCode]):
    url = serializers.SerializerMethodField(help_text="The guest landing URL the code encodes.")
    image_png = serializers.SerializerMethodField()
    image_svg = serializers.SerializerMethodField()
    department: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(read_only=True)
    experience: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = QRCode
        fields = [
            "id",
            "token",
            "url",
            "target_type",
            "room_number",
            "location_label",
            "department",
            "experience",
            "label",
            "is_active",
            "scan_count",
            "last_scanned_at",
            "created_at",
            "image_png",
            "image_svg",
        ]
        read_only_fields = fields

    def get_url(self, code: QRCode) -> str:
        return landing_url(code)

    def get_image_png(self, code: QRCode) -> str:
        return self._absolute(reverse("qr-code-png", kwargs={"hotel": code.hotel.slug, "qr_code_id": code.pk}))

    def get_image_svg(self, code: QRCode) -> str:
        return self._absolute(reverse("qr-code-svg", kwargs={"hotel": code.hotel.slug, "qr_code_id": code.pk}))

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class QRCodeCreateSerializer(serializers.Serializer[Any]):
    target_type = serializers.ChoiceField(choices=QRTargetType.choices)
    room_number = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default="", help_text="For `room` codes."
    )
    location_label = serializers.CharField(
        max_length=120, required=False, allow_blank=True, default="", help_text="For `location` codes."
    )
    department = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, allow_null=True, help_text="For `department` codes."
    )
    experience = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, allow_null=True, help_text="For `experience` codes."
    )
    label = serializers.CharField(  # type: ignore[assignment]  # a field, not Field.label
        max_length=120,
        required=False,
        allow_blank=True,
        default="",
        help_text="Printed under the code; derived from the target when left out.",
    )
    is_active = serializers.BooleanField(default=True)

    def service_arguments(self) -> dict[str, Any]:
        data = dict(self.validated_data)
        data["department_id"] = data.pop("department", None)
        data["experience_id"] = data.pop("experience", None)
        return data


class QRCodeUpdateSerializer(serializers.Serializer[Any]):
    label = serializers.CharField(max_length=120, required=False)  # type: ignore[assignment]
    is_active = serializers.BooleanField(required=False, help_text="false deactivates: scans then answer 404.")


class QRCodeFilterSerializer(serializers.Serializer[Any]):
    is_active = serializers.BooleanField(required=False)
    target_type = serializers.ChoiceField(choices=QRTargetType.choices, required=False)


class IdListField(serializers.Field):
    """`?ids=1,2,3` and/or `?ids=1&ids=2`: distinct positive ids in the order given."""

    default_error_messages = {
        "invalid": _("Give QR code ids as whole numbers separated by commas, for example 3,7,12."),
    }

    def __init__(self, *, maximum: int, **kwargs: Any) -> None:
        self.maximum = maximum
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> list[int]:
        values = data if isinstance(data, list) else [data]
        ids: list[int] = []
        for value in values:
            for part in str(value).split(","):
                part = part.strip()
                if not part:
                    continue
                if not part.isascii() or not part.isdigit() or not 0 < int(part) <= MAX_ID:
                    self.fail("invalid")
                if int(part) not in ids:
                    ids.append(int(part))
        if not ids:
            self.fail("invalid")
        if len(ids) > self.maximum:
            raise serializers.ValidationError(
                _("Choose at most %(maximum)s codes at once.") % {"maximum": self.maximum}, code="too_many"
            )
        return ids

    def to_representation(self, value: Any) -> str:
        return ",".join(str(item) for item in value)


class QRSheetQuerySerializer(serializers.Serializer[Any]):
    ids = IdListField(maximum=DEFAULT_SHEET_MAX_CODES, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ids"].maximum = sheet_max_codes()  # type: ignore[attr-defined]
