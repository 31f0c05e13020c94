"""Hotel statistics over a period: every number is computed by the database, in a fixed number of
queries whatever the period holds.

Queries: one aggregate over the requests (counts by status, SLA, escalations, after hours and, on
PostgreSQL, the percentiles), one grouped count per department, one grouped count per local hour,
one aggregate over the published reviews. On other databases (the embedded SQLite default) the
percentiles come from two more queries that fetch only the durations of the period, computed with
the same interpolation as PostgreSQL's `percentile_cont`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connections
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import ExtractHour
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refuje.common.errors import ApiError
from refuje.concierge.models import ESCALATION_LEVELS, RequestStatus, ServiceRequest
from refuje.concierge.selectors import requests_visible_to
from refuje.hotels.models import Bilingual, Department, Hotel, HotelMembership, Role, role_rank
from refuje.reviews.models import RATINGS, Review
from refuje.reviews.ratings import rating_average

DEFAULT_PERIOD = timedelta(days=30)
MAX_PERIOD_DAYS = 366
MEDIAN, P90 = 0.5, 0.9
SECONDS_DECIMALS = 3
RATE_DECIMALS = 4


# --- The period -----------------------------------------------------------------------------


class InvalidPeriod(ApiError):
    default_detail = _("This period cannot be used for statistics.")
    default_code = "invalid_period"


@dataclass(frozen=True)
class Period:
    """[start, end) as aware datetimes, and the hotel's zone they are read and shown in."""

    start: datetime
    end: datetime
    tz: ZoneInfo

    @property
    def start_local(self) -> datetime:
        return self.start.astimezone(self.tz)

    @property
    def end_local(self) -> datetime:
        return self.end.astimezone(self.tz)


Boundary = date | datetime


def _instant(value: Boundary, tz: ZoneInfo) -> datetime:
    """A datetime as given (read in the hotel's zone when it has no offset); a date as its local
    midnight."""
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else value.replace(tzinfo=tz)
    return datetime.combine(value, time.min, tzinfo=tz)


def stats_period(*, hotel: Hotel, start: Boundary | None = None, end: Boundary | None = None) -> Period:
    """The period `start`..`end` in the hotel's time zone; a date as `end` includes that whole day.

    Missing `end` is now, missing `start` is 30 days before the end. A start after the end, or a
    period longer than 366 days (counted in local calendar time, so DST changes do not matter),
    is an InvalidPeriod (400).
    """
    tz = hotel.tz
    try:
        if end is None:
            end_point = end_at = timezone.now()
        elif isinstance(end, datetime):
            end_point = end_at = _instant(end, tz)
        else:
            # "to" is compared as its first instant but includes its whole day.
            end_point, end_at = _instant(end, tz), _instant(end + timedelta(days=1), tz)
        start_at = _instant(start, tz) if start is not None else end_at - DEFAULT_PERIOD
        # Converting is where far-away years overflow, so it happens inside the guard.
        start_at, end_at, end_point = (value.astimezone(UTC) for value in (start_at, end_at, end_point))
        local_length = end_at.astimezone(tz).replace(tzinfo=None) - start_at.astimezone(tz).replace(tzinfo=None)
    except (OverflowError, ValueError) as exc:
        raise InvalidPeriod(_("This date is too far in the past or the future."), code="period_out_of_range") from exc
    if start_at > end_point:
        raise InvalidPeriod(_("“from” must not be later than “to”."), code="period_reversed")
    if local_length > timedelta(days=MAX_PERIOD_DAYS):
        raise InvalidPeriod(
            _("The period can be at most %(days)s days long; choose a shorter one.") % {"days": MAX_PERIOD_DAYS},
            code="period_too_long",
        )
    return Period(start=start_at, end=end_at, tz=tz)


# --- Percentiles ----------------------------------------------------------------------------


class PercentileCont(Aggregate):
    """PostgreSQL's `percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)`: the continuous
    percentile, interpolated between neighbours. NULL inputs are skipped, no rows give NULL."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    window_compatible = False

    def __init__(self, expression: Any, *, fraction: float, **extra: Any) -> None:
        # Written into the SQL as a literal (ordered-set aggregates take it as a direct argument),
        # so only a real number in [0, 1] is accepted.
        if not (isinstance(fraction, float | int) and 0 <= fraction <= 1):
            raise ValueError("fraction is a number between 0 and 1")
        super().__init__(expression, fraction=repr(float(fraction)), output_field=FloatField(), **extra)


class EpochSeconds(Func):
    """Seconds in a PostgreSQL interval, as double precision."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)::double precision"

    def __init__(self, expression: Any, **extra: Any) -> None:
        super().__init__(expression, output_field=FloatField(), **extra)


