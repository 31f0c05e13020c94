"""Fuzz every operation of the published OpenAPI schema: bad input is a 4xx, never a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from config.wsgi import application
from refuje.accounts.sessions import session_start
from refuje.common.testing.factories import DepartmentFactory, HotelFactory, MembershipFactory, UserFactory
from refuje.hotels.models import Role

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]


# Loaded at collection: serving the schema touches no database.
# Server-sent event streams (paths ending in /stream/) never end, so a WSGI call to one would hang
# the fuzzer; refuje/realtime/tests run them end to end against a real ASGI server instead.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application).exclude(path_regex=r"/stream/$")


@pytest.fixture(autouse=True)
def _keep_test_connection_open():
    """The WSGI handler closes "old" connections when a request ends, which would close the
    test's transaction; Django's own test client suspends that handler the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def superadmin_bearer() -> dict[str, str]:
    """A SUPERADMIN of a hotel with a department, so hotel-scoped paths reach real objects."""
    hotel = HotelFactory.create(slug="fuzz")
    DepartmentFactory.create(hotel=hotel)
    user = UserFactory.create(email="fuzz@example.com")
    MembershipFactory.create(user=user, hotel=hotel, role=Role.SUPERADMIN)
    return {"Authorization": f"Bearer {session_start(user=user).access}"}


FUZZ_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_anonymous_requests_never_cause_server_errors(case):
    case.call_and_validate(checks=[not_a_server_error])


@schema.parametrize()
@FUZZ_SETTINGS
def test_signed_in_requests_never_cause_server_errors(case, superadmin_bearer):
    case.call_and_validate(headers=superadmin_bearer, checks=[not_a_server_error])
