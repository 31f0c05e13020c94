"""Every hotels endpoint × every persona: who gets what, and refusals change nothing."""

import re

import pytest
from django.urls import URLPattern, resolve

from refuje.common.testing.factories import DepartmentFactory
from refuje.common.testing.tenancy import (
    ANONYMOUS,
    GUEST,
    OPERATOR,
    PERSONAS,
    Case,
    Endpoint,
    TenantWorld,
    everyone,
    hotel_scoped,
    matrix_cases,
)
from refuje.hotels.models import Department, Hotel, HotelMembership, Role

HOTELS = "/api/v1/hotels/"
A_HOTEL = "/api/v1/hotels/{w.a.slug}/"
A_MEMBERS = A_HOTEL + "members/"
A_DEPARTMENTS = A_HOTEL + "departments/"


def _own_hotels_only(world, persona, response):
    slugs = {item["slug"] for item in response.json()["results"]}
    assert slugs == world.hotels_of(persona)


def _members_of_a_only(world, persona, response):
    ids = {item["id"] for item in response.json()["results"]}
    assert ids == set(HotelMembership.objects.filter(hotel=world.a.hotel).values_list("pk", flat=True))


def _departments_of_a_only(world, persona, response):
    ids = {item["id"] for item in response.json()["results"]}
    assert ids == set(Department.objects.filter(hotel=world.a.hotel).values_list("pk", flat=True))


def _hotel_created(world, persona, response):
    assert Hotel.objects.filter(slug="brand-new").exists()


def _renamed(world, persona, response):
    world.a.hotel.refresh_from_db()
    assert world.a.hotel.name_en == "Renamed"


def _staff_now_viewer(world, persona, response):
    world.a.staff.refresh_from_db()
    assert world.a.staff.role == Role.VIEWER


def _staff_deactivated(world, persona, response):
    world.a.staff.refresh_from_db()
    assert world.a.staff.is_active is False


def _admin_demoted(world, persona, response):
    world.a.admin.refresh_from_db()
    assert world.a.admin.role == Role.STAFF


def _invited(world, persona, response):
    assert HotelMembership.objects.filter(hotel=world.a.hotel, user__phone_number="+966551230001").exists()


def _department_created(world, persona, response):
    assert Department.objects.filter(hotel=world.a.hotel, name_en="Laundry").exists()


def _department_deactivated(world, persona, response):
    world.a.department.refresh_from_db()
    assert world.a.department.is_active is False


def _unused_department_deleted(world, persona, response):
    assert not Department.objects.filter(pk=world.extra["unused"].pk).exists()


def _add_unused_department(world):
    world.extra["unused"] = DepartmentFactory.create(hotel=world.a.hotel)


def _add_unused_b_department(world):
    world.extra["b_unused"] = DepartmentFactory.create(hotel=world.b.hotel)


ADMIN_ONLY = hotel_scoped(minimum=Role.ADMIN, ok=200)

