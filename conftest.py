pytest_plugins = ["refuje.providers.fakes.pytest_fixtures"]

import pytest
from rest_framework.test import APIClient

from refuje.common.testing.factories import HotelFactory, UserFactory


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
