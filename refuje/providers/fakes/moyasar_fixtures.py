"""Pytest fixtures for the local fake Moyasar server.

`fake_moyasar` starts a FakeMoyasar on a free loopback port and points every MOYASAR_* setting at
it (secret and publishable keys, webhook secret, base URL) with PAYMENT_PROVIDER=moyasar.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_django.fixtures import Settings

from .moyasar import FakeMoyasar


@pytest.fixture
def fake_moyasar(settings: Settings) -> Iterator[FakeMoyasar]:
    with FakeMoyasar() as fake:
        settings.PAYMENT_PROVIDER = "moyasar"
        settings.MOYASAR_BASE_URL = fake.url
        settings.MOYASAR_SECRET_KEY = fake.secret_key
        settings.MOYASAR_PUBLISHABLE_KEY = fake.publishable_key
        settings.MOYASAR_WEBHOOK_SECRET = fake.webhook_secret
        yield fake
