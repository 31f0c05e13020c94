"""The stays list costs the same number of queries for 1 stay as for 50."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from refuje.common.testing.concierge_factories import GuestStayFactory
from refuje.common.testing.factories import MembershipFactory
from refuje.common.testing.tenancy import browser_client
from refuje.hotels.models import Role

pytestmark = pytest.mark.django_db


def queries_for(client, path, expected_items):
    client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    assert len(response.json()["results"]) == expected_items
    return len(ctx.captured_queries)


def test_stays_list_queries_do_not_grow():
    def build(count):
        desk = MembershipFactory.create(role=Role.STAFF)
        GuestStayFactory.create_batch(count, hotel=desk.hotel)
        return browser_client(desk.user), f"/api/v1/hotels/{desk.hotel.slug}/stays/"

    (one, one_path), (fifty, fifty_path) = build(1), build(50)
    assert queries_for(one, one_path, 1) == queries_for(fifty, fifty_path, 50)
