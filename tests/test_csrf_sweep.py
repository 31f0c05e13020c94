"""Every unsafe API operation refuses a cookie-authenticated request without a CSRF token.

The operations come from the published schema, so a new endpoint is swept automatically.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from refuje.accounts.sessions import session_start
from refuje.common.testing.factories import HotelFactory, MembershipFactory, UserFactory
from refuje.hotels.models import Role

pytestmark = pytest.mark.django_db

UNSAFE = ("post", "put", "patch", "delete")
# Called by providers, not browsers: authenticated by a shared secret instead of cookies.
EXEMPT_PREFIXES = (
    "/api/v1/webhooks/",
    "/api/v1/auth/token/",  # retired: answers 410 to anything and touches no cookie
)


def _unsafe_operations() -> list[tuple[str, str]]:
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    return sorted(
        (path, method)
        for path, operations in paths.items()
        for method in operations
        if method in UNSAFE and not path.startswith(EXEMPT_PREFIXES)
    )


OPERATIONS = _unsafe_operations()


def _concrete(path: str, hotel_slug: str) -> str:
    path = path.replace("{hotel}", hotel_slug)
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.fixture
def cookie_client() -> tuple[APIClient, str]:
    hotel = HotelFactory.create(slug="sweep")
    user = UserFactory.create()
    MembershipFactory.create(user=user, hotel=hotel, role=Role.SUPERADMIN)
    client = APIClient(enforce_csrf_checks=True)
    pair = session_start(user=user)
    client.cookies[settings.AUTH_ACCESS_COOKIE] = pair.access
    client.cookies[settings.AUTH_REFRESH_COOKIE] = pair.refresh
    client.get("/api/v1/auth/csrf/")
    return client, hotel.slug


def test_the_sweep_covers_the_api():
    assert len(OPERATIONS) >= 10, OPERATIONS


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_cookie_request_without_csrf_token_is_refused(cookie_client, path, method):
    client, slug = cookie_client
    response = getattr(client, method)(_concrete(path, slug), {}, format="json")
    assert response.status_code == 403, (path, method, response.status_code, response.content[:200])
    assert response.json()["code"] == "csrf_failed"


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_cookie_request_with_csrf_token_passes_the_csrf_check(cookie_client, path, method):
    client, slug = cookie_client
    token = client.cookies["csrftoken"].value
    response = getattr(client, method)(_concrete(path, slug), {}, format="json", headers={"x-csrftoken": token})
    assert response.status_code < 500
    assert not (response.status_code == 403 and response.json().get("code") == "csrf_failed"), (path, method)
