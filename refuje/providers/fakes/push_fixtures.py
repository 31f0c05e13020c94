"""Pytest fixtures for the local fake Push service (see push.py beside this one).

`fake_push` configures a fresh VAPID key pair and lets our sender reach plain-http loopback
endpoints (PUSH_ALLOW_INSECURE_ENDPOINTS), which production refuses.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_django.fixtures import Settings

from refuje.push.vapid import generate_key_pair

from .push import FakePushService

VAPID_TEST_SUBJECT = "mailto:push-tests@refuje.example"


@pytest.fixture
def fake_push(settings: Settings) -> Iterator[FakePushService]:
    pair = generate_key_pair()
    settings.VAPID_PUBLIC_KEY = pair.public_key
    settings.VAPID_PRIVATE_KEY = pair.private_key
    settings.VAPID_SUBJECT = VAPID_TEST_SUBJECT
    settings.PUSH_ALLOW_INSECURE_ENDPOINTS = True
    with FakePushService(application_server_key=pair.public_key) as fake:
        yield fake
