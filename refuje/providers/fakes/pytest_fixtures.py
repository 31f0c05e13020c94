"""Pytest fixtures that start the local fake provider servers (see the modules beside this one).

Each fixture starts its own server on a free loopback port and points the provider settings at it
through pytest-django's `settings` fixture, so tests stay independent under pytest-xdist. They do
not choose OTP_PROVIDER or NOTIFICATION_PROVIDER: each test sets what it exercises.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_django.fixtures import Settings

from .authentica import DEFAULT_SENDER_NAME, FakeAuthentica
from .gupshup import FakeGupshup


@pytest.fixture
def fake_authentica(settings: Settings) -> Iterator[FakeAuthentica]:
    with FakeAuthentica() as fake:
        settings.AUTHENTICA_BASE_URL = fake.url
        settings.AUTHENTICA_API_KEY = fake.api_key
        settings.AUTHENTICA_SENDER_NAME = DEFAULT_SENDER_NAME
        yield fake


@pytest.fixture
def fake_gupshup(settings: Settings) -> Iterator[FakeGupshup]:
    with FakeGupshup() as fake:
        settings.GUPSHUP_BASE_URL = fake.url
        settings.GUPSHUP_API_KEY = fake.api_key
        settings.GUPSHUP_SOURCE = fake.source
        settings.GUPSHUP_APP_NAME = fake.app_name
        settings.GUPSHUP_OTP_TEMPLATE_ID = fake.otp_template_id
        yield fake