ENDPOINTS = [
    # hotels/
    Endpoint("hotels-list", "GET", HOTELS, expect=everyone(200), verify=_own_hotels_only),
    Endpoint(
        "hotels-create",
        "POST",
        HOTELS,
        body={"slug": "brand-new", "name_ar": "فندق جديد", "name_en": "Brand new"},
        expect=everyone(403, **{OPERATOR: 201}),
        codes={401: "not_authenticated", 403: "platform_operator_required"},
        verify=_hotel_created,
    ),
    # hotels/{hotel}/
    Endpoint("hotel-get", "GET", A_HOTEL, expect=hotel_scoped(minimum=Role.VIEWER, ok=200)),
    Endpoint(
        "hotel-patch",
        "PATCH",
        A_HOTEL,
        body={"name_en": "Renamed"},
        expect=hotel_scoped(minimum=Role.ADMIN, ok=200),
        verify=_renamed,
    ),
    Endpoint(
        "hotel-b-patch",
        "PATCH",
        "/api/v1/hotels/{w.b.slug}/",
        body={"name_en": "Taken over"},
        expect=hotel_scoped(minimum=Role.ADMIN, ok=200, hotel="b"),
    ),
    # members
    Endpoint("members-list", "GET", A_MEMBERS, expect=ADMIN_ONLY, verify=_members_of_a_only),
    Endpoint(
        "members-invite",
        "POST",
        A_MEMBERS,
        body={"phone": "055 123 0001", "role": "STAFF", "departments": ["{w.a.department.pk}"]},
        expect=hotel_scoped(minimum=Role.ADMIN, ok=201),
        verify=_invited,
    ),
    Endpoint(
        "members-invite-b-department",
        "POST",
        A_MEMBERS,
        body={"phone": "055 123 0001", "role": "STAFF", "departments": ["{w.b.department.pk}"]},
        expect=hotel_scoped(minimum=Role.ADMIN, ok=400),
        codes={401: "not_authenticated", 403: "role_too_low", 404: "not_found", 400: "invalid"},
    ),
    Endpoint("member-get", "GET", A_MEMBERS + "{w.a.staff.pk}/", expect=ADMIN_ONLY),
    Endpoint(
        "member-patch",
        "PATCH",
        A_MEMBERS + "{w.a.staff.pk}/",
        body={"role": "VIEWER"},
        expect=ADMIN_ONLY,
        verify=_staff_now_viewer,
    ),
    Endpoint(
        "member-patch-admin",
        "PATCH",
        A_MEMBERS + "{w.a.admin.pk}/",
        body={"role": "STAFF"},
        # An admin may not edit an admin's membership, their own included.
        expect=hotel_scoped(minimum=Role.ADMIN, ok=200, a_admin=403),
        verify=_admin_demoted,
    ),
    Endpoint(
        "member-delete",
        "DELETE",
        A_MEMBERS + "{w.a.staff.pk}/",
        expect=hotel_scoped(minimum=Role.ADMIN, ok=204),
        verify=_staff_deactivated,
    ),
    # B's member ids through A's URL: members of A below ADMIN are stopped by role, the rest see 404.
    Endpoint("member-get-cross", "GET", A_MEMBERS + "{w.b.staff.pk}/", expect=hotel_scoped(minimum=Role.ADMIN, ok=404)),
    Endpoint(
        "member-patch-cross",
        "PATCH",
        A_MEMBERS + "{w.b.staff.pk}/",
        body={"role": "VIEWER"},
        expect=hotel_scoped(minimum=Role.ADMIN, ok=404),
    ),
    Endpoint(
        "member-patch-cross-superadmin",
        "PATCH",
        A_MEMBERS + "{w.b.superadmin.pk}/",
        body={"is_active": False},
        expect=hotel_scoped(minimum=Role.ADMIN, ok=404),
    ),
    Endpoint(
        "member-delete-cross",
        "DELETE",
        A_MEMBERS + "{w.b.staff.pk}/",
        expect=hotel_scoped(minimum=Role.ADMIN, ok=404),
    ),
    Endpoint(
        "member-b-get",
        "GET",
        "/api/v1/hotels/{w.b.slug}/members/{w.b.staff.pk}/",
        expect=hotel_scoped(minimum=Role.ADMIN, ok=200, hotel="b"),
    ),
    # departments
    Endpoint(
        "departments-list",
        "GET",
        A_DEPARTMENTS,
        expect=hotel_scoped(minimum=Role.VIEWER, ok=200),
        verify=_departments_of_a_only,
    ),
    Endpoint(
        "departments-create",
        "POST",
        A_DEPARTMENTS,
        body={"name_ar": "المغسلة", "name_en": "Laundry"},
        expect=hotel_scoped(minimum=Role.ADMIN, ok=201),
        verify=_department_created,
    ),
    Endpoint(
        "department-get",
        "GET",
        A_DEPARTMENTS + "{w.a.department.pk}/",
        expect=hotel_scoped(minimum=Role.VIEWER, ok=200),
    ),
    Endpoint(
        "department-patch",
        "PATCH",
        A_DEPARTMENTS + "{w.a.department.pk}/",
        body={"display_order": 7},
        expect=ADMIN_ONLY,
    ),
    Endpoint(
        "department-delete-used",
        "DELETE",
        A_DEPARTMENTS + "{w.a.department.pk}/",
        expect=ADMIN_ONLY,
        verify=_department_deactivated,
    ),
    Endpoint(
        "department-delete-unused",
        "DELETE",
        A_DEPARTMENTS + "{w.extra[unused].pk}/",
        setup=_add_unused_department,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=204),
        verify=_unused_department_deleted,
    ),
    Endpoint(
        "department-get-cross",
        "GET",
        A_DEPARTMENTS + "{w.b.department.pk}/",
        expect=hotel_scoped(minimum=Role.VIEWER, ok=404),
    ),
    Endpoint(
        "department-patch-cross",
        "PATCH",
        A_DEPARTMENTS + "{w.b.department.pk}/",
        body={"name_en": "Hijacked"},
        expect=hotel_scoped(minimum=Role.ADMIN, ok=404),
    ),
    Endpoint(
        "department-delete-cross",
        "DELETE",
        A_DEPARTMENTS + "{w.extra[b_unused].pk}/",
        setup=_add_unused_b_department,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=404),
    ),
    Endpoint(
        "department-b-get",
        "GET",
        "/api/v1/hotels/{w.b.slug}/departments/{w.b.department.pk}/",
        expect=hotel_scoped(minimum=Role.VIEWER, ok=200, hotel="b"),
    ),
]


