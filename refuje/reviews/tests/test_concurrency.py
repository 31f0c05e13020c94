"""Races decided by the database, driven by real threads against PostgreSQL: a double submit stores
one review, and two reviews written at once both count."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction

from refuje.experiences.models import Experience
from refuje.hotels.models import HotelMembership
from refuje.reviews import services
from refuje.reviews.models import Review

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
    """Until `count` other sessions wait for a lock (a row lock or another transaction's insert)."""
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


def race(model, pk, calls: dict[str, Any]) -> dict[str, Any]:
    """Hold `model` row `pk` the way a recompute does, start every call, wait until all of them are
    stuck inside their transactions, then let go."""
    results: dict[str, Any] = {}
    with transaction.atomic():
        model.objects.select_for_update(no_key=True).get(pk=pk)
        threads = [run_in_thread(call, results, name) for name, call in calls.items()]
        wait_for_lock_waiters(len(calls))
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_a_double_submit_stores_one_review_and_answers_409_to_the_other():
    scene = build_scene()
    request = scene.request(experience=scene.experience)
    url = f"/api/v1/guest/requests/{request.pk}/review/"
    clients = {"first": scene.client(scene.guest), "second": scene.client(scene.guest)}

    # Both pass the "already reviewed?" look before either commits: the unique index decides.
    results = race(
        Experience,
        scene.experience.pk,
        {
            name: (lambda client=client: client.post(url, {"rating": 5}, format="json", HTTP_ACCEPT_LANGUAGE="en"))
            for name, client in clients.items()
        },
    )

    statuses = sorted(getattr(results.get(name), "status_code", 0) for name in clients)
    assert statuses == [201, 409], results
    refused = next(results[name] for name in clients if results[name].status_code == 409)
    assert refused.json() == {"detail": "You have already reviewed this.", "code": "already_reviewed"}
    assert Review.objects.filter(request=request).count() == 1
    scene.experience.refresh_from_db()
    assert (scene.experience.rating_average, scene.experience.rating_count) == (Decimal("5.00"), 1)


def test_two_reviews_at_once_are_both_counted_for_experience_and_staff():
    scene = build_scene()
    first, second = scene.another_guest(), scene.another_guest()
    bookings = {first: scene.booking(customer=first), second: scene.booking(customer=second)}

    def reviewing(author, rating):
        return lambda: services.review_create_for_booking(author=author, booking=bookings[author], rating=rating)

    results = race(Experience, scene.experience.pk, {"first": reviewing(first, 5), "second": reviewing(second, 2)})

    assert all(isinstance(results[name], Review) for name in ("first", "second")), results
    scene.experience.refresh_from_db()
    scene.therapist.refresh_from_db()
    assert (scene.experience.rating_average, scene.experience.rating_count) == (Decimal("3.50"), 2)
    assert (scene.therapist.rating_average, scene.therapist.rating_count) == (Decimal("3.50"), 2)


def test_hiding_while_another_review_arrives_leaves_the_right_rating():
    scene = build_scene()
    author = scene.another_guest()
    shown = services.review_create_for_booking(author=scene.guest, booking=scene.booking(), rating=1)

    results = race(
        HotelMembership,
        scene.therapist.pk,
        {
            "hide": lambda: services.review_moderate(
                actor=scene.admin.user, review=shown, action="hide", reason="Spam"
            ),
            "new": lambda: services.review_create_for_booking(
                author=author, booking=scene.booking(customer=author), rating=4
            ),
        },
    )

    assert all(isinstance(value, Review) for value in results.values()), results
    scene.experience.refresh_from_db()
    scene.therapist.refresh_from_db()
    assert (scene.experience.rating_average, scene.experience.rating_count) == (Decimal("4.00"), 1)
    assert (scene.therapist.rating_average, scene.therapist.rating_count) == (Decimal("4.00"), 1)
