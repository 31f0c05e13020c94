"""Races on a request decided by its row lock, driven by real threads against PostgreSQL."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction

from refuje.common.testing.factories import MembershipFactory
from refuje.concierge.models import RequestActivity, RequestStatus, ServiceRequest
from refuje.hotels.models import Role

from .conftest import build_scene

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


def run_in_thread(target, results, key):
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


def wait_for_lock_waiters(count, timeout=10.0):
    """Until `count` other sessions wait for a lock. Callable inside a transaction: the statistics
    snapshot PostgreSQL keeps per transaction is cleared on every look."""
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


def test_two_staff_acknowledging_at_once_make_one_acknowledgement():
    scene = build_scene()
    second = MembershipFactory.create(hotel=scene.hotel, role=Role.STAFF)
    second.departments.add(scene.department)
    request = scene.request()
    url = f"{scene.staff_url}{request.pk}/transition/"
    clients = {"first": scene.client(scene.staff.user), "second": scene.client(second.user)}
    results: dict[str, Any] = {}

    # Hold the row so both requests are inside their transaction, queued on the lock, before either acts.
    with transaction.atomic():
        ServiceRequest.objects.select_for_update().get(pk=request.pk)
        threads = [
            run_in_thread(
                lambda client=client: client.post(url, {"action": "acknowledge"}, format="json"), results, name
            )
            for name, client in clients.items()
        ]
        wait_for_lock_waiters(2)
    for thread in threads:
        thread.join(timeout=30)

    statuses = [getattr(results.get(name), "status_code", results.get(name)) for name in clients]
    # The winner acknowledges; the other finds it already acknowledged: a clean no-op, not an error.
    assert statuses == [200, 200], results
    bodies = [results[name].json() for name in clients]
    assert {body["status"] for body in bodies} == {"ACKNOWLEDGED"}
    assert RequestActivity.objects.filter(request=request, action="acknowledge").count() == 1
    request.refresh_from_db()
    assert request.status == RequestStatus.ACKNOWLEDGED
    assert request.acknowledged_by_id in {scene.staff.user.pk, second.user.pk}


def test_guest_cancel_racing_staff_start_leaves_one_consistent_outcome():
    scene = build_scene()
    request = scene.request(status=RequestStatus.ACKNOWLEDGED)
    results: dict[str, Any] = {}
    staff, guest = scene.client(scene.staff.user), scene.client(scene.guest)

    with transaction.atomic():
        ServiceRequest.objects.select_for_update().get(pk=request.pk)
        threads = [
            run_in_thread(
                lambda: staff.post(f"{scene.staff_url}{request.pk}/transition/", {"action": "start"}, format="json"),
                results,
                "start",
            ),
            run_in_thread(
                lambda: guest.post(f"/api/v1/guest/requests/{request.pk}/cancel/", {}, format="json"),
                results,
                "cancel",
            ),
        ]
        wait_for_lock_waiters(2)
    for thread in threads:
        thread.join(timeout=30)

    codes = sorted(getattr(results[name], "status_code", 0) for name in ("start", "cancel"))
    assert codes == [200, 409], results
    request.refresh_from_db()
    assert request.status in (RequestStatus.IN_PROGRESS, RequestStatus.CANCELLED)
    changes = RequestActivity.objects.filter(request=request).exclude(action="create")
    assert [(a.from_status, a.to_status) for a in changes] == [(RequestStatus.ACKNOWLEDGED, request.status)]
