"""Two browsers' requests racing on one endpoint, with real threads against PostgreSQL."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction

from refuje.common.testing.factories import UserFactory
from refuje.push.models import PushSubscription
from refuje.push.services import push_subscription_upsert

from .conftest import browser_keys

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


def wait_for_lock_waiters(count: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            row = cursor.fetchone()
            if row is not None and row[0] >= count:
                return
        time.sleep(0.02)
    raise AssertionError(f"fewer than {count} queries ever waited for a lock")


def test_registering_an_endpoint_while_another_insert_of_it_commits_updates_that_row(settings):
    """The second insert waits on the unique index, then fails; the upsert must turn that into an
    update of the committed row (the endpoint moves to the second user), not a 500."""
    settings.PUSH_ALLOW_INSECURE_ENDPOINTS = False
    first_user, second_user = UserFactory.create(), UserFactory.create()
    endpoint = "https://fcm.googleapis.com/fcm/send/race"
    first_keys, second_keys = browser_keys(), browser_keys()
    results: dict[str, Any] = {}

    def second() -> None:
        try:
            results["second"] = push_subscription_upsert(user=second_user, endpoint=endpoint, **second_keys)
        except BaseException as exc:
            results["second"] = exc
        finally:
            connection.close()

    with transaction.atomic():
        PushSubscription.objects.create(user=first_user, endpoint=endpoint, **first_keys)
        thread = threading.Thread(target=second)
        thread.start()
        wait_for_lock_waiters(1)
    thread.join(timeout=20)

    assert not isinstance(results["second"], BaseException), results["second"]
    subscription, created = results["second"]
    assert created is False
    stored = PushSubscription.objects.get()
    assert (stored.pk, stored.user_id, stored.p256dh) == (subscription.pk, second_user.pk, second_keys["p256dh"])
