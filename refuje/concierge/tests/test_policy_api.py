"""Department service policy: hours, response times and escalation contacts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from freezegun import freeze_time

from refuje.common.testing.factories import MembershipFactory
from refuje.compliance.models import AuditEvent
from refuje.concierge.models import DepartmentPolicy, EscalationContact, HoursOverride, WorkingWindow
from refuje.concierge.selectors import department_hours
from refuje.hotels.models import Role

pytestmark = pytest.mark.django_db


def url(scene, department=None):
    department = department or scene.department
    return f"/api/v1/hotels/{scene.hotel.slug}/departments/{department.pk}/policy/"


def full_policy(scene, **changes):
    body = {
        "sla_minutes": 10,
        "after_hours_sla_minutes": 45,
        "reminder_interval_minutes": 20,
        "windows": [
            {"weekday": 0, "start": "08:00", "end": "17:00"},
            {"weekday": 3, "start": "22:00", "end": "02:00"},
        ],
        "overrides": [
            {
                "start_date": "2025-03-01",
                "end_date": "2025-03-29",
                "label": "Ramadan",
                "windows": [
                    {"weekday": 0, "start": "20:00", "end": "03:00"},
                ],
            },
            {"start_date": "2025-03-30", "end_date": "2025-04-01", "closed": True, "label": "Eid"},
        ],
        "escalation_contacts": {"level_1": [scene.staff.pk], "level_2": [scene.admin.pk]},
    }
    body.update(changes)
    return body


def test_default_policy_is_shown_without_writing_anything(scene):
    response = scene.client(scene.viewer.user).get(url(scene))
    assert response.status_code == 200
    assert response.json() == {
        "department": scene.department.pk,
        "timezone": "Asia/Riyadh",
        "configured": False,
        "sla_minutes": 15,
        "after_hours_sla_minutes": 60,
        "reminder_interval_minutes": 30,
        "windows": [],
        "overrides": [],
        "escalation_contacts": {"level_1": [], "level_2": []},
        "is_after_hours_now": False,
        "updated_at": None,
    }
    assert not DepartmentPolicy.objects.exists()


def test_admin_replaces_the_policy(scene):
    response = scene.client(scene.admin.user).put(url(scene), full_policy(scene), format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["configured"] is True
    assert (body["sla_minutes"], body["after_hours_sla_minutes"], body["reminder_interval_minutes"]) == (10, 45, 20)
    assert body["windows"] == [
        {"weekday": 0, "start": "08:00", "end": "17:00"},
        {"weekday": 3, "start": "22:00", "end": "02:00"},
    ]
    assert body["overrides"][0]["windows"] == [{"weekday": 0, "start": "20:00", "end": "03:00"}]
    assert body["overrides"][1]["closed"] is True
    assert body["escalation_contacts"] == {"level_1": [scene.staff.pk], "level_2": [scene.admin.pk]}
    assert scene.client(scene.viewer.user).get(url(scene)).json() == body
    assert AuditEvent.objects.filter(action="department.policy_set").count() == 1

    hours = department_hours(scene.department)
    assert (hours.sla_minutes, hours.after_hours_sla_minutes, len(hours.windows), len(hours.overrides)) == (
        10,
        45,
        2,
        2,
    )

    # PUT replaces everything: lists left out become empty.
    again = scene.client(scene.admin.user).put(
        url(scene), {"sla_minutes": 5, "after_hours_sla_minutes": 5, "reminder_interval_minutes": 5}, format="json"
    )
    assert again.status_code == 200
    assert not WorkingWindow.objects.exists()
    assert not HoursOverride.objects.exists()
    assert not EscalationContact.objects.exists()


def test_is_after_hours_now_uses_the_stored_windows(scene):
    scene.client(scene.admin.user).put(url(scene), full_policy(scene), format="json")
    with freeze_time(datetime(2024, 5, 6, 6, 0, tzinfo=UTC)):  # Monday 09:00 in Riyadh
        assert scene.client(scene.viewer.user).get(url(scene)).json()["is_after_hours_now"] is False
    with freeze_time(datetime(2024, 5, 6, 16, 0, tzinfo=UTC)):  # Monday 19:00 in Riyadh
        assert scene.client(scene.viewer.user).get(url(scene)).json()["is_after_hours_now"] is True


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (
            {
                "windows": [
                    {"weekday": 0, "start": "08:00", "end": "12:00"},
                    {"weekday": 0, "start": "11:00", "end": "13:00"},
                ]
            },
            "windows",
        ),
        # Sunday night runs into Monday morning.
        (
            {
                "windows": [
                    {"weekday": 6, "start": "22:00", "end": "03:00"},
                    {"weekday": 0, "start": "02:00", "end": "05:00"},
                ]
            },
            "windows",
        ),
        ({"windows": [{"weekday": 7, "start": "08:00", "end": "12:00"}]}, "windows"),
        ({"windows": [{"weekday": 0, "start": "25:00", "end": "12:00"}]}, "windows"),
        ({"windows": [{"weekday": 0, "start": "08:00+03:00", "end": "12:00"}]}, "windows"),
        ({"overrides": [{"start_date": "2025-03-05", "end_date": "2025-03-01", "closed": True}]}, "overrides"),
        (
            {
                "overrides": [
                    {"start_date": "2025-03-01", "end_date": "2025-03-10", "closed": True},
                    {"start_date": "2025-03-10", "end_date": "2025-03-12", "closed": True},
                ]
            },
            "overrides",
        ),
        ({"overrides": [{"start_date": "2025-03-01", "end_date": "2025-03-02"}]}, "overrides"),
        (
            {
                "overrides": [
                    {
                        "start_date": "2025-03-01",
                        "end_date": "2025-03-02",
                        "closed": True,
                        "windows": [{"weekday": 0, "start": "08:00", "end": "12:00"}],
                    }
                ]
            },
            "overrides",
        ),
        (
            {
                "overrides": [
                    {
                        "start_date": "2025-03-01",
                        "end_date": "2025-03-02",
                        "windows": [
                            {"weekday": 0, "start": "08:00", "end": "12:00"},
                            {"weekday": 0, "start": "09:00", "end": "10:00"},
                        ],
                    }
                ]
            },
            "overrides",
        ),
        ({"sla_minutes": 0}, "sla_minutes"),
        ({"after_hours_sla_minutes": 10**9}, "after_hours_sla_minutes"),
        ({"escalation_contacts": {"level_1": [999_999_999]}}, "escalation_contacts"),
        ({"escalation_contacts": {"level_1": ["x"]}}, "escalation_contacts"),
    ],
)
def test_bad_policy_is_a_field_error_and_changes_nothing(scene, changes, field):
    client = scene.client(scene.admin.user)
    client.put(url(scene), full_policy(scene), format="json")
    before = client.get(url(scene)).json()

    response = client.put(url(scene), full_policy(scene, **changes), format="json")

    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert client.get(url(scene)).json() == before


def test_overlap_message_names_the_windows(scene):
    body = full_policy(
        scene,
        windows=[{"weekday": 0, "start": "08:00", "end": "12:00"}, {"weekday": 0, "start": "11:00", "end": "13:00"}],
    )
    response = scene.client(scene.admin.user).put(url(scene), body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.json()["windows"] == ["Monday 08:00-12:00 overlaps Monday 11:00-13:00."]


def test_escalation_contacts_must_be_active_members_of_this_hotel(scene):
    outsider = MembershipFactory.create(role=Role.ADMIN)
    scene.viewer.is_active = False
    scene.viewer.save()
    for membership in (outsider, scene.viewer):
        body = full_policy(scene, escalation_contacts={"level_2": [membership.pk]})
        response = scene.client(scene.admin.user).put(url(scene), body, format="json")
        assert response.status_code == 400
        assert "escalation_contacts" in response.json()


def test_staff_cannot_change_the_policy_and_other_hotels_departments_are_404(scene):
    assert scene.client(scene.staff.user).put(url(scene), full_policy(scene), format="json").status_code == 403
    outsider = MembershipFactory.create(role=Role.ADMIN)
    foreign = f"/api/v1/hotels/{outsider.hotel.slug}/departments/{scene.department.pk}/policy/"
    assert scene.client(outsider.user).get(foreign).status_code == 404
    assert scene.client(outsider.user).put(foreign, full_policy(scene), format="json").status_code == 404
    assert not DepartmentPolicy.objects.exists()


def test_a_department_with_only_its_hours_configured_can_still_be_deleted(scene):
    client = scene.client(scene.admin.user)
    assert client.put(url(scene, scene.other_department), full_policy(scene), format="json").status_code == 200
    response = client.delete(f"/api/v1/hotels/{scene.hotel.slug}/departments/{scene.other_department.pk}/")
    assert response.status_code == 204
    assert not DepartmentPolicy.objects.exists()
    assert not WorkingWindow.objects.exists()
    assert not HoursOverride.objects.exists()


def test_a_department_with_requests_is_kept_whatever_its_hours(scene):
    client = scene.client(scene.admin.user)
    client.put(url(scene), full_policy(scene), format="json")
    scene.request()
    scene.department.memberships.clear()
    response = client.delete(f"/api/v1/hotels/{scene.hotel.slug}/departments/{scene.department.pk}/")
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert DepartmentPolicy.objects.filter(department=scene.department).exists()
