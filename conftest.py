import copy
import uuid

import pytest
from rest_framework.test import APIClient

from refuje.common.testing.factories import HotelFactory, UserFactory

pytest_plugins = [
    "refuje.providers.fakes.pytest_fixtures",
    "refuje.providers.fakes.moyasar_fixtures",
    "refuje.providers.fakes.push_fixtures",
    "refuje.common.testing.tenancy",
]


@pytest.fixture
def api_client() -> APIClient:
    """A client that behaves like a browser: CSRF checks are enforced."""
    return APIClient(enforce_csrf_checks=True)


@pytest.fixture
def hotel():
    return HotelFactory()


@pytest.fixture
def staff_user():
    return UserFactory()


@pytest.fixture(autouse=True)
def _fresh_rate_limit_keys(settings):
    """Rate-limit counters live in Redis across tests; a key space per test keeps them independent."""
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches
