"""Tenant matrix over every concierge endpoint: other hotels, other departments and other guests get
the one 404; roles too low get 403; nothing changes on a refusal."""

from __future__ import annotations

import pytest

from refuje.common.testing.concierge_factories import GuestStayFactory, ServiceRequestFactory
from refuje.common.testing.factories import DepartmentFactory
from refuje.common.testing.tenancy import (
    GUEST,
    OTHER_GUEST,
    Endpoint,
    TenantWorld,
    everyone,
    hotel_scoped,
    matrix_cases,
)
from refuje.concierge.models import (
    DepartmentPolicy,
    EscalationContact,
    HoursOverride,
    RequestActivity,
    ServiceRequest,
    WorkingWindow,
)
from refuje.hotels.models import Role
from refuje.stays.models import GuestStay

REQUESTS = (ServiceRequest, RequestActivity, GuestStay)
POLICY = (DepartmentPolicy, WorkingWindow, HoursOverride, EscalationContact)
A = "/api/v1/hotels/{w.a.slug}"
B = "/api/v1/hotels/{w.b.slug}"


def objects(world: TenantWorld) -> None:
    a, b = world.a, world.b
    a_stay = GuestStayFactory.create(hotel=a.hotel, guest=world.guest, room="101")
    other_stay = GuestStayFactory.create(hotel=a.hotel, guest=world.other_guest, room="102")
    b_stay = GuestStayFactory.create(hotel=b.hotel, room="201")
    a_other_department = DepartmentFactory.create(hotel=a.hotel)
    world.extra.update(
        a_stay=a_stay,
        b_stay=b_stay,
        a_req=ServiceRequestFactory.create(hotel=a.hotel, stay=a_stay, department=a.department),
        a_req_other_dept=ServiceRequestFactory.create(hotel=a.hotel, stay=a_stay, department=a_other_department),
        other_req=ServiceRequestFactory.create(hotel=a.hotel, stay=other_stay, department=a.department),
        b_req=ServiceRequestFactory.create(hotel=b.hotel, stay=b_stay, department=b.department),
    )


def staff_list_is_scoped(world: TenantWorld, persona: str, response) -> None:
    seen = {item["id"] for item in response.json()["results"]}
    extra = world.extra
    in_a = {extra[name].pk for name in ("a_req", "a_req_other_dept", "other_req")}
    expected = {
        "a_staff": {extra["a_req"].pk, extra["other_req"].pk},  # their department only
        "a_viewer": set(),  # below ADMIN with no departments
    }.get(persona, in_a)
    assert seen == expected, (persona, seen)


def guest_list_is_own(world: TenantWorld, persona: str, response) -> None:
    seen = {item["id"] for item in response.json()["results"]}
    expected = {
        GUEST: {world.extra["a_req"].pk, world.extra["a_req_other_dept"].pk},
        OTHER_GUEST: {world.extra["other_req"].pk},
    }.get(persona, set())
    assert seen == expected, (persona, seen)


def policy_body(world: TenantWorld):
    return {
        "sla_minutes": 10,
        "after_hours_sla_minutes": 30,
        "reminder_interval_minutes": 10,
        "windows": [{"weekday": 0, "start": "08:00", "end": "17:00"}],
        "escalation_contacts": {"level_1": [world.a.staff.pk]},
    }


def foreign_contact_body(world: TenantWorld):
    return {**policy_body(world), "escalation_contacts": {"level_1": [world.b.staff.pk]}}


def staff_create_body(stay: str):
    return {"stay": stay, "department": "{w.a.department.pk}", "description": "Iron and board"}


CODES_400 = {400: "invalid", 401: "not_authenticated", 403: "role_too_low", 404: "not_found"}
NO_STAY = {401: "not_authenticated", 403: "no_active_stay", 404: "not_found"}
# A member below ADMIN sees only their departments' requests: the VIEWER here has none, and the
# STAFF member works in `w.a.department` only.

