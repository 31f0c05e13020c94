"""Tenant matrix over every QR code endpoint: wrong hotel → 404, below ADMIN → 403, nothing changes."""

import pytest

from refuje.common.testing.tenancy import Endpoint, TenantWorld, hotel_scoped, matrix_cases
from refuje.experiences.tests.factories import ExperienceFactory
from refuje.hotels.models import Role
from refuje.qrcodes.models import QRCode

from .factories import QRCodeFactory

WATCH = (QRCode,)
A_LIST = "/api/v1/hotels/{w.a.slug}/qr-codes/"
A_OWN = A_LIST + "{w.extra[a_qr].pk}/"
A_FOREIGN = A_LIST + "{w.extra[b_qr].pk}/"
WITH_400 = {400: "invalid", 401: "not_authenticated", 403: "role_too_low", 404: "not_found"}


def objects(world: TenantWorld) -> None:
    world.extra["a_qr"] = QRCodeFactory.create(hotel=world.a.hotel)
    world.extra["b_qr"] = QRCodeFactory.create(hotel=world.b.hotel)
    world.extra["b_exp"] = ExperienceFactory.create(hotel=world.b.hotel, department=world.b.department)


def only_hotel_a(world, persona, response):
    assert {item["id"] for item in response.json()["results"]} == {world.extra["a_qr"].pk}


def is_file(media_type):
    def verify(world, persona, response):
        assert response["Content-Type"] == media_type
        assert response.content

    return verify


ENDPOINTS = [
    Endpoint(
        "list", "GET", A_LIST, setup=objects, verify=only_hotel_a, expect=hotel_scoped(minimum=Role.ADMIN, ok=200)
    ),
    Endpoint(
        "create",
        "POST",
        A_LIST,
        body={"target_type": "department", "department": "{w.a.department.pk}"},
        setup=objects,
        watch=WATCH,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=201),
    ),
    Endpoint(
        "create-for-b-department",
        "POST",
        A_LIST,
        body={"target_type": "department", "department": "{w.b.department.pk}"},
        setup=objects,
        watch=WATCH,
        codes=WITH_400,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=400),
    ),
    Endpoint(
        "create-for-b-experience",
        "POST",
        A_LIST,
        body={"target_type": "experience", "experience": "{w.extra[b_exp].pk}"},
        setup=objects,
        watch=WATCH,
        codes=WITH_400,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=400),
    ),
    Endpoint("retrieve", "GET", A_OWN, setup=objects, expect=hotel_scoped(minimum=Role.ADMIN, ok=200)),
    Endpoint("retrieve-b-id", "GET", A_FOREIGN, setup=objects, expect=hotel_scoped(minimum=Role.ADMIN, ok=404)),
    Endpoint(
        "deactivate",
        "PATCH",
        A_OWN,
        body={"is_active": False},
        setup=objects,
        watch=WATCH,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=200),
    ),
    Endpoint(
        "deactivate-b-id",
        "PATCH",
        A_FOREIGN,
        body={"is_active": False},
        setup=objects,
        watch=WATCH,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=404),
    ),
    Endpoint(
        "deactivate-in-b",
        "PATCH",
        "/api/v1/hotels/{w.b.slug}/qr-codes/{w.extra[b_qr].pk}/",
        body={"is_active": False},
        setup=objects,
        watch=WATCH,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=200, hotel="b"),
    ),
    Endpoint(
        "png",
        "GET",
        A_OWN + "image.png",
        setup=objects,
        verify=is_file("image/png"),
        expect=hotel_scoped(minimum=Role.ADMIN, ok=200),
    ),
    Endpoint(
        "png-b-id", "GET", A_FOREIGN + "image.png", setup=objects, expect=hotel_scoped(minimum=Role.ADMIN, ok=404)
    ),
    Endpoint(
        "svg",
        "GET",
        A_OWN + "image.svg",
        setup=objects,
        verify=is_file("image/svg+xml"),
        expect=hotel_scoped(minimum=Role.ADMIN, ok=200),
    ),
    Endpoint(
        "svg-b-id", "GET", A_FOREIGN + "image.svg", setup=objects, expect=hotel_scoped(minimum=Role.ADMIN, ok=404)
    ),
    Endpoint(
        "sheet",
        "GET",
        A_LIST + "sheet.pdf",
        setup=objects,
        verify=is_file("application/pdf"),
        expect=hotel_scoped(minimum=Role.ADMIN, ok=200),
    ),
    Endpoint(
        "sheet-with-b-id",
        "GET",
        A_LIST + "sheet.pdf?ids={w.extra[b_qr].pk}",
        setup=objects,
        codes=WITH_400,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=400),
    ),
]


@pytest.mark.parametrize("case", matrix_cases(*ENDPOINTS))
def test_tenant_matrix(tenant_world, case):
    tenant_world.check(case)
