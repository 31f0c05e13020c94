"""Races decided by PostgreSQL: row locks and unique indexes, driven by real threads."""

import threading
import time

import pytest
from django.db import connection, transaction

from refuje.accounts.models import User
from refuje.common.testing.factories import DepartmentFactory, HotelFactory, MembershipFactory, UserFactory
from refuje.common.testing.tenancy import browser_client
from refuje.hotels.models import Department, HotelMembership, Role

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]

ROUNDS = 8


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


def member_url(membership):
    return f"/api/v1/hotels/{membership.hotel.slug}/members/{membership.pk}/"


@pytest.mark.parametrize("how", ["demote", "remove"])
def test_two_superadmins_removing_each_other_at_once_leave_exactly_one(how):
    for _ in range(ROUNDS):
        hotel = HotelFactory.create()
        first, second = MembershipFactory.create_batch(2, hotel=hotel, role=Role.SUPERADMIN)
        clients = {first.pk: browser_client(first.user), second.pk: browser_client(second.user)}
        barrier = threading.Barrier(2)
        results: dict[str, object] = {}

        def act(actor, target, barrier=barrier, clients=clients):
            def call():
                barrier.wait(timeout=10)
                client = clients[actor.pk]
                if how == "demote":
                    return client.patch(member_url(target), {"role": "ADMIN"}, format="json").status_code
                return client.delete(member_url(target)).status_code

            return call

        threads = [
            run_in_thread(act(first, second), results, "first"),
            run_in_thread(act(second, first), results, "second"),
        ]
        for thread in threads:
            thread.join(timeout=30)

        statuses = sorted(s for s in results.values() if isinstance(s, int))
        assert len(statuses) == 2, results
        # One wins. The loser was demoted (403), removed (404), or would remove the last one (409).
        assert statuses[0] in (200, 204), statuses
        assert statuses[1] in (403, 404, 409), statuses
        assert HotelMembership.objects.filter(hotel=hotel, role=Role.SUPERADMIN, is_active=True).count() == 1


def wait_until_a_query_waits_for_a_lock(timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.02)
    raise AssertionError("the request never waited for the uncommitted row")


def race_against_uncommitted_row(insert_row, make_request):
    """Hold a conflicting row in an open transaction, let the request pass its own checks (it cannot
    see the row) and block on the unique index, then commit: the request meets the IntegrityError."""
    holding, release = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def hold():
        with transaction.atomic():
            insert_row()
            holding.set()
            release.wait(timeout=30)

    holder = run_in_thread(hold, results, "holder")
    assert holding.wait(timeout=10)
    requester = run_in_thread(make_request, results, "response")
    try:
        wait_until_a_query_waits_for_a_lock()
    finally:
        release.set()
        holder.join(timeout=30)
        requester.join(timeout=30)
    response = results["response"]
    assert not isinstance(response, BaseException), repr(response)
    return response


def test_an_email_taken_by_a_concurrent_sign_up_is_a_field_error_not_a_500():
    admin = MembershipFactory.create(role=Role.ADMIN)
    client = browser_client(admin.user)
    url = f"/api/v1/hotels/{admin.hotel.slug}/members/"

    response = race_against_uncommitted_row(
        lambda: User.objects.create_user("+966551111111", email="race@example.com"),
        lambda: client.post(url, {"phone": "0552222222", "email": "race@example.com"}, format="json"),
    )

    assert response.status_code == 400, response.content
    assert "email" in response.json()
    assert not User.objects.filter(phone_number="+966552222222").exists()


def test_a_concurrent_invite_of_the_same_person_is_a_field_error_not_a_500():
    admin = MembershipFactory.create(role=Role.ADMIN)
    person = UserFactory.create()
    client = browser_client(admin.user)
    url = f"/api/v1/hotels/{admin.hotel.slug}/members/"

    response = race_against_uncommitted_row(
        lambda: HotelMembership.objects.create(user=person, hotel=admin.hotel, role=Role.STAFF),
        lambda: client.post(url, {"phone": person.phone_number, "role": "VIEWER"}, format="json"),
    )

    assert response.status_code == 400, response.content
    assert "phone" in response.json()
    assert HotelMembership.objects.get(user=person, hotel=admin.hotel).role == Role.STAFF


def test_a_department_name_taken_concurrently_is_a_field_error_not_a_500():
    admin = MembershipFactory.create(role=Role.ADMIN)
    client = browser_client(admin.user)
    url = f"/api/v1/hotels/{admin.hotel.slug}/departments/"

    response = race_against_uncommitted_row(
        lambda: DepartmentFactory.create(hotel=admin.hotel, name_ar="السبا", name_en="Spa"),
        lambda: client.post(url, {"name_ar": "المسبح", "name_en": "SPA"}, format="json"),
    )

    assert response.status_code == 400, response.content
    assert "name_en" in response.json()
    assert Department.objects.filter(hotel=admin.hotel).count() == 1
