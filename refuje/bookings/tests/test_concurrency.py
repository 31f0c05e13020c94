"""Races for one slot, decided by the staff-row lock and the exclusion constraint: real threads,
real PostgreSQL, the real API."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from freezegun import freeze_time

from refuje.bookings.models import Booking, BookingStatus
from refuje.common.testing.booking_factories import bookable_experience, verified_guest
from refuje.common.testing.tenancy import browser_client

from .conftest import NOW

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]

CONTENDERS = 50


def overlapping_pairs() -> int:
    """Active bookings of one staff member whose blocked ranges overlap, counted in SQL."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM bookings_booking a JOIN bookings_booking b
              ON a.staff_id = b.staff_id AND a.id < b.id
             AND a.blocked_start < b.blocked_end AND b.blocked_start < a.blocked_end
             WHERE a.status IN ('pending_payment', 'confirmed') AND b.status IN ('pending_payment', 'confirmed')
            """
        )
        return int(cursor.fetchone()[0])


def race(clients: list[Any], payloads: list[dict[str, Any]]) -> list[Any]:
    """Every client posts its payload at the same moment (a barrier), each on its own connection."""
    barrier = threading.Barrier(len(clients))
    results: list[Any] = [None] * len(clients)

    def body(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = clients[index].post("/api/v1/bookings/", payloads[index], format="json")
        except BaseException as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(index,)) for index in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.parametrize("price_minor", [0, 15000], ids=["free", "priced"])
def test_fifty_simultaneous_requests_for_one_slot_make_one_booking(price_minor):
    # freezegun's clock is process-wide, so every thread sees the same "now".
    with freeze_time(NOW):
        experience = bookable_experience(price_minor=price_minor, buffer_after_minutes=15)
        clients = [browser_client(verified_guest()) for _ in range(CONTENDERS)]
        for attempt, start in enumerate(
            ("2026-03-02T09:00:00+03:00", "2026-03-02T11:00:00+03:00", "2026-03-02T13:30:00+03:00")
        ):
            # Overlapping but different starts: a slot and its half-hour neighbours.
            payloads = [
                {"experience": experience.pk, "start": start if index % 2 == 0 else _shift(start, 30)}
                for index in range(CONTENDERS)
            ]
            results = race(clients, payloads)
            errors = [result for result in results if isinstance(result, BaseException)]
            assert errors == [], errors[:3]
            statuses = Counter(result.status_code for result in results)
            assert statuses == {201: 1, 409: CONTENDERS - 1}, (attempt, statuses)
            for result in results:
                if result.status_code == 409:
                    body = result.json()
                    assert body["code"] == "slot_taken", body
                    assert isinstance(body["next_slots"], list)
            assert overlapping_pairs() == 0
        active = Booking.objects.filter(status__in=(BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED))
        assert active.count() == 3


def _shift(start: str, minutes: int) -> str:
    return (datetime.fromisoformat(start) + timedelta(minutes=minutes)).isoformat()


def test_any_staff_requests_fill_every_member_exactly_once():
    with freeze_time(NOW):
        experience = bookable_experience(staff_count=3)
        clients = [browser_client(verified_guest()) for _ in range(20)]
        payload = {"experience": experience.pk, "start": "2026-03-02T10:00:00+03:00"}
        results = race(clients, [payload] * len(clients))
        assert Counter(getattr(result, "status_code", result) for result in results) == {201: 3, 409: 17}
        assert sorted(Booking.objects.values_list("staff_id", flat=True)) == sorted(
            experience.booking_policy.bookable_staff.values_list("pk", flat=True)
        )
        assert overlapping_pairs() == 0
