"""The hotel health page: escalation heartbeat, the other jobs, and requests waiting unnoticed."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory
from django.utils import timezone, translation

from refuje.common.admin import JobHeartbeatAdmin
from refuje.common.models import JobHeartbeat
from refuje.common.testing.concierge_factories import ServiceRequestFactory
from refuje.common.testing.factories import UserFactory
from refuje.common.testing.tenancy import browser_client
from refuje.concierge.admin import EscalationHeartbeatAdmin
from refuje.concierge.escalation import escalation_run
from refuje.concierge.models import EscalationHeartbeat, RequestStatus

pytestmark = pytest.mark.django_db

SCHEDULE = {
    "escalate-requests": {"task": "refuje.concierge.escalate_requests", "schedule": 60.0},
    "expire-requests": {"task": "refuje.concierge.expire_requests", "schedule": 300.0},
    "otp-sms-fallback-sweep": {"task": "refuje.accounts.sms_fallback_sweep", "schedule": 15.0},
}


@pytest.fixture(autouse=True)
def schedule(settings):
    settings.CELERY_BEAT_SCHEDULE = SCHEDULE
    settings.ESCALATION_HEARTBEAT_MAX_AGE_SECONDS = 300
    settings.JOB_HEALTH_STALE_FACTOR = 3


def health(scene, user=None):
    response = browser_client(user or scene.viewer.user).get(f"/api/v1/hotels/{scene.hotel.slug}/health/")
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    return response.json()


def overdue(scene, minutes, **fields):
    created = timezone.now() - timedelta(minutes=minutes + 15)
    return scene.request(created_at=created, response_due_at=created + timedelta(minutes=15), **fields)


def test_before_any_run_everything_is_reported_as_never_ran(scene):
    body = health(scene)
    assert body["healthy"] is False
    assert body["escalation"] == {
        "state": "never_ran",
        "healthy": False,
        "last_run_at": None,
        "age_seconds": None,
        "max_age_seconds": 300,
        "last_duration_ms": None,
        "escalated_in_last_run": None,
        "last_error": "",
    }
    assert [(job["name"], job["task"], job["state"]) for job in body["jobs"]] == [
        ("expire-requests", "refuje.concierge.expire_requests", "never_ran"),
        ("otp-sms-fallback-sweep", "refuje.accounts.sms_fallback_sweep", "never_ran"),
    ]


def test_after_the_jobs_ran_everything_is_healthy(scene):
    overdue(scene, 5)
    escalation_run()
    now = timezone.now()
    for task in ("refuje.concierge.expire_requests", "refuje.accounts.sms_fallback_sweep"):
        JobHeartbeat.objects.create(
            name=task, last_started_at=now, last_finished_at=now, last_ok=True, last_duration_ms=12, runs=3
        )

    body = health(scene)

    assert body["healthy"] is True
    escalation = body["escalation"]
    assert (escalation["state"], escalation["healthy"], escalation["escalated_in_last_run"]) == ("ok", True, 1)
    assert escalation["age_seconds"] <= 5
    assert escalation["last_run_at"] is not None
    assert escalation["last_duration_ms"] is not None
    sweep = body["jobs"][1]
    assert sweep["state"] == "ok"
    assert sweep["healthy"] is True
    assert (sweep["period_seconds"], sweep["stale_after_seconds"], sweep["runs"]) == (15, 60, 3)
    assert (sweep["last_ok"], sweep["last_duration_ms"], sweep["last_error"]) == (True, 12, "")


def test_a_stale_or_failing_job_makes_the_hotel_unhealthy(scene):
    long_ago = timezone.now() - timedelta(minutes=20)
    EscalationHeartbeat.objects.create(last_run_at=long_ago, last_duration_ms=4, escalated_count=0)
    JobHeartbeat.objects.create(
        name="refuje.concierge.expire_requests",
        last_started_at=long_ago,
        last_finished_at=long_ago,
        last_ok=True,
    )
    JobHeartbeat.objects.create(
        name="refuje.accounts.sms_fallback_sweep",
        last_started_at=timezone.now(),
        last_finished_at=timezone.now(),
        last_ok=False,
        last_error="OperationalError: the database went away",
    )

    body = health(scene)

    assert body["healthy"] is False
    assert (body["escalation"]["state"], body["escalation"]["healthy"]) == ("stale", False)
    assert body["escalation"]["age_seconds"] >= 1200
    assert [(job["state"], job["healthy"]) for job in body["jobs"]] == [("stale", False), ("failing", False)]
    assert body["jobs"][1]["last_error"] == "OperationalError: the database went away"

    EscalationHeartbeat.objects.filter(pk=1).update(last_run_at=timezone.now(), last_error="ValueError: boom")
    assert health(scene)["escalation"]["state"] == "failing"


def test_waiting_numbers_count_unanswered_requests_of_this_hotel(scene):
    overdue(scene, 10)
    overdue(scene, 40, escalation_level=1)
    overdue(scene, 90, escalation_level=2)
    overdue(scene, 5, department=scene.other_department)
    scene.request()  # not due yet
    overdue(scene, 50, status=RequestStatus.ACKNOWLEDGED, escalation_level=1)  # answered
    ServiceRequestFactory.create(
        response_due_at=timezone.now() + timedelta(minutes=1), escalation_level=2
    )  # another hotel's

    admin_view = health(scene, scene.admin.user)["waiting"]
    assert admin_view == {
        "all_departments": True,
        "overdue": 4,
        "oldest_due_at": admin_view["oldest_due_at"],
        "escalated_level_1": 1,
        "escalated_level_2": 1,
    }

    # Below ADMIN only the member's departments count: the staff member works in the first one.
    staff_view = health(scene, scene.staff.user)["waiting"]
    assert (staff_view["all_departments"], staff_view["overdue"]) == (False, 3)
    viewer_view = health(scene, scene.viewer.user)["waiting"]
    assert (viewer_view["overdue"], viewer_view["escalated_level_1"]) == (0, 0)


def test_the_oldest_missed_deadline_is_reported(scene):
    oldest = overdue(scene, 90)
    overdue(scene, 10)
    body = health(scene, scene.admin.user)
    reported = body["waiting"]["oldest_due_at"]
    assert datetime.fromisoformat(reported) == oldest.response_due_at


# --- Admin ----------------------------------------------------------------------------------


def test_the_admin_shows_heartbeats_read_only_with_their_health(scene):
    request = RequestFactory().get("/admin/")
    request.user = UserFactory.create(is_superuser=True, is_staff=True)
    now = timezone.now()
    job_admin = JobHeartbeatAdmin(JobHeartbeat, site)
    fresh = JobHeartbeat.objects.create(
        name="refuje.accounts.sms_fallback_sweep", last_started_at=now, last_finished_at=now, last_ok=True
    )
    old = JobHeartbeat.objects.create(
        name="refuje.concierge.expire_requests",
        last_started_at=now - timedelta(hours=1),
        last_finished_at=now - timedelta(hours=1),
        last_ok=True,
    )
    escalation_admin = EscalationHeartbeatAdmin(EscalationHeartbeat, site)
    beat = EscalationHeartbeat.objects.create(last_run_at=now)

    with translation.override("en"):
        assert job_admin.health(fresh) == "healthy"
        assert job_admin.health(old) == "stale"
        assert escalation_admin.health(beat) == "healthy"
        beat.last_run_at = now - timedelta(hours=1)
        assert escalation_admin.health(beat) == "stale"
    for model_admin in (job_admin, escalation_admin):
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)


def test_the_admin_pages_render(scene, client):
    client.force_login(UserFactory.create(is_superuser=True, is_staff=True))
    JobHeartbeat.objects.create(name="refuje.accounts.otp_cleanup", last_started_at=timezone.now())
    EscalationHeartbeat.objects.create(last_run_at=timezone.now())
    for url in (
        "/admin/common/jobheartbeat/",
        "/admin/common/jobheartbeat/refuje.accounts.otp_cleanup/change/",
        "/admin/concierge/escalationheartbeat/",
        "/admin/concierge/escalationheartbeat/1/change/",
    ):
        assert client.get(url).status_code == 200, url
