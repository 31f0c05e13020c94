"""Input parsers and output shapes of the concierge API. No business rules here: those are services."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from refuje.accounts.models import User
from refuje.common.api import PhoneField
from refuje.common.images import ImageUploadField
from refuje.experiences.models import Experience
from refuje.hotels.models import Department

from . import hours
from .lifecycle import GUEST_ACTIONS, STAFF_ACTIONS, allowed_actions
from .models import (
    MAX_DESCRIPTION_LENGTH,
    MAX_NOTE_LENGTH,
    MAX_REASON_LENGTH,
    MAX_SLA_MINUTES,
    RequestActivity,
    RequestPriority,
    RequestStatus,
    ServiceRequest,
)
from .selectors import PolicyView
from .services import OverrideSpec

MAX_ID = 2**63 - 1
MAX_WINDOWS = 100
MAX_OVERRIDES = 200
MAX_CONTACTS = 50
# A confirmation time may be a little in the past (clock drift, a form left open).
SCHEDULE_GRACE = timedelta(minutes=5)


def absolute_url(context: Mapping[str, Any], name: str | None) -> str | None:
    if not name:
        return None
    url = default_storage.url(name)
    request = context.get("request")
    return request.build_absolute_uri(url) if request is not None else url


# --- Department policy ----------------------------------------------------------------------


class LocalTimeField(serializers.TimeField):
    """A wall-clock time in the hotel's zone. An offset would be dropped silently by the parser, so
    "08:00+03:00" is refused rather than read as 08:00."""

    default_error_messages = {"offset": _("Give a local time without a time zone, for example 08:00.")}

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str) and _OFFSET.search(value.strip()):
            self.fail("offset")
        return super().to_internal_value(value)


_OFFSET = re.compile(r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")


class WindowSerializer(serializers.Serializer[Any]):
    weekday = serializers.IntegerField(min_value=0, max_value=6, help_text="0 = Monday … 6 = Sunday.")
    start = LocalTimeField(help_text="Local opening time, e.g. 08:00.")
    end = LocalTimeField(help_text="Local closing time; at or before `start` means the next day.")

    def validate(self, attrs: dict[str, Any]) -> hours.Window:
        try:
            return hours.Window(attrs["weekday"], attrs["start"], attrs["end"])
        except hours.HoursError as exc:
            raise serializers.ValidationError(str(exc), code=exc.code) from exc

    def to_representation(self, instance: Any) -> dict[str, Any]:
        if isinstance(instance, hours.Window):
            instance = {"weekday": instance.weekday, "start": instance.start, "end": instance.end}
        return super().to_representation(instance)


class OverrideSerializer(serializers.Serializer[Any]):
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    closed = serializers.BooleanField(default=False, help_text="Closed all day on these dates.")
    windows = WindowSerializer(  # type: ignore[call-arg]
        many=True, required=False, max_length=MAX_WINDOWS, help_text="The hours on these dates, unless closed."
    )
    label = serializers.CharField(  # type: ignore[assignment]
        max_length=120, required=False, allow_blank=True, default=""
    )

    def validate(self, attrs: dict[str, Any]) -> OverrideSpec:
        closed = attrs["closed"]
        windows = attrs.get("windows")
        if closed and windows:
            raise serializers.ValidationError({"windows": _("A closed override cannot also list working windows.")})
        try:
            override = hours.Override(
                start_date=attrs["start_date"],
                end_date=attrs["end_date"],
                closed=closed,
                # No windows and not closed says nothing about these dates: refused by Override.
                windows=tuple(windows) if windows else None,
            )
        except hours.HoursError as exc:
            raise serializers.ValidationError(str(exc), code=exc.code) from exc
        return OverrideSpec(override=override, label=attrs["label"])


def _id_list(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        max_length=MAX_CONTACTS,
        required=False,
        default=list,
        help_text=help_text,
    )


class EscalationContactsSerializer(serializers.Serializer[Any]):
    level_1 = _id_list("Memberships told first when a request is overdue (department leads).")
    level_2 = _id_list("Memberships told next (hotel admins).")


def _minutes(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_SLA_MINUTES, help_text=help_text)


class DepartmentPolicyWriteSerializer(serializers.Serializer[Any]):
    """PUT replaces the whole policy; lists left out become empty."""

    sla_minutes = _minutes("Minutes to the first response inside working hours.")
    after_hours_sla_minutes = _minutes("Minutes to the first response outside working hours.")
    reminder_interval_minutes = _minutes("Minutes between reminders about an unanswered request.")
    windows = WindowSerializer(  # type: ignore[call-arg]
        many=True,
        required=False,
        max_length=MAX_WINDOWS,
        help_text="Weekly working windows in the hotel's time zone. None at all: open around the clock.",
    )
    overrides = OverrideSerializer(many=True, required=False, max_length=MAX_OVERRIDES)  # type: ignore[call-arg]
    escalation_contacts = EscalationContactsSerializer(required=False)

    def service_arguments(self) -> dict[str, Any]:
        data = dict(self.validated_data)
        contacts = data.pop("escalation_contacts", None) or {}
        return {
            **data,
            "windows": list(data.get("windows", ())),
            "overrides": list(data.get("overrides", ())),
            "escalation": {1: contacts.get("level_1", []), 2: contacts.get("level_2", [])},
        }


class PolicyOverrideSerializer(serializers.Serializer[Any]):
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    closed = serializers.BooleanField()
    windows = serializers.ListField(child=WindowSerializer())
    label = serializers.CharField()  # type: ignore[assignment]


class DepartmentPolicySerializer(serializers.Serializer[PolicyView]):
    department = serializers.IntegerField(source="department.pk")
    timezone = serializers.CharField(source="department.hotel.timezone")
    configured = serializers.BooleanField(help_text="False while the department runs on the defaults.")
    sla_minutes = serializers.IntegerField(source="policy.sla_minutes")
    after_hours_sla_minutes = serializers.IntegerField(source="policy.after_hours_sla_minutes")
    reminder_interval_minutes = serializers.IntegerField(source="policy.reminder_interval_minutes")
    windows = serializers.SerializerMethodField()
    overrides = serializers.SerializerMethodField()
    escalation_contacts = serializers.SerializerMethodField()
    is_after_hours_now = serializers.SerializerMethodField()
    updated_at = serializers.SerializerMethodField()

    @extend_schema_field(WindowSerializer(many=True))
    def get_windows(self, view: PolicyView) -> list[dict[str, Any]]:
        return [
            {"weekday": row.weekday, "start": row.start.isoformat("minutes"), "end": row.end.isoformat("minutes")}
            for row in view.windows
        ]

    @extend_schema_field(PolicyOverrideSerializer(many=True))
    def get_overrides(self, view: PolicyView) -> list[dict[str, Any]]:
        return [
            {
                "start_date": row.start_date.isoformat(),
                "end_date": row.end_date.isoformat(),
                "closed": row.closed,
                "windows": [
                    {"weekday": item["weekday"], "start": str(item["start"])[:5], "end": str(item["end"])[:5]}
                    for item in row.windows
                ],
                "label": row.label,
            }
            for row in view.overrides
        ]

    @extend_schema_field(EscalationContactsSerializer)
    def get_escalation_contacts(self, view: PolicyView) -> dict[str, list[int]]:
        return {"level_1": view.escalation(1), "level_2": view.escalation(2)}

    def get_is_after_hours_now(self, view: PolicyView) -> bool:
        return hours.is_after_hours(view.hours, timezone.now())

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_updated_at(self, view: PolicyView) -> str | None:
        return view.policy.updated_at.isoformat() if view.configured else None


# --- Requests: output -----------------------------------------------------------------------


class RequestDepartmentSerializer(serializers.ModelSerializer[Department]):
    name = serializers.CharField(read_only=True)

    class Meta:
        model = Department
        fields = ["id", "name", "name_ar", "name_en"]
        read_only_fields = fields


class RequestExperienceSerializer(serializers.ModelSerializer[Experience]):
    title = serializers.CharField(read_only=True)

    class Meta:
        model = Experience
        fields = ["id", "title", "title_ar", "title_en"]
        read_only_fields = fields


class RequestPersonSerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ["id", "full_name", "phone_number"]
        read_only_fields = fields


class PhotoSerializer(serializers.Serializer[ServiceRequest]):
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    def get_url(self, request: ServiceRequest) -> str | None:
        return absolute_url(self.context, request.photo.name)

    def get_thumbnail_url(self, request: ServiceRequest) -> str | None:
        return absolute_url(self.context, request.photo_thumbnail.name)


class _RequestBaseSerializer(serializers.ModelSerializer[ServiceRequest]):
    hotel = serializers.SlugRelatedField[ServiceRequest](slug_field="slug", read_only=True)
    room = serializers.CharField(source="stay.room", read_only=True)
    department = RequestDepartmentSerializer(read_only=True)
    experience = RequestExperienceSerializer(read_only=True, allow_null=True)
    photo = serializers.SerializerMethodField()

    @extend_schema_field(PhotoSerializer(allow_null=True))
    def get_photo(self, request: ServiceRequest) -> dict[str, Any] | None:
        if not request.photo.name:
            return None
        return dict(PhotoSerializer(request, context=self.context).data)


COMMON_FIELDS = [
    "id",
    "hotel",
    "room",
    "department",
    "experience",
    "description",
    "photo",
    "status",
    "priority",
    "response_due_at",
    "acknowledged_at",
    "confirmed_at",
    "confirmation_reason",
    "scheduled_for",
    "declined_reason",
    "cancellation_reason",
    "started_at",
    "completed_at",
    "created_via",
    "created_at",
    "updated_at",
]


class StaffRequestSerializer(_RequestBaseSerializer):
    """A request on the staff board."""

    guest = RequestPersonSerializer(source="stay.guest", read_only=True)
    stay = serializers.IntegerField(source="stay_id", read_only=True)
    acknowledged_by = RequestPersonSerializer(read_only=True, allow_null=True)
    overdue = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = ServiceRequest
        fields = [
            *COMMON_FIELDS,
            "stay",
            "guest",
            "after_hours",
            "overdue",
            "escalation_level",
            "acknowledged_by",
            "allowed_actions",
        ]
        read_only_fields = fields

    def get_overdue(self, request: ServiceRequest) -> bool:
        return request.status == RequestStatus.NEW and request.response_due_at < timezone.now()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, request: ServiceRequest) -> list[str]:
        return allowed_actions(request.status, STAFF_ACTIONS)


class ActivityActorSerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ["id", "full_name"]
        read_only_fields = fields


class SystemNoteMixin:
    """Notes written by jobs (no actor) are stored as English messages and shown translated."""

    def to_representation(self, instance: RequestActivity) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)  # type: ignore[misc]
        if instance.actor_id is None and instance.note:
            data["note"] = gettext(instance.note)
        return data


class StaffActivitySerializer(SystemNoteMixin, serializers.ModelSerializer[RequestActivity]):
    actor = ActivityActorSerializer(read_only=True, allow_null=True)

    class Meta:
        model = RequestActivity
        fields = ["id", "action", "from_status", "to_status", "note", "is_internal", "actor", "at"]
        read_only_fields = fields


class StaffRequestDetailSerializer(StaffRequestSerializer):
    activities = StaffActivitySerializer(many=True, read_only=True)

    class Meta(StaffRequestSerializer.Meta):
        fields = [*StaffRequestSerializer.Meta.fields, "activities"]
        read_only_fields = fields


class GuestActivitySerializer(SystemNoteMixin, serializers.ModelSerializer[RequestActivity]):
    by = serializers.SerializerMethodField(help_text="Who acted: you, hotel staff, or the system.")

    class Meta:
        model = RequestActivity
        fields = ["id", "action", "from_status", "to_status", "note", "by", "at"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=["guest", "staff", "system"]))
    def get_by(self, activity: RequestActivity) -> str:
        if activity.actor_id is None:
            return "system"
        return "guest" if activity.actor_id == activity.request.stay.guest_id else "staff"


class GuestRequestSerializer(_RequestBaseSerializer):
    """A request as the guest who owns it sees it."""

    can_cancel = serializers.SerializerMethodField()

    class Meta:
        model = ServiceRequest
        fields = [*COMMON_FIELDS, "can_cancel"]
        read_only_fields = fields

    def get_can_cancel(self, request: ServiceRequest) -> bool:
        return bool(allowed_actions(request.status, GUEST_ACTIONS))


class GuestRequestDetailSerializer(GuestRequestSerializer):
    timeline = GuestActivitySerializer(source="activities", many=True, read_only=True)

    class Meta(GuestRequestSerializer.Meta):
        fields = [*GuestRequestSerializer.Meta.fields, "timeline"]
        read_only_fields = fields


class IllegalTransitionSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()
    code = serializers.CharField(help_text="`illegal_transition`")
    status = serializers.ChoiceField(choices=RequestStatus.choices)
    allowed_actions = serializers.ListField(child=serializers.CharField())


# --- Requests: input ------------------------------------------------------------------------


def _description() -> serializers.CharField:
    return serializers.CharField(max_length=MAX_DESCRIPTION_LENGTH, help_text="What is needed (trimmed; 1–2000).")


def _optional_id(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, allow_null=True, help_text=help_text)


class GuestRequestCreateSerializer(serializers.Serializer[Any]):
    hotel = serializers.CharField(max_length=60, help_text="Slug of the hotel you are staying at.")
    department = _optional_id("An active department of the hotel (optional when an experience is given).")
    experience = _optional_id("An active experience of the hotel, if the request is about one.")
    description = _description()
    photo = ImageUploadField(required=False, help_text="Optional JPEG, PNG or WebP photo (multipart).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("department") is None and attrs.get("experience") is None:
            raise serializers.ValidationError({"department": _("Choose a department or an experience.")})
        return attrs


class StaffRequestCreateSerializer(serializers.Serializer[Any]):
    stay = _optional_id("The guest's active stay at this hotel (or give `phone`).")
    phone = PhoneField(required=False, help_text="The guest's phone, to find their active stay (or give `stay`).")
    department = _optional_id("An active department of the hotel (optional when an experience is given).")
    experience = _optional_id("An active experience of the hotel, if the request is about one.")
    description = _description()
    priority = serializers.ChoiceField(choices=RequestPriority.choices, default=RequestPriority.NORMAL)
    photo = ImageUploadField(required=False, help_text="Optional JPEG, PNG or WebP photo (multipart).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (attrs.get("stay") is None) == (not attrs.get("phone")):
            raise serializers.ValidationError({"stay": _("Give either the guest's stay or their phone number.")})
        if attrs.get("department") is None and attrs.get("experience") is None:
            raise serializers.ValidationError({"department": _("Choose a department or an experience.")})
        return attrs


class TransitionSerializer(serializers.Serializer[Any]):
    action = serializers.ChoiceField(choices=[(action, action) for action in STAFF_ACTIONS])
    reason = serializers.CharField(
        max_length=MAX_REASON_LENGTH,
        required=False,
        allow_blank=True,
        help_text="Required to decline; optional to confirm; refused with any other action.",
    )
    scheduled_for = serializers.DateTimeField(required=False, help_text="Confirm only: when it will happen.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        action = attrs["action"]
        reason = attrs.get("reason", "").strip()
        if reason and action not in ("confirm", "decline"):
            raise serializers.ValidationError(
                {"reason": _("Only confirm and decline take a reason; a reason needs a change of status.")}
            )
        if action == "decline" and not reason:
            raise serializers.ValidationError({"reason": _("Say why the request is declined.")})
        scheduled_for = attrs.get("scheduled_for")
        if scheduled_for is not None:
            if action != "confirm":
                raise serializers.ValidationError({"scheduled_for": _("Only a confirmation takes a time.")})
            if scheduled_for < timezone.now() - SCHEDULE_GRACE:
                raise serializers.ValidationError({"scheduled_for": _("This time has already passed.")})
        attrs["reason"] = reason
        return attrs


class NoteSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(max_length=MAX_NOTE_LENGTH, help_text="Internal: never shown to the guest.")


class CancelSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=MAX_REASON_LENGTH, required=False, allow_blank=True, default="")


class GuestRequestFilterSerializer(serializers.Serializer[Any]):
    hotel = serializers.CharField(max_length=60, required=False, help_text="Only this hotel's requests (slug).")
    status = serializers.ChoiceField(choices=RequestStatus.choices, required=False)