def percentile_cont(ordered: Sequence[float], fraction: float) -> float | None:
    """The same interpolation as PostgreSQL's percentile_cont, over values already sorted."""
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    lower, upper = math.floor(position), math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def _elapsed(until: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(until) - F("created_at"), output_field=DurationField())


def durations_portable(requests: QuerySet[ServiceRequest], until: str) -> list[float]:
    """Seconds from creation to `until` of every request that has it, sorted: one query that fetches
    only the durations, for databases without percentile_cont."""
    values = requests.filter(**{f"{until}__isnull": False}).order_by().values_list(_elapsed(until), flat=True)
    return sorted(value.total_seconds() for value in values)


# --- The statistics -------------------------------------------------------------------------


@dataclass(frozen=True)
class DurationSummary:
    count: int
    median_seconds: float | None
    p90_seconds: float | None

    @classmethod
    def of(cls, count: int, median: float | None, p90: float | None) -> DurationSummary:
        return cls(
            count=count, median_seconds=_round(median, SECONDS_DECIMALS), p90_seconds=_round(p90, SECONDS_DECIMALS)
        )


@dataclass(frozen=True)
class DepartmentStats(Bilingual):
    id: int
    name_en: str
    name_ar: str
    is_active: bool
    total: int
    by_status: dict[str, int]

    @property
    def name(self) -> str:
        return self.localized("name")


@dataclass(frozen=True)
class LevelCount:
    level: int
    count: int


@dataclass(frozen=True)
class HourCount:
    hour: int
    count: int


@dataclass(frozen=True)
class Share:
    count: int
    share: float


@dataclass(frozen=True)
class RatingSummary:
    rated_experiences: int
    rating_count: int
    rating_average: Decimal | None
    distribution: dict[str, int]
    in_period: int


@dataclass(frozen=True)
class HotelStats:
    hotel: Hotel
    period: Period
    all_departments: bool
    total: int
    by_status: dict[str, int]
    by_department: list[DepartmentStats]
    time_to_acknowledge: DurationSummary
    time_to_complete: DurationSummary
    sla_breached: Share
    escalated: Share
    escalations_by_level: list[LevelCount]
    after_hours: Share
    busiest_hours: list[HourCount]
    ratings: RatingSummary


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


def _share(count: int, total: int) -> Share:
    return Share(count=count, share=round(count / total, RATE_DECIMALS) if total else 0.0)


def sees_all_departments(membership: HotelMembership) -> bool:
    """ADMIN and above (and platform operators) see the whole hotel; STAFF their departments."""
    return role_rank(membership.role) >= role_rank(Role.ADMIN)


def departments_visible_to(membership: HotelMembership) -> QuerySet[Department]:
    departments = Department.objects.filter(hotel_id=membership.hotel_id)
    if sees_all_departments(membership):
        return departments
    return departments.filter(memberships=membership)


def sla_breached(now: datetime) -> Q:
    """Acknowledged after its deadline, or not acknowledged while it was still open at its deadline
    (closed later without an acknowledgement, or still open and past it). A request the guest
    cancelled before its deadline breached nothing."""
    late = Q(acknowledged_at__gt=F("response_due_at"))
    unanswered = Q(acknowledged_at__isnull=True) & (
        Q(closed_at__gt=F("response_due_at")) | Q(closed_at__isnull=True, response_due_at__lt=now)
    )
    return late | unanswered


