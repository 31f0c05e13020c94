"""Tenant matrix of the hotel health page: members of the hotel from VIEWER up see it; another
hotel's members, guests and strangers get the one 404; its numbers are the hotel's own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from refuje.common.models import JobHeartbeat
from refuje.common.testing.concierge_factories import GuestStayFactory, ServiceRequestFactory
from refuje.common.testing.tenancy import OPERATOR, Endpoint, TenantWorld, hotel_scoped, matrix_cases
from refuje.concierge.models import EscalationHeartbeat, ServiceRequest
from refuje.hotels.models import Role

WATCH = (ServiceRequest, JobHeartbeat, EscalationHeartbeat)


def overdue_requests(world: TenantWorld) -> None:
    created = timezone.now() - timedelta(hours=1)
    due = created + timedelta(minutes=15)
    for tenant, count in ((world.a, 1), (world.b, 3)):
        stay = GuestStayFactory.create(hotel=tenant.hotel)
        for _ in range(count):
            ServiceRequestFactory.create(
                hotel=tenant.hotel,
                stay=stay,
                department=tenant.department,
                created_at=created,
                response_due_at=due,
                escalation_level=1,
            )


def numbers_are_hotel_as(world: TenantWorld, persona: str, response) -> None:
    waiting = response.json()["waiting"]
    # A's one overdue request is in A's department: the VIEWER of A has no departments.
    expected = 0 if persona == "a_viewer" else 1
    assert (waiting["overdue"], waiting["escalated_level_1"]) == (expected, expected), (persona, waiting)
    assert waiting["all_departments"] is (persona in (OPERATOR, "a_admin", "a_superadmin"))


ENDPOINTS = [
    Endpoint(
        "health",
        "GET",
        "/api/v1/hotels/{w.a.slug}/health/",
        setup=overdue_requests,
        verify=numbers_are_hotel_as,
        watch=WATCH,
        expect=hotel_scoped(minimum=Role.VIEWER, ok=200),
    ),
    Endpoint(
        "health-unknown-hotel",
        "GET",
        "/api/v1/hotels/no-such-hotel/health/",
        watch=WATCH,
        expect=hotel_scoped(minimum=Role.VIEWER, ok=404),
    ),
]


@pytest.mark.parametrize("case", matrix_cases(*ENDPOINTS))
def test_tenant_matrix(tenant_world, case):
    tenant_world.check(case)
