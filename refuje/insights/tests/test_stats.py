"""Hotel statistics: exact numbers on a hand-built dataset, scoping, time zones, periods, queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time

from refuje.bookings.models import BookingStatus
from refuje.common.testing.booking_factories import BookingFactory
from refuje.common.testing.concierge_factories import GuestStayFactory, ServiceRequestFactory
from refuje.common.testing.factories import DepartmentFactory, HotelFactory, MembershipFactory
from refuje.common.testing.tenancy import browser_client
from refuje.concierge.models import RequestStatus, ServiceRequest
from refuje.experiences.tests.factories import ExperienceFactory
from refuje.hotels.models import Department, Hotel, HotelMembership, Role
from refuje.insights import selectors
from refuje.reviews.models import Review

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)
T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)  # 12:00 in Riyadh
MINUTE = timedelta(minutes=1)
ZERO_STATUSES = dict.fromkeys(RequestStatus.values, 0)
NO_RATINGS = {
    "rated_experiences": 0,
    "rating_count": 0,
    "rating_average": None,
    "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
    "in_period": 0,
}


def seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


def make(
    hotel, department, created, *, due_after=15 * MINUTE, ack_after=None, done_after=None, closed_after=None, **fields
):
    """A request created at `created`, with every time given as an offset from it."""
    status = fields.pop("status", RequestStatus.NEW)
    return ServiceRequestFactory.create(
        hotel=hotel,
        stay=fields.pop("stay", None) or GuestStayFactory.create(hotel=hotel),
        department=department,
        status=status,
        created_at=created,
        updated_at=created,
        response_due_at=created + due_after,
        acknowledged_at=created + ack_after if ack_after is not None else None,
        completed_at=created + done_after if done_after is not None else None,
        closed_at=created + closed_after if closed_after is not None else None,
        **fields,
    )


@dataclass
class World:
    hotel: Hotel
    housekeeping: Department
    maintenance: Department
    admin: HotelMembership
    staff: HotelMembership
    viewer: HotelMembership

    @property
    def url(self) -> str:
        return f"/api/v1/hotels/{self.hotel.slug}/stats/"


def build_world(timezone="Asia/Riyadh") -> World:
    hotel = HotelFactory.create(timezone=timezone)
    housekeeping = DepartmentFactory.create(hotel=hotel, name_en="Housekeeping", name_ar="التدبير المنزلي")
    maintenance = DepartmentFactory.create(hotel=hotel, name_en="Maintenance", name_ar="الصيانة", display_order=1)
    staff = MembershipFactory.create(hotel=hotel, role=Role.STAFF)
    staff.departments.add(housekeeping)
    return World(
        hotel=hotel,
        housekeeping=housekeeping,
        maintenance=maintenance,
        admin=MembershipFactory.create(hotel=hotel, role=Role.ADMIN),
        staff=staff,
        viewer=MembershipFactory.create(hotel=hotel, role=Role.VIEWER),
    )


def build_dataset(world: World) -> None:
    """Eight requests in the default period (the last 30 days before NOW), plus noise outside it."""
    hotel, hk, mt = world.hotel, world.housekeeping, world.maintenance
    hour = timedelta(hours=1)
    # Housekeeping
    first = make(
        hotel,
        hk,
        T0,
        ack_after=seconds(60),
        done_after=seconds(600),
        closed_after=seconds(600),
        status=RequestStatus.COMPLETED,
    )
    make(hotel, hk, T0 + hour, ack_after=seconds(120), status=RequestStatus.IN_PROGRESS)
    # Acknowledged 30 minutes in against a 15-minute deadline: a breach, escalated once.
    make(
        hotel,
        hk,
        T0 + 2 * hour,
        ack_after=seconds(1800),
        done_after=seconds(3600),
        closed_after=seconds(3600),
        status=RequestStatus.COMPLETED,
        escalation_level=1,
        after_hours=True,
    )
    # Never acknowledged and long past its deadline: a breach, escalated twice.
    make(hotel, hk, T0 + 3 * hour, escalation_level=2)
    # Maintenance
    # Cancelled by the guest five minutes in, before its deadline: no breach.
    make(hotel, mt, T0 + 4 * hour, closed_after=5 * MINUTE, status=RequestStatus.CANCELLED)
    # Expired two hours in, never acknowledged: a breach.
    make(
        hotel,
        mt,
        T0 + 5 * hour,
        closed_after=2 * hour,
        status=RequestStatus.EXPIRED,
        escalation_level=1,
        after_hours=True,
    )
    # 01:30 in Riyadh on 10 March, under the one-hour after-hours deadline.
    make(
        hotel,
        mt,
        datetime(2025, 3, 9, 22, 30, tzinfo=UTC),
        due_after=60 * MINUTE,
        ack_after=seconds(300),
        closed_after=seconds(400),
        status=RequestStatus.DECLINED,
        after_hours=True,
    )
    # Five minutes old, due in ten: not a breach yet.
    make(hotel, mt, NOW - 5 * MINUTE, after_hours=True)

    # Outside the period, and another hotel's: never counted.
    make(
        hotel, hk, datetime(2025, 1, 1, 9, 0, tzinfo=UTC), status=RequestStatus.EXPIRED, closed_after=timedelta(days=1)
    )
    other = HotelFactory.create()
    make(other, DepartmentFactory.create(hotel=other), T0, ack_after=seconds(5), escalation_level=2)

    # Reviews count all time; `in_period` only those written in the period. Hidden ones never count.
    spa = ExperienceFactory.create(hotel=hotel, department=hk)
    gym = ExperienceFactory.create(hotel=hotel, department=mt)
    ExperienceFactory.create(hotel=hotel, department=hk)  # not rated yet
    review_of_booking(spa, 5, T0 + hour)
    review_of_booking(spa, 4, datetime(2025, 1, 2, 9, 0, tzinfo=UTC))
    review_of_booking(gym, 3, T0)
    review_of_booking(gym, 1, T0, is_hidden=True)
    review_of_request(first, 2, T0 + 2 * hour)  # a housekeeping request about no experience
    review_of_booking(ExperienceFactory.create(hotel=other), 1, T0)


def review_of_booking(experience, rating, at, **fields) -> Review:
    booking = BookingFactory.create(hotel=experience.hotel, experience=experience, status=BookingStatus.COMPLETED)
    return Review.objects.create(
        hotel=experience.hotel,
        author=booking.customer,
        booking=booking,
        experience=experience,
        staff=booking.staff,
        rating=rating,
        created_at=at,
        **fields,
    )


def review_of_request(request, rating, at) -> Review:
    return Review.objects.create(
        hotel=request.hotel, author=request.stay.guest, request=request, rating=rating, created_at=at
    )


def get_stats(world: World, member: HotelMembership, query: str = "", language: str = "en"):
    return browser_client(member.user).get(world.url + query, HTTP_ACCEPT_LANGUAGE=language)


@pytest.fixture
def world() -> World:
    return build_world()


@freeze_time(NOW)
def test_admin_sees_exact_numbers_of_the_whole_hotel(world):
    build_dataset(world)

    response = get_stats(world, world.admin)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["hotel"] == world.hotel.slug
    assert body["scope"] == "hotel"
    assert body["period"] == {
        "from": "2025-02-18T15:00:00+03:00",
        "to": "2025-03-20T15:00:00+03:00",
        "timezone": "Asia/Riyadh",
    }
    assert body["total"] == 8
    assert body["by_status"] == {
        **ZERO_STATUSES,
        "NEW": 2,
        "IN_PROGRESS": 1,
        "COMPLETED": 2,
        "DECLINED": 1,
        "CANCELLED": 1,
        "EXPIRED": 1,
    }
    assert body["by_department"] == [
        {
            "id": world.housekeeping.pk,
            "name": "Housekeeping",
            "name_en": "Housekeeping",
            "name_ar": "التدبير المنزلي",
            "is_active": True,
            "total": 4,
            "by_status": {**ZERO_STATUSES, "NEW": 1, "IN_PROGRESS": 1, "COMPLETED": 2},
        },
        {
            "id": world.maintenance.pk,
            "name": "Maintenance",
            "name_en": "Maintenance",
            "name_ar": "الصيانة",
            "is_active": True,
            "total": 4,
            "by_status": {**ZERO_STATUSES, "NEW": 1, "DECLINED": 1, "CANCELLED": 1, "EXPIRED": 1},
        },
    ]
    # Acknowledged after 60, 120, 300 and 1800 s; completed after 600 and 3600 s.
    assert body["time_to_acknowledge"] == {"count": 4, "median_seconds": 210.0, "p90_seconds": 1350.0}
    assert body["time_to_complete"] == {"count": 2, "median_seconds": 2100.0, "p90_seconds": 3300.0}
    assert body["sla_breach"] == {"count": 3, "rate": 0.375}
    assert body["escalations"] == {
        "count": 3,
        "rate": 0.375,
        "by_level": [{"level": 1, "count": 2}, {"level": 2, "count": 1}],
    }
    assert body["after_hours"] == {"count": 4, "rate": 0.5}
    hours = {entry["hour"]: entry["count"] for entry in body["busiest_hours"]}
    assert [entry["hour"] for entry in body["busiest_hours"]] == list(range(24))
    assert {hour: count for hour, count in hours.items() if count} == {1: 1, 12: 1, 13: 1, 14: 2, 15: 1, 16: 1, 17: 1}
    assert body["ratings"] == {
        "rated_experiences": 2,
        "rating_count": 4,
        "rating_average": 3.5,
        "distribution": {"1": 0, "2": 1, "3": 1, "4": 1, "5": 1},
        "in_period": 3,
    }


@freeze_time(NOW)
def test_staff_see_only_their_departments_numbers(world):
    build_dataset(world)

    body = get_stats(world, world.staff).json()

    assert body["scope"] == "departments"
    assert body["total"] == 4
    assert body["by_status"] == {**ZERO_STATUSES, "NEW": 1, "IN_PROGRESS": 1, "COMPLETED": 2}
    assert [department["id"] for department in body["by_department"]] == [world.housekeeping.pk]
    assert body["time_to_acknowledge"] == {"count": 3, "median_seconds": 120.0, "p90_seconds": 1464.0}
    assert body["time_to_complete"] == {"count": 2, "median_seconds": 2100.0, "p90_seconds": 3300.0}
    assert body["sla_breach"] == {"count": 2, "rate": 0.5}
    assert body["escalations"]["by_level"] == [{"level": 1, "count": 1}, {"level": 2, "count": 1}]
    assert body["after_hours"] == {"count": 1, "rate": 0.25}
    assert sum(entry["count"] for entry in body["busiest_hours"]) == 4
    # Their department's experience and request reviews only.
    assert body["ratings"] == {
        "rated_experiences": 1,
        "rating_count": 3,
        "rating_average": 3.67,
        "distribution": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1},
        "in_period": 2,
    }


@freeze_time(NOW)
def test_staff_without_departments_get_zeros(world):
    build_dataset(world)
    lonely = MembershipFactory.create(hotel=world.hotel, role=Role.STAFF)

    body = get_stats(world, lonely).json()

    assert body["total"] == 0
    assert body["by_department"] == []
    assert body["ratings"] == NO_RATINGS


def test_viewers_may_not_see_stats(world):
    response = get_stats(world, world.viewer)

    assert response.status_code == 403
    assert response.json()["code"] == "role_too_low"


@freeze_time(NOW)
def test_an_empty_hotel_gets_zeros_not_errors(world):
    body = get_stats(world, world.admin).json()

    assert body["total"] == 0
    assert body["by_status"] == ZERO_STATUSES
    assert [department["total"] for department in body["by_department"]] == [0, 0]
    assert body["time_to_acknowledge"] == {"count": 0, "median_seconds": None, "p90_seconds": None}
    assert body["time_to_complete"] == {"count": 0, "median_seconds": None, "p90_seconds": None}
    assert body["sla_breach"] == {"count": 0, "rate": 0.0}
    assert body["escalations"] == {
        "count": 0,
        "rate": 0.0,
        "by_level": [{"level": 1, "count": 0}, {"level": 2, "count": 0}],
    }
    assert body["after_hours"] == {"count": 0, "rate": 0.0}
    assert body["busiest_hours"] == [{"hour": hour, "count": 0} for hour in range(24)]
    assert body["ratings"] == NO_RATINGS


@freeze_time(NOW)
def test_an_inactive_department_is_listed_only_when_it_had_requests(world):
    closed = DepartmentFactory.create(hotel=world.hotel, is_active=False, display_order=5)
    also_closed = DepartmentFactory.create(hotel=world.hotel, is_active=False, display_order=6)
    make(world.hotel, closed, T0)

    body = get_stats(world, world.admin).json()

    listed = {department["id"]: department for department in body["by_department"]}
    assert listed[closed.pk]["is_active"] is False
    assert listed[closed.pk]["total"] == 1
    assert also_closed.pk not in listed


@freeze_time(NOW)
def test_department_names_follow_the_request_language(world):
    body = get_stats(world, world.admin, language="ar").json()

    assert [department["name"] for department in body["by_department"]] == ["التدبير المنزلي", "الصيانة"]


# --- Time zones and periods -----------------------------------------------------------------


@freeze_time(NOW)
def test_busiest_hours_are_counted_on_the_hotels_clock():
    late_evening = datetime(2025, 3, 10, 22, 30, tzinfo=UTC)  # 01:30 the next day in Riyadh
    hours = {}
    for timezone in ("Asia/Riyadh", "UTC"):
        world = build_world(timezone)
        make(world.hotel, world.housekeeping, late_evening)
        make(world.hotel, world.housekeeping, late_evening + 10 * MINUTE)
        body = get_stats(world, world.admin).json()
        hours[timezone] = {entry["hour"]: entry["count"] for entry in body["busiest_hours"] if entry["count"]}

    assert hours == {"Asia/Riyadh": {1: 2}, "UTC": {22: 2}}


@freeze_time(NOW)
def test_dates_in_the_period_are_the_hotels_local_days():
    late_evening = datetime(2025, 3, 10, 22, 30, tzinfo=UTC)  # 11 March in Riyadh, 10 March in UTC
    totals = {}
    for timezone in ("Asia/Riyadh", "UTC"):
        world = build_world(timezone)
        make(world.hotel, world.housekeeping, late_evening)
        body = get_stats(world, world.admin, "?from=2025-03-11&to=2025-03-11").json()
        totals[timezone] = (body["total"], body["period"]["from"], body["period"]["to"])

    assert totals == {
        "Asia/Riyadh": (1, "2025-03-11T00:00:00+03:00", "2025-03-12T00:00:00+03:00"),
        "UTC": (0, "2025-03-11T00:00:00+00:00", "2025-03-12T00:00:00+00:00"),
    }


@freeze_time(NOW)
@pytest.mark.parametrize(
    ("query", "expected_total"),
    [
        ("?from=2025-03-10T12:00:00%2B03:00&to=2025-03-10T13:00:00%2B03:00", 1),  # [start, end): only 12:00
        ("?from=2025-03-10T12:00&to=2025-03-10T13:00:01", 2),  # no offset: Riyadh time
        ("?from=2025-03-10T09:00:00Z&to=2025-03-10T09:00:00Z", 0),  # an empty period is fine
        ("?to=2025-03-10", 2),  # the 30 days up to the end of 10 March
        ("?from=2025-03-10T13:00", 1),  # until now
        ("?from=&to=", 2),  # empty form fields: the last 30 days
    ],
)
def test_period_boundaries(world, query, expected_total):
    make(world.hotel, world.housekeeping, T0)  # 12:00 Riyadh
    make(world.hotel, world.housekeeping, T0 + timedelta(hours=1))  # 13:00 Riyadh
    make(world.hotel, world.housekeeping, datetime(2025, 2, 1, tzinfo=UTC))  # before every period above

    response = get_stats(world, world.admin, query)

    assert response.status_code == 200, response.content
    assert response.json()["total"] == expected_total


@freeze_time(NOW)
@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("?from=2025-03-11&to=2025-03-10", "period_reversed"),
        ("?from=2025-03-10T12:00:01&to=2025-03-10T12:00", "period_reversed"),
        ("?from=2025-03-21", "period_reversed"),  # a start after now, with no end given
        ("?from=2024-01-01&to=2025-01-01", "period_too_long"),  # 367 days
        ("?to=9999-12-31", "period_out_of_range"),
        ("?from=0001-01-01&to=0001-01-02", "period_out_of_range"),
    ],
)
def test_bad_periods_are_a_clear_400(world, query, code):
    response = get_stats(world, world.admin, query)

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == code
    assert body["detail"]


@pytest.mark.parametrize(
    "query", ["?from=yesterday", "?to=2025-02-30", "?from=2025-13-01", "?to=" + "9" * 60, "?from=2025-03-10T25:00"]
)
def test_unreadable_dates_are_field_errors(world, query):
    response = get_stats(world, world.admin, query)

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    field = query[1:].split("=")[0]
    assert "ISO date" in body[field][0]


def test_a_year_of_366_local_days_is_allowed_even_across_dst(world):
    world.hotel.timezone = "America/New_York"
    world.hotel.save()

    leap_year = get_stats(world, world.admin, "?from=2024-01-01&to=2024-12-31")
    # 366 local days, but 366 days and one hour in UTC: DST ended in between.
    across_dst = get_stats(world, world.admin, "?from=2023-11-04&to=2024-11-03")

    assert leap_year.status_code == 200, leap_year.content
    assert across_dst.status_code == 200, across_dst.content
    assert across_dst.json()["period"]["from"] == "2023-11-04T00:00:00-04:00"
    assert across_dst.json()["period"]["to"] == "2024-11-04T00:00:00-05:00"


def test_another_hotels_member_gets_404_even_with_a_bad_period(world):
    stranger = MembershipFactory.create(role=Role.ADMIN)

    response = get_stats(world, stranger, "?from=2025-03-11&to=2025-03-10")

    assert response.status_code == 404


# --- Percentiles ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([], 0.5, None),
        ([7.0], 0.9, 7.0),
        ([60.0, 120.0, 300.0, 1800.0], 0.5, 210.0),
        ([60.0, 120.0, 300.0, 1800.0], 0.9, 1350.0),
        ([1.0, 2.0], 0.0, 1.0),
        ([1.0, 2.0], 1.0, 2.0),
    ],
)
def test_portable_percentile_interpolates_like_postgresql(values, fraction, expected):
    result = selectors.percentile_cont(values, fraction)
    assert result == (pytest.approx(expected) if expected is not None else None)


@freeze_time(NOW)
def test_portable_percentiles_match_the_database_aggregate(world):
    build_dataset(world)
    for index in range(23):  # irregular durations, so the interpolation is exercised
        make(
            world.hotel,
            world.housekeeping,
            T0 + index * MINUTE,
            ack_after=seconds(7 + index**2 * 1.37),
            done_after=seconds(500 + index * 31.5),
            status=RequestStatus.COMPLETED,
        )
    period = selectors.stats_period(hotel=world.hotel)
    requests = ServiceRequest.objects.filter(hotel=world.hotel, created_at__gte=period.start, created_at__lt=period.end)

    stats = selectors.hotel_stats(membership=world.admin, period=period)

    for summary, until in ((stats.time_to_acknowledge, "acknowledged_at"), (stats.time_to_complete, "completed_at")):
        ordered = selectors.durations_portable(requests, until)
        assert summary.count == len(ordered)
        median, p90 = selectors.percentile_cont(ordered, 0.5), selectors.percentile_cont(ordered, 0.9)
        assert median is not None
        assert p90 is not None
        assert summary.median_seconds == round(median, 3)
        assert summary.p90_seconds == round(p90, 3)


def test_percentile_fraction_must_be_between_0_and_1():
    with pytest.raises(ValueError, match="between 0 and 1"):
        selectors.PercentileCont("created_at", fraction=1.5)


# --- Queries --------------------------------------------------------------------------------


def populate(world: World, count: int) -> None:
    """`count` requests over both departments, every status, several hours and escalation levels."""
    statuses = RequestStatus.values
    stay = GuestStayFactory.create(hotel=world.hotel)
    for index in range(count):
        created = T0 + index * 37 * MINUTE
        make(
            world.hotel,
            world.housekeeping if index % 2 else world.maintenance,
            created,
            stay=stay,
            status=statuses[index % len(statuses)],
            ack_after=seconds(30 + index) if index % 3 else None,
            done_after=seconds(900 + index) if index % 4 == 0 else None,
            escalation_level=index % 3,
            after_hours=bool(index % 5),
        )
    for index in range(min(count, 5)):
        experience = ExperienceFactory.create(hotel=world.hotel, department=world.housekeeping)
        review_of_booking(experience, 1 + index, T0)


def stats_queries(world: World, member: HotelMembership) -> int:
    client = browser_client(member.user)
    client.get(world.url)  # warm-up: first-request work is not per item
    with CaptureQueriesContext(connection) as queries:
        response = client.get(world.url)
    assert response.status_code == 200
    return len(queries.captured_queries)


@freeze_time(NOW)
@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
def test_the_number_of_queries_does_not_grow_with_the_data(django_assert_max_num_queries, role):
    small, large = build_world(), build_world()
    populate(small, 1)
    populate(large, 200)
    member = {Role.STAFF: "staff", Role.ADMIN: "admin"}[role]

    with_one = stats_queries(small, getattr(small, member))
    client = browser_client(getattr(large, member).user)
    client.get(large.url)
    with django_assert_max_num_queries(with_one):
        response = client.get(large.url)

    assert response.json()["total"] == (200 if role == Role.ADMIN else 100)
    assert with_one <= 10
