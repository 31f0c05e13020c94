"""`after_hours` and `response_due_at` are fixed at creation from the department's hours, with a frozen clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from freezegun import freeze_time

from refuje.common.testing.concierge_factories import (
    DepartmentPolicyFactory,
    HoursOverrideFactory,
    WorkingWindowFactory,
)
from refuje.common.testing.factories import DepartmentFactory
from refuje.concierge.models import ServiceRequest
from refuje.concierge.selectors import department_hours, department_hours_for

from .conftest import build_scene

pytestmark = pytest.mark.django_db

THU, FRI = 3, 4


def create_at(scene, instant):
    with freeze_time(instant):
        response = scene.client(scene.guest).post(
            "/api/v1/guest/requests/",
            {"hotel": scene.hotel.slug, "department": scene.department.pk, "description": "Room service menu"},
            format="json",
        )
    assert response.status_code == 201, response.content
    return ServiceRequest.objects.get(pk=response.json()["id"])


@pytest.fixture
def riyadh_scene(db):
    """Housekeeping works 08:00-17:00 and 22:00-02:00 on Thursdays, Riyadh time (UTC+3)."""
    scene = build_scene(timezone="Asia/Riyadh")
    DepartmentPolicyFactory.create(department=scene.department, sla_minutes=20, after_hours_sla_minutes=90)
    WorkingWindowFactory.create(department=scene.department, weekday=THU, start=time(8), end=time(17))
    WorkingWindowFactory.create(department=scene.department, weekday=THU, start=time(22), end=time(2))
    return scene


@pytest.mark.parametrize(
    ("utc_instant", "after_hours", "minutes"),
    [
        # 2024-05-02 is a Thursday.
        ("2024-05-02T05:00:00", False, 20),  # 08:00 local, opening
        ("2024-05-02T13:59:00", False, 20),  # 16:59 local
        ("2024-05-02T14:00:00", True, 90),  # 17:00 local, closed
        ("2024-05-02T19:00:00", False, 20),  # 22:00 local, overnight window opens
        ("2024-05-02T22:30:00", False, 20),  # Fri 01:30 local: Thursday's overnight window still counts
        ("2024-05-02T23:00:00", True, 90),  # Fri 02:00 local, closed
        ("2024-05-03T07:00:00", True, 90),  # Fri 10:00 local, no Friday windows
    ],
)
def test_deadline_and_after_hours_follow_the_department_hours(riyadh_scene, utc_instant, after_hours, minutes):
    created = datetime.fromisoformat(utc_instant).replace(tzinfo=UTC)
    request = create_at(riyadh_scene, created)
    assert request.created_at == created
    assert request.after_hours is after_hours
    assert request.response_due_at == created + timedelta(minutes=minutes)


def test_holiday_override_closes_a_working_day(riyadh_scene):
    HoursOverrideFactory.create(
        department=riyadh_scene.department, start_date=date(2024, 5, 2), end_date=date(2024, 5, 2)
    )
    request = create_at(riyadh_scene, datetime(2024, 5, 2, 9, 0, tzinfo=UTC))  # 12:00 local, normally open
    assert request.after_hours is True
    assert request.response_due_at == datetime(2024, 5, 2, 10, 30, tzinfo=UTC)


def test_deadline_is_fixed_at_creation(riyadh_scene):
    request = create_at(riyadh_scene, datetime(2024, 5, 2, 6, 0, tzinfo=UTC))
    riyadh_scene.department.policy.sla_minutes = 5
    riyadh_scene.department.policy.save()
    request.refresh_from_db()
    assert request.response_due_at == datetime(2024, 5, 2, 6, 20, tzinfo=UTC)


def test_hotel_time_zone_decides_what_local_time_it_is(db):
    scene = build_scene(timezone="America/New_York")
    WorkingWindowFactory.create(department=scene.department, weekday=THU, start=time(8), end=time(17))
    # 13:00 UTC on Thursday 2024-05-02 is 09:00 in New York (EDT) but 16:00 in Riyadh.
    inside = create_at(scene, datetime(2024, 5, 2, 13, 0, tzinfo=UTC))
    outside = create_at(scene, datetime(2024, 5, 2, 22, 0, tzinfo=UTC))  # 18:00 in New York
    assert (inside.after_hours, outside.after_hours) == (False, True)


def test_department_without_hours_is_open_around_the_clock_with_default_sla(scene):
    request = create_at(scene, datetime(2024, 5, 3, 1, 0, tzinfo=UTC))
    assert request.after_hours is False
    assert request.response_due_at == datetime(2024, 5, 3, 1, 15, tzinfo=UTC)  # the 15-minute default


def test_department_hours_are_read_in_a_fixed_number_of_queries(django_assert_num_queries, riyadh_scene):
    departments = [riyadh_scene.department, *DepartmentFactory.create_batch(5, hotel=riyadh_scene.hotel)]
    for department in departments[1:]:
        WorkingWindowFactory.create(department=department, weekday=FRI)
    with django_assert_num_queries(3):
        found = department_hours_for(departments)
    assert set(found) == {department.pk for department in departments}
    assert found[riyadh_scene.department.pk].sla_minutes == 20
    assert found[departments[1].pk].sla_minutes == 15
    assert department_hours(riyadh_scene.department) == found[riyadh_scene.department.pk]
