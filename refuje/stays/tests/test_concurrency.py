"""Concurrent first scans of a room QR: the one-active-stay index decides, every caller gets the stay."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction

from refuje.common.testing.concierge_factories import HotelConciergeSettingsFactory
from refuje.common.testing.factories import GuestFactory, HotelFactory
from refuje.common.testing.tenancy import browser_client
from refuje.hotels.models import Hotel
from refuje.qrcodes.tests.factories import QRCodeFactory
from refuje.stays.models import GuestStay, StayStatus

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]

SCANS = 3


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
    raise AssertionError(f"fewer than {count} sessions ever waited for a lock")


def test_concurrent_self_check_ins_make_one_active_stay():
    hotel = HotelFactory.create()
    HotelConciergeSettingsFactory.create(hotel=hotel, self_check_in_enabled=True)
    code = QRCodeFactory.create(hotel=hotel, room_number="420")
    guest = GuestFactory.create()
    clients = [browser_client(guest) for _ in range(SCANS)]
    results: dict[int, Any] = {}

    # Holding the hotel row keeps every scan's transaction open at its commit-time foreign-key
    # check, so none can see another's stay: all of them insert, and only the unique index decides.
    with transaction.atomic():
        Hotel.objects.select_for_update().get(pk=hotel.pk)
        threads = [
            run_in_thread(
                lambda client=client: client.post(
                    "/api/v1/guest/stays/self-check-in/", {"qr_token": code.token}, format="json"
                ),
                results,
                index,
            )
            for index, client in enumerate(clients)
        ]
        wait_for_lock_waiters(SCANS)
    for thread in threads:
        thread.join(timeout=30)

    responses = [results[index] for index in range(SCANS)]
    assert all(hasattr(response, "status_code") for response in responses), responses
    assert sorted(response.status_code for response in responses) == [200] * (SCANS - 1) + [201]
    stays = GuestStay.objects.filter(hotel=hotel, guest=guest, status=StayStatus.ACTIVE)
    assert stays.count() == 1
    assert {response.json()["stay"]["id"] for response in responses} == {stays.get().pk}