def hotel_stats(*, membership: HotelMembership, period: Period) -> HotelStats:
    """The statistics of the requests created in `period` that `membership` may see."""
    hotel = membership.hotel
    now = timezone.now()
    requests = requests_visible_to(membership).filter(created_at__gte=period.start, created_at__lt=period.end)
    on_postgres = connections[requests.db].vendor == "postgresql"

    aggregates: dict[str, Any] = {
        "total": Count("pk"),
        "after_hours": Count("pk", filter=Q(after_hours=True)),
        "breached": Count("pk", filter=sla_breached(now)),
        "escalated": Count("pk", filter=Q(escalation_level__gt=0)),
        "acknowledged": Count("pk", filter=Q(acknowledged_at__isnull=False)),
        "completed": Count("pk", filter=Q(completed_at__isnull=False)),
        **{f"status_{status}": Count("pk", filter=Q(status=status)) for status in RequestStatus.values},
        **{f"level_{level}": Count("pk", filter=Q(escalation_level=level)) for level in ESCALATION_LEVELS},
    }
    if on_postgres:
        for name, until in (("ack", "acknowledged_at"), ("done", "completed_at")):
            seconds = EpochSeconds(_elapsed(until))
            aggregates[f"{name}_median"] = PercentileCont(seconds, fraction=MEDIAN)
            aggregates[f"{name}_p90"] = PercentileCont(seconds, fraction=P90)
    row = requests.order_by().aggregate(**aggregates)
    if not on_postgres:
        for name, until in (("ack", "acknowledged_at"), ("done", "completed_at")):
            ordered = durations_portable(requests, until)
            row[f"{name}_median"] = percentile_cont(ordered, MEDIAN)
            row[f"{name}_p90"] = percentile_cont(ordered, P90)

    total = row["total"]
    return HotelStats(
        hotel=hotel,
        period=period,
        all_departments=sees_all_departments(membership),
        total=total,
        by_status={status: row[f"status_{status}"] for status in RequestStatus.values},
        by_department=_by_department(membership, period),
        time_to_acknowledge=DurationSummary.of(row["acknowledged"], row["ack_median"], row["ack_p90"]),
        time_to_complete=DurationSummary.of(row["completed"], row["done_median"], row["done_p90"]),
        sla_breached=_share(row["breached"], total),
        escalated=_share(row["escalated"], total),
        escalations_by_level=[LevelCount(level=level, count=row[f"level_{level}"]) for level in ESCALATION_LEVELS],
        after_hours=_share(row["after_hours"], total),
        busiest_hours=_busiest_hours(requests, period.tz),
        ratings=_ratings(membership, period),
    )


def _by_department(membership: HotelMembership, period: Period) -> list[DepartmentStats]:
    """Every visible department with its counts; inactive ones only when they had requests."""
    in_period = Q(service_requests__created_at__gte=period.start, service_requests__created_at__lt=period.end)
    counts = {
        f"status_{status}": Count("service_requests", filter=in_period & Q(service_requests__status=status))
        for status in RequestStatus.values
    }
    rows = (
        departments_visible_to(membership)
        .annotate(total=Count("service_requests", filter=in_period), **counts)
        .filter(Q(is_active=True) | Q(total__gt=0))
        .order_by("display_order", "id")
        .values("id", "name_en", "name_ar", "is_active", "total", *counts)
    )
    return [
        DepartmentStats(
            id=row["id"],
            name_en=row["name_en"],
            name_ar=row["name_ar"],
            is_active=row["is_active"],
            total=row["total"],
            by_status={status: row[f"status_{status}"] for status in RequestStatus.values},
        )
        for row in rows
    ]


def _busiest_hours(requests: QuerySet[ServiceRequest], tz: ZoneInfo) -> list[HourCount]:
    """Requests per hour of the day on the hotel's clock, all 24 hours (zeros included)."""
    grouped = (
        requests.annotate(local_hour=ExtractHour("created_at", tzinfo=tz))
        .values("local_hour")
        .annotate(count=Count("pk"))
        .order_by("local_hour")
    )
    counts = {row["local_hour"]: row["count"] for row in grouped}
    return [HourCount(hour=hour, count=counts.get(hour, 0)) for hour in range(24)]


def _ratings(membership: HotelMembership, period: Period) -> RatingSummary:
    """The published reviews' ratings, all time (how many were written in the period too): every
    review of the hotel counts, those of requests without an experience included. Below ADMIN only
    the reviews of the member's departments' requests and experiences."""
    reviews = Review.objects.filter(hotel_id=membership.hotel_id, is_hidden=False)
    if not sees_all_departments(membership):
        visible = departments_visible_to(membership).values("pk")
        reviews = reviews.filter(
            Q(request__department__in=visible) | Q(request__isnull=True, experience__department__in=visible)
        )
    row = reviews.order_by().aggregate(
        total=Sum("rating"),
        count=Count("pk"),
        rated=Count("experience", distinct=True),
        in_period=Count("pk", filter=Q(created_at__gte=period.start, created_at__lt=period.end)),
        **{f"stars_{stars}": Count("pk", filter=Q(rating=stars)) for stars in RATINGS},
    )
    count = row["count"]
    return RatingSummary(
        rated_experiences=row["rated"],
        rating_count=count,
        rating_average=rating_average(row["total"] or 0, count) if count else None,
        distribution={str(stars): row[f"stars_{stars}"] for stars in RATINGS},
        in_period=row["in_period"],
    )
