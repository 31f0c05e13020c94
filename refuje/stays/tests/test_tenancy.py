"""Tenant matrix over every stays endpoint: other hotels' stays are the one 404, roles too low 403,
guests reach only their own stay, and nothing changes on a refusal."""

from __future__ import annotations

import pytest

from refuje.common.testing.concierge_factories import GuestStayFactory, HotelConciergeSettingsFactory
from refuje.common.testing.tenancy import (
    Endpoint,
    TenantWorld,
    everyone,
    hotel_scoped,
    matrix_cases,
)
from refuje.hotels.models import Role
from refuje.qrcodes.tests.factories import QRCodeFactory
from refuje.stays.models import GuestStay, HotelConciergeSettings

WATCH = (GuestStay, HotelConciergeSettings)
A = "/api/v1/hotels/{w.a.slug}"
B = "/api/v1/hotels/{w.b.slug}"
NO_SELF_CHECK_IN = {401: "not_authenticated", 403: "self_check_in_disabled", 404: "not_found"}


def objects(world: TenantWorld) -> None:
    HotelConciergeSettingsFactory.create(hotel=world.a.hotel, self_check_in_enabled=True)
    world.extra.update(
        a_stay=GuestStayFactory.create(hotel=world.a.hotel, guest=world.guest),
        b_stay=GuestStayFactory.create(hotel=world.b.hotel),
        a_room=QRCodeFactory.create(hotel=world.a.hotel),
        b_room=QRCodeFactory.create(hotel=world.b.hotel),  # hotel B has self check-in off
    )


def only_hotel_a(world: TenantWorld, persona: str, response) -> None:
    assert {item["id"] for item in response.json()["results"]} == {world.extra["a_stay"].pk}


ENDPOINTS = [
    Endpoint(
        "list",
        "GET",
        A + "/stays/",
        setup=objects,
        verify=only_hotel_a,
        expect=hotel_scoped(minimum=Role.STAFF, ok=200),
    ),
    Endpoint(
        "register",
        "POST",
        A + "/stays/",
        body={"phone": "+966559876543", "room": "12", "check_in": "2025-01-01", "check_out": "2025-01-02"},
        setup=objects,
        watch=WATCH,
        expect=hotel_scoped(minimum=Role.STAFF, ok=201),
    ),
    Endpoint(
        "retrieve",
        "GET",
        A + "/stays/{w.extra[a_stay].pk}/",
        setup=objects,
        expect=hotel_scoped(minimum=Role.STAFF, ok=200),
    ),
    Endpoint(
        "retrieve-b-id",
        "GET",
        A + "/stays/{w.extra[b_stay].pk}/",
        setup=objects,
        expect=hotel_scoped(minimum=Role.STAFF, ok=404),
    ),
    Endpoint(
        "check-out",
        "PATCH",
        A + "/stays/{w.extra[a_stay].pk}/",
        body={"status": "CHECKED_OUT"},
        setup=objects,
        watch=WATCH,
        expect=hotel_scoped(minimum=Role.STAFF, ok=200),
    ),
    Endpoint(
        "check-out-b-id",
        "PATCH",
        A + "/stays/{w.extra[b_stay].pk}/",
        body={"status": "CHECKED_OUT"},
        setup=objects,
        watch=WATCH,
        expect=hotel_scoped(minimum=Role.STAFF, ok=404),
    ),
    Endpoint(
        "check-out-in-b",
        "PATCH",
        B + "/stays/{w.extra[b_stay].pk}/",
        body={"status": "CHECKED_OUT"},
        setup=objects,
        watch=WATCH,
        expect=hotel_scoped(minimum=Role.STAFF, ok=200, hotel="b"),
    ),
    Endpoint(
        "settings-get",
        "GET",
        A + "/concierge-settings/",
        setup=objects,
        expect=hotel_scoped(minimum=Role.VIEWER, ok=200),
    ),
    Endpoint(
        "settings-patch",
        "PATCH",
        A + "/concierge-settings/",
        body={"self_check_in_nights": 2},
        setup=objects,
        watch=WATCH,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=200),
    ),
    Endpoint(
        "guest-current",
        "GET",
        "/api/v1/guest/stays/current/?hotel={w.a.slug}",
        setup=objects,
        expect=everyone(404, guest=200),
    ),
    Endpoint(
        "guest-self-check-in",
        "POST",
        "/api/v1/guest/stays/self-check-in/",
        body={"qr_token": "{w.extra[a_room].token}"},
        setup=objects,
        watch=WATCH,
        # Anyone signed in who scans the room's code checks in; the guest already has a stay there.
        expect=everyone(201, guest=200),
    ),
    Endpoint(
        "guest-self-check-in-disabled-hotel",
        "POST",
        "/api/v1/guest/stays/self-check-in/",
        body={"qr_token": "{w.extra[b_room].token}"},
        setup=objects,
        watch=WATCH,
        codes=NO_SELF_CHECK_IN,
        expect=everyone(403),
    ),
]


@pytest.mark.parametrize("case", matrix_cases(*ENDPOINTS))
def test_tenant_matrix(tenant_world, case):
    tenant_world.check(case)
