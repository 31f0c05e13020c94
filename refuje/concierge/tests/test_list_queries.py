"""Request lists cost the same number of queries for 1 item as for 50."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from refuje.common.testing.concierge_factories import GuestStayFactory
from refuje.common.testing.factories import MembershipFactory
from refuje.concierge import services
from refuje.concierge.models import RequestStatus, ServiceRequest
from refuje.experiences.tests.factories import ExperienceFactory
from refuje.hotels.models import Role

from .conftest import build_scene

pytestmark = pytest.mark.django_db


def queries_for(client, path, expected_items):
    client.get(path)  # warm-up: first-request work (sessions, content types) is not per item
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == expected_items
    return len(ctx.captured_queries)


def populate(scene, count):
    """`count` requests as varied as the board shows them: photos, experiences, acknowledgers."""
    experience = ExperienceFactory.create(hotel=scene.hotel, department=scene.department)
    for index in range(count):
        stay = scene.stay if index % 2 == 0 else GuestStayFactory.create(hotel=scene.hotel)
        request = scene.request(
            stay=stay,
            experience=experience if index % 3 == 0 else None,
            photo=f"requests/test/{index}.jpg" if index % 4 == 0 else "",
            photo_thumbnail=f"requests/test/{index}-thumb.jpg" if index % 4 == 0 else "",
        )
        if index % 2 == 1:
            services.service_request_acknowledge(actor=scene.staff.user, request=request)
            services.service_request_add_note(actor=scene.staff.user, request=request, note="noted")


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
def test_staff_list_queries_do_not_grow(role):
    def build(count):
        scene = build_scene()
        populate(scene, count)
        member = scene.staff if role == Role.STAFF else scene.admin
        return scene.client(member.user), scene.staff_url

    (client_one, path_one), (client_fifty, path_fifty) = build(1), build(50)
    assert queries_for(client_one, path_one, 1) == queries_for(client_fifty, path_fifty, 50)


def test_operator_list_queries_do_not_grow():
    def build(count):
        scene = build_scene()
        populate(scene, count)
        operator = MembershipFactory.build().user
        operator.is_superuser = True
        operator.save()
        return scene.client(operator), scene.staff_url

    (client_one, path_one), (client_fifty, path_fifty) = build(1), build(50)
    assert queries_for(client_one, path_one, 1) == queries_for(client_fifty, path_fifty, 50)


def test_guest_list_queries_do_not_grow():
    def build(count):
        scene = build_scene()
        populate(scene, count)
        # Every request of the scene's guest, whichever stay it is on.
        ServiceRequest.objects.filter(hotel=scene.hotel).update(stay=scene.stay)
        return scene.client(scene.guest), "/api/v1/guest/requests/"

    (client_one, path_one), (client_fifty, path_fifty) = build(1), build(50)
    assert queries_for(client_one, path_one, 1) == queries_for(client_fifty, path_fifty, 50)


def test_filtered_staff_list_queries_do_not_grow():
    def build(count):
        scene = build_scene()
        populate(scene, count)
        ServiceRequest.objects.filter(hotel=scene.hotel).update(status=RequestStatus.NEW)
        return scene.client(scene.admin.user), f"{scene.staff_url}?status=NEW&search=towels&overdue=false"

    (client_one, path_one), (client_fifty, path_fifty) = build(1), build(50)
    assert queries_for(client_one, path_one, 1) == queries_for(client_fifty, path_fifty, 50)
