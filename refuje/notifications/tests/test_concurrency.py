"""Two job runs at once, as two beat schedulers or a retried task make them: real threads against
PostgreSQL, each effect exactly once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from refuje.notifications import kinds
from refuje.notifications.jobs import digest_run, realert_run
from refuje.notifications.models import DailyDigest, Notification, RequestRealert

from .conftest import build_scene

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


def run_in_thread(target, results: dict[str, Any], key: str) -> threading.Thread:
    def body():
        try:
            results[key] = target()
        except BaseException as exc:
            results[key] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=body)
    thread.start()
    return thread


def wait_for_lock_waiters(count: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] >= count:
                return
        time.sleep(0.02)
    raise AssertionError(f"fewer than {count} queries ever waited for a lock")


def test_two_realert_runs_at_once_alert_once_per_interval(settings):
    settings.NOTIFICATION_PROVIDER = "console"
    settings.NOTIFICATION_REALERT_INTERVAL_MINUTES = 5
    scene = build_scene()
    now = timezone.now()
    request = scene.request(created_at=now - timedelta(minutes=6), response_due_at=now)
    RequestRealert.objects.create(request=request, count=0, last_alert_at=request.created_at)
    results: dict[str, Any] = {}

    # Hold the row so both runs have picked the request and wait on its claim before either moves.
    with transaction.atomic():
        RequestRealert.objects.select_for_update().get(pk=request.pk)
        threads = [run_in_thread(lambda: realert_run(now=now), results, name) for name in ("first", "second")]
        wait_for_lock_waiters(2)
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(map(str, results.values())) == sorted(["[]", f"[{request.pk}]"]), results
    assert RequestRealert.objects.get(pk=request.pk).count == 1
    for member in (scene.staff, scene.staff_ar):
        assert Notification.objects.filter(recipient=member.user, kind=kinds.REQUEST_REALERT).count() == 1


def test_two_digest_runs_at_once_send_one_digest(settings):
    settings.NOTIFICATION_PROVIDER = "console"
    settings.NOTIFICATION_DIGEST_LOCAL_HOUR = 0
    scene = build_scene(timezone="UTC")
    today = timezone.now().date()
    results: dict[str, Any] = {}

    # An uncommitted digest row of the same hotel and date: both runs queue on its unique key.
    with transaction.atomic():
        DailyDigest.objects.create(hotel=scene.hotel, local_date=today)
        threads = [run_in_thread(digest_run, results, name) for name in ("first", "second")]
        wait_for_lock_waiters(2)
        transaction.set_rollback(True)  # the holder goes away: one of the two runs must win
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(map(str, results.values())) == sorted(["[]", f"[{scene.hotel.pk}]"]), results
    assert DailyDigest.objects.filter(hotel=scene.hotel).count() == 1
    assert Notification.objects.filter(recipient=scene.admin.user, kind=kinds.DIGEST_DAILY).count() == 1