@pytest.mark.parametrize("case", matrix_cases(*ENDPOINTS))
def test_tenant_matrix(tenant_world, case):
    tenant_world.check(case)


def test_matrix_covers_every_route_and_method_of_the_hotels_api():
    from refuje.hotels import urls

    declared = set()
    for pattern in urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        view = pattern.callback.view_class  # type: ignore[attr-defined]
        methods = {m.upper() for m in view.http_method_names if hasattr(view, m) and m not in ("options", "head")}
        declared |= {(pattern.name, method) for method in methods}
    covered = set()
    for endpoint in ENDPOINTS:
        path = re.sub(r"\{w\.[ab]\.slug\}", "some-hotel", endpoint.path)
        path = re.sub(r"\{[^}]+\}", "1", path)
        covered.add((resolve(path).url_name, endpoint.method))
    assert declared == covered


# --- The helper itself ----------------------------------------------------------------------


@pytest.mark.parametrize("auth", ["jwt", "session"])
def test_both_sign_in_modes_reach_the_api(db, auth):
    world = TenantWorld(auth=auth)
    world.check(Case(ENDPOINTS[2], "a_viewer", 200))
    world.check(Case(ENDPOINTS[3], "a_admin", 200))


@pytest.mark.parametrize("auth", ["jwt", "session"])
def test_unsafe_request_without_csrf_token_is_refused_and_changes_nothing(db, auth):
    world = TenantWorld(auth=auth)
    world.client("a_admin")  # signing in writes last_login; snapshot after it
    before = world.snapshot()
    response = world.request("a_admin", "PATCH", f"/api/v1/hotels/{world.a.slug}/", {"name_en": "x"}, csrf=False)
    assert response.status_code == 403
    assert world.snapshot() == before


def test_check_fails_when_a_persona_gets_more_than_declared(tenant_world):
    wrong = Endpoint("hotel-patch-wrong", "PATCH", A_HOTEL, body={"name_en": "Renamed"}, expect=everyone(403))
    with pytest.raises(pytest.fail.Exception, match="200, wanted 403"):
        tenant_world.check(Case(wrong, "a_admin", 403))


def test_snapshot_sees_field_and_link_changes(tenant_world):
    before = tenant_world.snapshot()
    tenant_world.a.staff.departments.clear()
    assert tenant_world.snapshot() != before
    before = tenant_world.snapshot()
    HotelMembership.objects.filter(pk=tenant_world.a.viewer.pk).update(role=Role.STAFF)
    assert tenant_world.snapshot() != before


def test_every_endpoint_declares_every_persona():
    with pytest.raises(ValueError, match="no expectation"):
        Endpoint("partial", "GET", HOTELS, expect={ANONYMOUS: 401, GUEST: 200})
    assert set(everyone(200)) == set(PERSONAS)
