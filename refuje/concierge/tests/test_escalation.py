"""Escalation of unanswered requests: levels by the clock, exactly once per level, and the heartbeat."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from freezegun import freeze_time

from refuje.concierge import services
from refuje.concierge.escalation import escalation_heartbeat_check, escalation_run
from refuje.concierge.events import request_event
from refuje.concierge.models import EscalationHeartbeat, RequestActivity, RequestStatus, ServiceRequest

from .conftest import build_scene

T0 = "2026-03-01 09:00:00+00:00"


@pytest.fixture
def heard():
    events = []

    def listener(sender, kind, request, activity, **kwargs):
        events.append((kind, request.pk, activity.action, activity.note))

    request_event.connect(listener, weak=False, dispatch_uid="escalation-test-listener")
    yield events
    request_event.disconnect(dispatch_uid="escalation-test-listener")


def escalations(request):
    return list(
        RequestActivity.objects.filter(request=request, action="escalate").order_by("id").values_list("note", flat=True)
    )


def level_of(request):
    return ServiceRequest.objects.get(pk=request.pk).escalation_level


@pytest.mark.django_db
def test_levels_follow_the_clock(scene, settings, heard, django_capture_on_commit_callbacks):
    settings.ESCALATION_LEVEL2_AFTER_MINUTES = 30
    with freeze_time(T0) as clock:
        request = scene.request(response_due_at=timezone.now() + timedelta(minutes=15))

        clock.tick(timedelta(minutes=14))
        with django_capture_on_commit_callbacks(execute=True):
            assert escalation_run().count == 0
        assert level_of(request) == 0

        clock.tick(timedelta(minutes=2))  # past due
        with django_capture_on_commit_callbacks(execute=True):
            result = escalation_run()
        assert result.escalated == {1: [request.pk], 2: []}
        assert level_of(request) == 1

        clock.tick(timedelta(minutes=29))  # 30 minutes after due: not yet past the second threshold
        with django_capture_on_commit_callbacks(execute=True):
            assert escalation_run().count == 0
        assert level_of(request) == 1

        clock.tick(timedelta(seconds=1))
        with django_capture_on_commit_callbacks(execute=True):
            assert escalation_run().escalated == {1: [], 2: [request.pk]}
        assert level_of(request) == 2

        clock.tick(timedelta(hours=5))
        with django_capture_on_commit_callbacks(execute=True):
            assert escalation_run().count == 0

    assert escalations(request) == ["1", "2"]
    activity = RequestActivity.objects.filter(request=request, action="escalate").order_by("id")[0]
    assert (activity.from_status, activity.to_status, activity.actor, activity.is_internal) == (
        RequestStatus.NEW,
        RequestStatus.NEW,
        None,
        True,
    )
    assert heard == [
        ("request.escalated", request.pk, "escalate", "1"),
        ("request.escalated", request.pk, "escalate", "2"),
    ]
    request.refresh_from_db()
    assert request.status == RequestStatus.NEW


@pytest.mark.django_db
def test_a_request_overdue_for_both_levels_gets_both_in_order(scene, settings):
    settings.ESCALATION_LEVEL2_AFTER_MINUTES = 10
    with freeze_time(T0) as clock:
        request = scene.request(response_due_at=timezone.now())
        clock.tick(timedelta(minutes=11))
        assert escalation_run().escalated == {1: [request.pk], 2: [request.pk]}
    assert escalations(request) == ["1", "2"]
    assert level_of(request) == 2


@pytest.mark.django_db
def test_answered_requests_are_not_escalated(scene):
    with freeze_time(T0) as clock:
        acknowledged = scene.request(response_due_at=timezone.now())
        services.service_request_acknowledge(actor=scene.staff.user, request=acknowledged)
        completed = scene.request(response_due_at=timezone.now(), status=RequestStatus.COMPLETED)
        waiting = scene.request(response_due_at=timezone.now())
        clock.tick(timedelta(hours=2))
        assert escalation_run().escalated == {1: [waiting.pk], 2: [waiting.pk]}
    assert escalations(acknowledged) == escalations(completed) == []


@pytest.mark.django_db
def test_a_retried_run_escalates_nothing_new(scene):
    with freeze_time(T0) as clock:
        request = scene.request(response_due_at=timezone.now())
        clock.tick(timedelta(minutes=1))
        first = escalation_run()
        retry = escalation_run()  # the same moment: a redelivered task
    assert first.escalated == {1: [request.pk], 2: []}
    assert retry.count == 0
    assert escalations(request) == ["1"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_two_runs_at_once_escalate_each_level_once():
    scene = build_scene()
    past = timezone.now() - timedelta(hours=2)
    requests = [scene.request(created_at=past, response_due_at=past) for _ in range(15)]
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(escalation_run())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(results) == 2
    for level in (1, 2):
        raised = sorted(pk for result in results for pk in result.escalated[level])
        assert raised == sorted(request.pk for request in requests)
    for request in requests:
        assert escalations(request) == ["1", "2"]
        assert level_of(request) == 2
    assert EscalationHeartbeat.objects.count() == 1


# --- heartbeat ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_run_writes_the_heartbeat(scene):
    with freeze_time(T0) as clock:
        scene.request(response_due_at=timezone.now())
        scene.request(response_due_at=timezone.now())
        clock.tick(timedelta(minutes=1))
        escalation_run()
        beat = EscalationHeartbeat.objects.get()
        assert (beat.last_run_at, beat.escalated_count, beat.last_error) == (timezone.now(), 2, "")
        assert beat.last_duration_ms >= 0

        clock.tick(timedelta(minutes=1))
        escalation_run()
        beat = EscalationHeartbeat.objects.get()
        assert (beat.last_run_at, beat.escalated_count) == (timezone.now(), 0)


@pytest.mark.django_db
def test_readiness_follows_the_age_of_the_heartbeat(settings):
    settings.ESCALATION_HEARTBEAT_MAX_AGE_SECONDS = 300
    settings.ESCALATION_HEARTBEAT_REQUIRED = True
    with freeze_time(T0) as clock:
        assert escalation_heartbeat_check() == (False, "never ran")
        settings.ESCALATION_HEARTBEAT_REQUIRED = False
        assert escalation_heartbeat_check() == (True, "not required")
        settings.ESCALATION_HEARTBEAT_REQUIRED = True

        escalation_run()
        clock.tick(timedelta(seconds=299))
        ok, info = escalation_heartbeat_check()
        assert ok, info

        clock.tick(timedelta(seconds=2))
        ok, info = escalation_heartbeat_check()
        assert not ok
        assert "301" in info

        escalation_run()  # alive again
        assert escalation_heartbeat_check()[0] is True


@pytest.mark.django_db
def test_a_failed_run_is_recorded_and_reported(scene):
    # A database that refuses escalation activities: the run fails, and the heartbeat says so.
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE concierge_requestactivity ADD CONSTRAINT test_no_escalations CHECK (action <> 'escalate')"
        )
    with freeze_time(T0) as clock:
        scene.request(response_due_at=timezone.now())
        clock.tick(timedelta(minutes=1))
        with pytest.raises(Exception, match="test_no_escalations"):
            escalation_run()
        beat = EscalationHeartbeat.objects.get()
        assert "test_no_escalations" in beat.last_error
        assert escalation_heartbeat_check()[0] is False
