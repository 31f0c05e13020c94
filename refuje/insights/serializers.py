"""Input parsing and the output shape of the statistics API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from refuje.concierge.models import RequestStatus
from refuje.reviews.models import RATINGS

from .selectors import HotelStats, Period

MAX_BOUNDARY_LENGTH = 40
SCOPES = ["hotel", "departments"]


@extend_schema_field(OpenApiTypes.STR)
class DateOrDateTimeField(serializers.Field[date | datetime | None, date | datetime, str, Any]):
    """An ISO 8601 date (2025-01-31) or date and time (2025-01-31T08:00, with or without an offset)."""

    default_error_messages = {
        "invalid": _("Use an ISO date such as 2025-01-31, or a date and time such as 2025-01-31T08:00:00+03:00."),
    }

    def to_internal_value(self, data: Any) -> date | datetime | None:
        if not isinstance(data, str) or len(data) > MAX_BOUNDARY_LENGTH:
            self.fail("invalid")
        text = data.strip()
        if not text:
            return None  # an empty form field (?from=) means "not given"
        try:
            # A date first: parse_datetime would also read a bare date as its midnight.
            value: date | datetime | None = parse_date(text) or parse_datetime(text)
        except ValueError:  # well-formed but impossible, such as 2025-02-30
            value = None
        if value is None:
            self.fail("invalid")
        return value

    def to_representation(self, value: date | datetime | None) -> str:
        return value.isoformat() if value is not None else ""


class StatsQuerySerializer(serializers.Serializer[Any]):
    # `from` is a Python keyword, so the fields are declared here rather than as attributes.
    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        return {
            "from": DateOrDateTimeField(required=False),
            "to": DateOrDateTimeField(required=False),
        }


class LocalDateTimeField(serializers.DateTimeField):
    """Shown with the hotel's own offset, not converted to the server's zone."""

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


class StatsPeriodSerializer(serializers.Serializer[Period]):
    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        return {
            "from": LocalDateTimeField(source="start_local", help_text="First instant counted (inclusive)."),
            "to": LocalDateTimeField(source="end_local", help_text="End of the period (exclusive)."),
            "timezone": serializers.CharField(source="tz.key", help_text="The hotel's IANA time zone."),
        }


# One count per status, always all of them (a status without requests is 0).
StatsStatusCountsSerializer: type[serializers.Serializer[Any]] = type(
    "StatsStatusCountsSerializer",
    (serializers.Serializer,),
    {status: serializers.IntegerField(min_value=0) for status in RequestStatus.values},
)


class StatsDepartmentSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="In the request's language.")
    name_en = serializers.CharField()
    name_ar = serializers.CharField()
    is_active = serializers.BooleanField()
    total = serializers.IntegerField(min_value=0)
    by_status = StatsStatusCountsSerializer()


class StatsDurationSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField(min_value=0, help_text="Requests that reached this point.")
    median_seconds = serializers.FloatField(allow_null=True, help_text="null when no request reached it.")
    p90_seconds = serializers.FloatField(allow_null=True, help_text="90th percentile; null when none reached it.")


class StatsRateSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField(min_value=0)
    rate = serializers.FloatField(source="share", min_value=0, max_value=1, help_text="count / total (0 when none).")


class StatsLevelCountSerializer(serializers.Serializer[Any]):
    level = serializers.IntegerField()
    count = serializers.IntegerField(min_value=0)


class StatsEscalationsSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField(source="escalated.count", min_value=0, help_text="Escalated at least once.")
    rate = serializers.FloatField(source="escalated.share", min_value=0, max_value=1)
    by_level = StatsLevelCountSerializer(
        source="escalations_by_level", many=True, help_text="By the highest level reached."
    )


class StatsHourCountSerializer(serializers.Serializer[Any]):
    hour = serializers.IntegerField(min_value=0, max_value=23, help_text="Hour of the day on the hotel's clock.")
    count = serializers.IntegerField(min_value=0)


StatsRatingDistributionSerializer: type[serializers.Serializer[Any]] = type(
    "StatsRatingDistributionSerializer",
    (serializers.Serializer,),
    {str(stars): serializers.IntegerField(min_value=0) for stars in RATINGS},
)


class StatsRatingsSerializer(serializers.Serializer[Any]):
    rated_experiences = serializers.IntegerField(min_value=0, help_text="Experiences with a published review.")
    rating_count = serializers.IntegerField(min_value=0, help_text="Published reviews.")
    rating_average = serializers.DecimalField(
        max_digits=3, decimal_places=2, coerce_to_string=False, allow_null=True, help_text="null without ratings."
    )
    distribution = StatsRatingDistributionSerializer(help_text="Published reviews with each rating, 1–5.")
    in_period = serializers.IntegerField(min_value=0, help_text="Published reviews written in the period.")


class HotelStatsSerializer(serializers.Serializer[HotelStats]):
    hotel = serializers.SlugField(source="hotel.slug")
    period = StatsPeriodSerializer()
    scope = serializers.SerializerMethodField(
        help_text="`hotel` (ADMIN and above) or `departments` (STAFF: only their own departments' requests)."
    )
    total = serializers.IntegerField(min_value=0, help_text="Requests created in the period.")
    by_status = StatsStatusCountsSerializer()
    by_department = StatsDepartmentSerializer(many=True)
    time_to_acknowledge = StatsDurationSerializer()
    time_to_complete = StatsDurationSerializer()
    sla_breach = StatsRateSerializer(
        source="sla_breached",
        help_text="Acknowledged after the response deadline, or left unacknowledged past it.",
    )
    escalations = StatsEscalationsSerializer(source="*")
    after_hours = StatsRateSerializer(help_text="Created outside the department's working hours.")
    busiest_hours = StatsHourCountSerializer(many=True, help_text="24 entries, hours 0–23 in the hotel's time zone.")
    ratings = StatsRatingsSerializer(
        help_text="Published reviews of requests and bookings (all time, with the number written in the period)."
    )

    @extend_schema_field(serializers.ChoiceField(choices=SCOPES))
    def get_scope(self, stats: HotelStats) -> str:
        return "hotel" if stats.all_departments else "departments"
