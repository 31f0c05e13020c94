from __future__ import annotations

import pytest

from refuje.concierge.tests.conftest import build_scene

from .support import PrivateRedis, ThreadServer

__all__ = ["build_scene"]


@pytest.fixture
def fast_streams(settings):
    """Heartbeats and polling in fractions of a second, so tests never wait long."""
    settings.REALTIME_HEARTBEAT_SECONDS = 0.3
    settings.REALTIME_POLL_SECONDS = 0.3
    settings.REALTIME_REDIS_RETRY_MAX_SECONDS = 0.3
    return settings


@pytest.fixture
def embedded(fast_streams):
    """No Redis: the in-process bus (the embedded default)."""
    fast_streams.REALTIME_REDIS_URL = ""
    return fast_streams


@pytest.fixture
def private_redis():
    server = PrivateRedis()
    yield server
    server.stop()


@pytest.fixture
def asgi_server(embedded):
    """uvicorn serving config.asgi in a thread of this process (tests use transaction=True)."""
    server = ThreadServer().start()
    yield server
    server.stop()