ENDPOINTS = [
    # --- Department policy
    Endpoint(
        "policy-get",
        "GET",
        A + "/departments/{w.a.department.pk}/policy/",
        expect=hotel_scoped(minimum=Role.VIEWER, ok=200),
    ),
    Endpoint(
        "policy-get-b-department",
        "GET",
        A + "/departments/{w.b.department.pk}/policy/",
        expect=hotel_scoped(minimum=Role.VIEWER, ok=404),
    ),
    Endpoint(
        "policy-put",
        "PUT",
        A + "/departments/{w.a.department.pk}/policy/",
        body=policy_body,
        watch=POLICY,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=200),
    ),
    Endpoint(
        "policy-put-b-department",
        "PUT",
        A + "/departments/{w.b.department.pk}/policy/",
        body=policy_body,
        watch=POLICY,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=404),
    ),
    Endpoint(
        "policy-put-b-contact",
        "PUT",
        A + "/departments/{w.a.department.pk}/policy/",
        body=foreign_contact_body,
        watch=POLICY,
        codes=CODES_400,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=400),
    ),
    # --- Staff board
    Endpoint(
        "staff-list",
        "GET",
        A + "/requests/",
        setup=objects,
        verify=staff_list_is_scoped,
        expect=hotel_scoped(minimum=Role.VIEWER, ok=200),
    ),
    Endpoint(
        "staff-detail",
        "GET",
        A + "/requests/{w.extra[a_req].pk}/",
        setup=objects,
        expect=hotel_scoped(minimum=Role.VIEWER, ok=200, a_viewer=404),
    ),
    Endpoint(
        "staff-detail-other-department",
        "GET",
        A + "/requests/{w.extra[a_req_other_dept].pk}/",
        setup=objects,
        expect=hotel_scoped(minimum=Role.VIEWER, ok=200, a_viewer=404, a_staff=404),
    ),
    Endpoint(
        "staff-detail-b-id",
        "GET",
        A + "/requests/{w.extra[b_req].pk}/",
        setup=objects,
        expect=hotel_scoped(minimum=Role.VIEWER, ok=404),
    ),
    Endpoint(
        "staff-transition",
        "POST",
        A + "/requests/{w.extra[a_req].pk}/transition/",
        body={"action": "acknowledge"},
        setup=objects,
        watch=REQUESTS,
        expect=hotel_scoped(minimum=Role.STAFF, ok=200),
    ),
    Endpoint(
        "staff-transition-other-department",
        "POST",
        A + "/requests/{w.extra[a_req_other_dept].pk}/transition/",
        body={"action": "acknowledge"},
        setup=objects,
        watch=REQUESTS,
        expect=hotel_scoped(minimum=Role.STAFF, ok=200, a_staff=404),
    ),
    Endpoint(
        "staff-transition-b-id",
        "POST",
        A + "/requests/{w.extra[b_req].pk}/transition/",
        body={"action": "acknowledge"},
        setup=objects,
        watch=REQUESTS,
        expect=hotel_scoped(minimum=Role.STAFF, ok=404),
    ),
    Endpoint(
        "staff-transition-in-b",
        "POST",
        B + "/requests/{w.extra[b_req].pk}/transition/",
        body={"action": "acknowledge"},
        setup=objects,
        watch=REQUESTS,
        expect=hotel_scoped(minimum=Role.STAFF, ok=200, hotel="b"),
    ),
    Endpoint(
        "staff-note",
        "POST",
        A + "/requests/{w.extra[a_req].pk}/notes/",
        body={"note": "Called the guest"},
        setup=objects,
        watch=REQUESTS,
        expect=hotel_scoped(minimum=Role.STAFF, ok=201),
    ),
    Endpoint(
        "staff-note-b-id",
        "POST",
        A + "/requests/{w.extra[b_req].pk}/notes/",
        body={"note": "Called the guest"},
        setup=objects,
        watch=REQUESTS,
        expect=hotel_scoped(minimum=Role.STAFF, ok=404),
    ),
    Endpoint(
        "staff-create",
        "POST",
        A + "/requests/",
        body=staff_create_body("{w.extra[a_stay].pk}"),
        setup=objects,
        watch=REQUESTS,
        expect=hotel_scoped(minimum=Role.STAFF, ok=201),
    ),
    Endpoint(
        "staff-create-b-stay",
        "POST",
        A + "/requests/",
        body=staff_create_body("{w.extra[b_stay].pk}"),
        setup=objects,
        watch=REQUESTS,
        codes=CODES_400,
        expect=hotel_scoped(minimum=Role.STAFF, ok=400),
    ),
    # --- Guest
    Endpoint(
        "guest-list",
        "GET",
        "/api/v1/guest/requests/",
        setup=objects,
        verify=guest_list_is_own,
        expect=everyone(200),
    ),
    Endpoint(
        "guest-create",
        "POST",
        "/api/v1/guest/requests/",
        body={"hotel": "{w.a.slug}", "department": "{w.a.department.pk}", "description": "More coffee"},
        setup=objects,
        watch=REQUESTS,
        codes=NO_STAY,
        expect=everyone(403, guest=201, other_guest=201),
    ),
    Endpoint(
        "guest-create-where-not-staying",
        "POST",
        "/api/v1/guest/requests/",
        body={"hotel": "{w.b.slug}", "department": "{w.b.department.pk}", "description": "More coffee"},
        setup=objects,
        watch=REQUESTS,
        codes=NO_STAY,
        expect=everyone(403),
    ),
    Endpoint(
        "guest-detail",
        "GET",
        "/api/v1/guest/requests/{w.extra[a_req].pk}/",
        setup=objects,
        expect=everyone(404, guest=200),
    ),
    Endpoint(
        "guest-cancel",
        "POST",
        "/api/v1/guest/requests/{w.extra[a_req].pk}/cancel/",
        body={},
        setup=objects,
        watch=REQUESTS,
        expect=everyone(404, guest=200),
    ),
]


@pytest.mark.parametrize("case", matrix_cases(*ENDPOINTS))
def test_tenant_matrix(tenant_world, case):
    tenant_world.check(case)
