"""Tenant and recipient matrix: everyone signed in reaches only their own notifications; another
person's notification is the one 404 and stays untouched."""

from __future__ import annotations

import pytest
from django.utils import timezone

from refuje.common.testing.tenancy import (
    ANONYMOUS,
    GUEST,
    PERSONAS,
    Endpoint,
    TenantWorld,
    everyone,
    matrix_cases,
)
from refuje.notifications.models import Notification, NotificationPreference

WATCH = (Notification, NotificationPreference)


def notifications(world: TenantWorld) -> None:
    """One unread notification for every signed-in persona, about their own hotel."""
    for persona in PERSONAS:
        user = world.user(persona)
        if user is None:
            continue
        hotel = world.a.hotel if persona.startswith("a_") else world.b.hotel if persona.startswith("b_") else None
        world.extra[persona] = Notification.objects.create(
            recipient=user, hotel=hotel, kind="request.new", language="en", title=f"for {persona}", body="x"
        )


def only_own(world: TenantWorld, persona: str, response) -> None:
    seen = {item["id"] for item in response.json()["results"]}
    assert seen == {world.extra[persona].pk}, (persona, seen)


def own_count(world: TenantWorld, persona: str, response) -> None:
    assert response.json() == {"count": 1}


def read_all_touches_own_only(world: TenantWorld, persona: str, response) -> None:
    assert response.json() == {"updated": 1}
    read = set(Notification.objects.filter(read_at__isnull=False).values_list("pk", flat=True))
    assert read == {world.extra[persona].pk}


def guest_one_read(world: TenantWorld, persona: str, response) -> None:
    assert response.json()["id"] == world.extra[GUEST].pk
    read_at = Notification.objects.get(pk=world.extra[GUEST].pk).read_at
    assert read_at is not None
    assert read_at <= timezone.now()


ENDPOINTS = [
    Endpoint("list", "GET", "/api/v1/notifications/", expect=everyone(200), setup=notifications, verify=only_own),
    Endpoint(
        "unread-count",
        "GET",
        "/api/v1/notifications/unread-count/",
        expect=everyone(200),
        setup=notifications,
        verify=own_count,
    ),
    Endpoint(
        "read-guests-notification",
        "POST",
        "/api/v1/notifications/{w.extra[guest].pk}/read/",
        expect=everyone(404, guest=200),
        setup=notifications,
        watch=WATCH,
        verify=guest_one_read,
    ),
    Endpoint(
        "read-a-staff-notification",
        "POST",
        "/api/v1/notifications/{w.extra[a_staff].pk}/read/",
        expect=everyone(404, a_staff=200),
        setup=notifications,
        watch=WATCH,
    ),
    Endpoint(
        "read-all",
        "POST",
        "/api/v1/notifications/read-all/",
        expect=everyone(200),
        setup=notifications,
        watch=WATCH,
        verify=read_all_touches_own_only,
    ),
    Endpoint("preferences-get", "GET", "/api/v1/notifications/preferences/", expect=everyone(200)),
    Endpoint(
        "preferences-patch",
        "PATCH",
        "/api/v1/notifications/preferences/",
        body={"sms": False},
        expect=everyone(200),
        watch=WATCH,
    ),
]


@pytest.mark.parametrize("case", matrix_cases(*ENDPOINTS))
def test_tenant_matrix(tenant_world, case):
    tenant_world.check(case)


def test_anonymous_is_refused_everywhere():
    assert all(endpoint.expect[ANONYMOUS] == 401 for endpoint in ENDPOINTS)
