"""Tenant matrix over the statistics endpoint: only members of the hotel (STAFF and above) get
numbers, and the numbers never include another hotel's requests."""

from __future__ import annotations

import pytest

from refuje.common.testing.concierge_factories import GuestStayFactory, ServiceRequestFactory
from refuje.common.testing.factories import DepartmentFactory
from refuje.common.testing.tenancy import GUEST, OTHER_GUEST, Endpoint, hotel_scoped, matrix_cases
from refuje.concierge.models import RequestActivity, ServiceRequest
from refuje.hotels.models import Role

pytestmark = pytest.mark.django_db


def setup(world):
    """Hotel A: two requests in the STAFF member's department, three in another; hotel B: seven."""
    other_department = DepartmentFactory.create(hotel=world.a.hotel)
    ServiceRequestFactory.create_batch(2, hotel=world.a.hotel, department=world.a.department)
    ServiceRequestFactory.create_batch(3, hotel=world.a.hotel, department=other_department)
    ServiceRequestFactory.create_batch(7, hotel=world.b.hotel, department=world.b.department, escalation_level=2)


def only_hotel_a(world, persona, response):
    body = response.json()
    assert body["hotel"] == world.a.slug
    departments = {department["id"] for department in body["by_department"]}
    assert departments <= set(world.a.hotel.departments.values_list("pk", flat=True))
    if persona == "a_staff":
        assert body["scope"] == "departments"
        assert body["total"] == 2
        assert departments == {world.a.department.pk}
    else:
        assert body["scope"] == "hotel"
        assert body["total"] == 5
    assert body["escalations"]["count"] == 0


def seeded_guests(world):
    # The guests of the matrix hold stays in hotel A: a stay never makes its guest a member.
    stay = GuestStayFactory.create(hotel=world.a.hotel, guest=world.guest)
    ServiceRequestFactory.create(hotel=world.a.hotel, department=world.a.department, stay=stay)


ENDPOINTS = [
    Endpoint(
        "stats",
        "GET",
        "/api/v1/hotels/{w.a.slug}/stats/",
        expect=hotel_scoped(minimum=Role.STAFF, ok=200),
        setup=setup,
        verify=only_hotel_a,
        watch=(ServiceRequest, RequestActivity),
    ),
    Endpoint(
        "stats-bad-period",
        "GET",
        "/api/v1/hotels/{w.a.slug}/stats/?from=2025-03-11&to=2025-03-10",
        # Outsiders learn nothing about the hotel, not even that the query was checked.
        expect=hotel_scoped(minimum=Role.STAFF, ok=400),
        codes={401: "not_authenticated", 403: "role_too_low", 404: "not_found", 400: "period_reversed"},
        setup=setup,
    ),
]


@pytest.mark.parametrize("case", matrix_cases(*ENDPOINTS))
def test_tenant_matrix(tenant_world, case):
    tenant_world.check(case)


@pytest.mark.parametrize("persona", [GUEST, OTHER_GUEST])
def test_a_guest_with_a_stay_at_the_hotel_still_gets_404(tenant_world, persona):
    seeded_guests(tenant_world)

    response = tenant_world.request(persona, "GET", f"/api/v1/hotels/{tenant_world.a.slug}/stats/")

    assert response.status_code == 404
