"""Request expiry, and the concierge jobs run through Celery's own execution path."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from freezegun import freeze_time

from refuje.common.testing.concierge_factories import GuestStayFactory
from refuje.concierge.escalation import expiry_run
from refuje.concierge.events import request_event
from refuje.concierge.models import EscalationHeartbeat, RequestActivity, RequestStatus, ServiceRequest
from refuje.concierge.tasks import escalate_requests_task, expire_requests_task
from refuje.stays.models import StayStatus

pytestmark = pytest.mark.django_db

T0 = "2026-03-01 09:00:00+00:00"


@pytest.fixture(autouse=True)
def english():
    """Reasons are asserted in English; jobs otherwise write them in the default language, Arabic."""
    with translation.override("en"):
        yield


@pytest.fixture
def heard():
    events = []

    def listener(sender, kind, request, activity, **kwargs):
        events.append((kind, request.pk, activity.action))

    request_event.connect(listener, weak=False, dispatch_uid="jobs-test-listener")
    yield events
    request_event.disconnect(dispatch_uid="jobs-test-listener")


def old_request(scene, *, hours, **fields):
    at = timezone.now() - timedelta(hours=hours)
    return scene.request(created_at=at, response_due_at=at + timedelta(minutes=15), **fields)


def expiries(request):
    return list(RequestActivity.objects.filter(request=request, action="expire").values_list("note", flat=True))


def status_of(request):
    return ServiceRequest.objects.get(pk=request.pk).status


def test_requests_of_an_ended_stay_expire_unless_someone_works_on_them(
    scene, heard, django_capture_on_commit_callbacks
):
    stay = GuestStayFactory.create(hotel=scene.hotel, status=StayStatus.CHECKED_OUT)
    new = scene.request(stay=stay)
    acknowledged = scene.request(stay=stay, status=RequestStatus.ACKNOWLEDGED)
    in_progress = scene.request(stay=stay, status=RequestStatus.IN_PROGRESS)
    confirmed = scene.request(stay=stay, status=RequestStatus.CONFIRMED)
    on_active_stay = scene.request()

    with django_capture_on_commit_callbacks(execute=True):
        result = expiry_run()

    assert sorted(result.expired) == sorted([new.pk, acknowledged.pk])
    assert [status_of(r) for r in (new, acknowledged, in_progress, confirmed, on_active_stay)] == [
        RequestStatus.EXPIRED,
        RequestStatus.EXPIRED,
        RequestStatus.IN_PROGRESS,
        RequestStatus.CONFIRMED,
        RequestStatus.NEW,
    ]
    assert expiries(new) == expiries(acknowledged) == ["The stay has ended."]
    assert sorted(heard) == sorted(
        [("request.updated", new.pk, "expire"), ("request.updated", acknowledged.pk, "expire")]
    )
    activity = RequestActivity.objects.get(request=acknowledged, action="expire")
    assert (activity.from_status, activity.to_status, activity.actor) == (
        RequestStatus.ACKNOWLEDGED,
        RequestStatus.EXPIRED,
        None,
    )


def test_new_requests_nobody_acknowledged_in_time_expire(scene, settings):
    settings.REQUEST_EXPIRE_UNACKNOWLEDGED_HOURS = 24
    stale = old_request(scene, hours=25)
    recent = old_request(scene, hours=23)
    acknowledged = old_request(scene, hours=25, status=RequestStatus.ACKNOWLEDGED)

    assert expiry_run().expired == [stale.pk]

    assert [status_of(r) for r in (stale, recent, acknowledged)] == [
        RequestStatus.EXPIRED,
        RequestStatus.NEW,
        RequestStatus.ACKNOWLEDGED,
    ]
    assert expiries(stale) == ["Nobody acknowledged the request in time."]
    closed = ServiceRequest.objects.get(pk=stale.pk).closed_at
    assert closed is not None


def test_the_unacknowledged_limit_is_a_setting(scene, settings):
    request = old_request(scene, hours=3)
    settings.REQUEST_EXPIRE_UNACKNOWLEDGED_HOURS = 4
    assert expiry_run().expired == []
    settings.REQUEST_EXPIRE_UNACKNOWLEDGED_HOURS = 2
    assert expiry_run().expired == [request.pk]


def test_a_repeated_expiry_run_changes_nothing(scene):
    stay = GuestStayFactory.create(hotel=scene.hotel, status=StayStatus.CANCELLED)
    request = scene.request(stay=stay)
    assert expiry_run().expired == [request.pk]
    assert expiry_run().expired == []
    assert len(expiries(request)) == 1


# --- Celery tasks ---------------------------------------------------------------------------


def test_escalate_task_runs_the_escalation_through_celery(scene):
    with freeze_time(T0) as clock:
        request = scene.request(response_due_at=timezone.now())
        clock.tick(timedelta(minutes=1))

        outcome = escalate_requests_task.apply()
        assert outcome.successful(), outcome.traceback
        assert outcome.result == {"level_1": 1, "level_2": 0}
        assert escalate_requests_task.apply().result == {"level_1": 0, "level_2": 0}  # a retry

        assert ServiceRequest.objects.get(pk=request.pk).escalation_level == 1
        assert EscalationHeartbeat.objects.get().last_run_at == timezone.now()


def test_expire_task_runs_the_expiry_through_celery(scene):
    stay = GuestStayFactory.create(hotel=scene.hotel, status=StayStatus.CHECKED_OUT)
    request = scene.request(stay=stay)

    outcome = expire_requests_task.apply()
    assert outcome.successful(), outcome.traceback
    assert outcome.result == {"expired": 1}
    assert expire_requests_task.apply().result == {"expired": 0}
    assert status_of(request) == RequestStatus.EXPIRED


def test_tasks_are_registered_under_their_beat_names():
    from config.celery import app

    assert {"refuje.concierge.escalate_requests", "refuje.concierge.expire_requests"} <= set(app.tasks)


@pytest.mark.parametrize(
    ("language", "shown"),
    [("en", "Nobody acknowledged the request in time."), ("ar", "لم يستلم أحد الطلب في الوقت المحدد.")],
)
def test_a_job_note_is_shown_in_the_readers_language(scene, settings, language, shown):
    """The job runs in one language; staff and guests each read its note in their own."""
    settings.REQUEST_EXPIRE_UNACKNOWLEDGED_HOURS = 1
    stale = old_request(scene, hours=2)
    with translation.override("ar"):
        expiry_run()

    staff = scene.client(scene.admin.user).get(f"{scene.staff_url}{stale.pk}/", HTTP_ACCEPT_LANGUAGE=language)
    guest = scene.client(scene.guest).get(f"/api/v1/guest/requests/{stale.pk}/", HTTP_ACCEPT_LANGUAGE=language)

    for response, key in ((staff, "activities"), (guest, "timeline")):
        assert response.status_code == 200, response.content
        notes = [a["note"] for a in response.json()[key] if a["action"] == "expire"]
        assert notes == [shown]
