"""Tenant matrix over every experiences endpoint: wrong hotel → 404, role too low → 403, nothing changes."""

import pytest

from refuje.common.testing import images as fx
from refuje.common.testing.tenancy import (
    ANONYMOUS,
    PERSONAS,
    Endpoint,
    TenantWorld,
    hotel_scoped,
    matrix_cases,
    not_found_body,
)
from refuje.experiences.models import Experience, ExperienceImage
from refuje.hotels.models import Role

from .conftest import stored_files
from .factories import ExperienceFactory, ExperienceImageFactory

WATCH = (Experience, ExperienceImage)
A_LIST = "/api/v1/hotels/{w.a.slug}/experiences/"
A_OWN = A_LIST + "{w.extra[a_exp].pk}/"
A_FOREIGN = A_LIST + "{w.extra[b_exp].pk}/"
B_OWN = "/api/v1/hotels/{w.b.slug}/experiences/{w.extra[b_exp].pk}/"


def objects(world: TenantWorld) -> None:
    world.extra["a_exp"] = ExperienceFactory.create(hotel=world.a.hotel, department=world.a.department)
    world.extra["b_exp"] = ExperienceFactory.create(hotel=world.b.hotel, department=world.b.department)
    world.extra["a_img"] = ExperienceImageFactory.create(experience=world.extra["a_exp"])
    world.extra["b_img"] = ExperienceImageFactory.create(experience=world.extra["b_exp"])


def only_hotel_a(world, persona, response):
    ids = {item["id"] for item in response.json()["results"]}
    assert ids == {world.extra["a_exp"].pk}


def new_body(department_template):
    return {
        "department": department_template,
        "title_ar": "جديد",
        "title_en": "New",
        "price": {"amount_minor": 100},
        "duration_minutes": 30,
    }


ENDPOINTS = [
    Endpoint(
        "list",
        "GET",
        A_LIST,
        setup=objects,
        verify=only_hotel_a,
        expect=hotel_scoped(minimum=Role.VIEWER, ok=200),
    ),
    Endpoint(
        "create",
        "POST",
        A_LIST,
        body=new_body("{w.a.department.pk}"),
        setup=objects,
        watch=WATCH,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=201),
    ),
    Endpoint(
        "create-with-b-department",
        "POST",
        A_LIST,
        body=new_body("{w.b.department.pk}"),
        setup=objects,
        watch=WATCH,
        codes={400: "invalid", 403: "role_too_low", 404: "not_found", 401: "not_authenticated"},
        expect=hotel_scoped(minimum=Role.ADMIN, ok=400),
    ),
    Endpoint("retrieve", "GET", A_OWN, setup=objects, expect=hotel_scoped(minimum=Role.VIEWER, ok=200)),
    Endpoint("retrieve-b-id", "GET", A_FOREIGN, setup=objects, expect=hotel_scoped(minimum=Role.VIEWER, ok=404)),
    Endpoint(
        "update",
        "PATCH",
        A_OWN,
        body={"title_en": "Changed"},
        setup=objects,
        watch=WATCH,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=200),
    ),
    Endpoint(
        "update-b-id",
        "PATCH",
        A_FOREIGN,
        body={"title_en": "Changed"},
        setup=objects,
        watch=WATCH,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=404),
    ),
    Endpoint(
        "update-in-b",
        "PATCH",
        B_OWN,
        body={"title_en": "Changed"},
        setup=objects,
        watch=WATCH,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=200, hotel="b"),
    ),
    Endpoint("delete", "DELETE", A_OWN, setup=objects, watch=WATCH, expect=hotel_scoped(minimum=Role.ADMIN, ok=204)),
    Endpoint(
        "delete-b-id", "DELETE", A_FOREIGN, setup=objects, watch=WATCH, expect=hotel_scoped(minimum=Role.ADMIN, ok=404)
    ),
    Endpoint(
        "image-delete",
        "DELETE",
        A_OWN + "images/{w.extra[a_img].pk}/",
        setup=objects,
        watch=WATCH,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=204),
    ),
    Endpoint(
        "image-delete-b-ids",
        "DELETE",
        A_FOREIGN + "images/{w.extra[b_img].pk}/",
        setup=objects,
        watch=WATCH,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=404),
    ),
    Endpoint(
        "image-delete-b-image-via-a-experience",
        "DELETE",
        A_OWN + "images/{w.extra[b_img].pk}/",
        setup=objects,
        watch=WATCH,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=404),
    ),
]


@pytest.mark.parametrize("case", matrix_cases(*ENDPOINTS))
def test_tenant_matrix(tenant_world, case):
    tenant_world.check(case)


# Uploads are multipart, which the matrix's JSON requests cannot carry: same rules, checked here.
UPLOAD_CASES = [
    ("a_exp", hotel_scoped(minimum=Role.ADMIN, ok=201)),
    ("b_exp", hotel_scoped(minimum=Role.ADMIN, ok=404)),
]


@pytest.mark.parametrize(
    ("target", "persona", "status"),
    [(target, persona, expect[persona]) for target, expect in UPLOAD_CASES for persona in PERSONAS],
)
def test_image_upload_tenant_matrix(tenant_world, media_root, target, persona, status):
    world = tenant_world
    objects(world)
    world.client(persona)
    before = world.snapshot(WATCH)
    path = f"/api/v1/hotels/{world.a.slug}/experiences/{world.extra[target].pk}/images/"

    response = world.request(persona, "POST", path, {"image": fx.upload(fx.png_bytes())}, fmt="multipart")

    assert response.status_code == status, response.content
    if status == 201:
        assert ExperienceImage.objects.filter(pk=response.json()["id"], experience=world.extra["a_exp"]).exists()
        return
    assert world.snapshot(WATCH) == before
    assert stored_files(media_root) == []
    if status == 404:
        assert response.json() == not_found_body()
    elif persona == ANONYMOUS:
        assert response.json()["code"] == "not_authenticated"
    else:
        assert response.json()["code"] == "role_too_low"
