"""List endpoints cost a fixed number of queries, whatever the page holds."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from refuje.common.testing.factories import DepartmentFactory, HotelFactory, MembershipFactory, UserFactory
from refuje.common.testing.tenancy import browser_client
from refuje.hotels.models import Role

pytestmark = pytest.mark.django_db


def queries_for(client, path, expected_items):
    client.get(path)  # warm-up: first-request work (content types, sessions) is not per item
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    assert len(response.json()["results"]) == expected_items
    return len(ctx.captured_queries)


def test_hotels_list_queries_do_not_grow_with_hotels():
    def build(n):
        user = UserFactory.create()
        for hotel in HotelFactory.create_batch(n):
            MembershipFactory.create(user=user, hotel=hotel, role=Role.STAFF)
        return browser_client(user)

    assert queries_for(build(1), "/api/v1/hotels/", 1) == queries_for(build(20), "/api/v1/hotels/", 20)


def test_members_list_queries_do_not_grow_with_members():
    def build(n):
        hotel = HotelFactory.create()
        admin = MembershipFactory.create(hotel=hotel, role=Role.ADMIN)
        departments = DepartmentFactory.create_batch(2, hotel=hotel)
        for _ in range(n - 1):
            MembershipFactory.create(hotel=hotel).departments.set(departments)
        return browser_client(admin.user), f"/api/v1/hotels/{hotel.slug}/members/"

    (client_one, path_one), (client_twenty, path_twenty) = build(1), build(20)
    assert queries_for(client_one, path_one, 1) == queries_for(client_twenty, path_twenty, 20)


def test_departments_list_queries_do_not_grow_with_departments():
    def build(n):
        viewer = MembershipFactory.create(role=Role.VIEWER)
        DepartmentFactory.create_batch(n, hotel=viewer.hotel)
        return browser_client(viewer.user), f"/api/v1/hotels/{viewer.hotel.slug}/departments/"

    (client_one, path_one), (client_twenty, path_twenty) = build(1), build(20)
    assert queries_for(client_one, path_one, 1) == queries_for(client_twenty, path_twenty, 20)
