from __future__ import annotations

import copy
import shutil
import socket
import subprocess
import threading
import time
import uuid
from datetime import UTC, datetime

import pytest
import redis
from django.db import connection
from django.test import RequestFactory
from freezegun import freeze_time

from refuje.common import ratelimit
from refuje.common.models import RateLimitCounter


class PrivateRedis:
    """A redis-server of our own on a free port, so a test can stop it without touching anyone else's."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is required to test the Redis-down fallback (apt-get install redis-server)")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen(  # noqa: S603 - a fixed binary with fixed arguments
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.05)

    def stored_keys(self) -> list[bytes]:
        return list(self.client.scan_iter("*"))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def private_redis(settings):
    server = PrivateRedis()
    settings.REDIS_URL = server.url
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh_key_space(settings):
    """Counters of one test never leak into another (the Redis key space is per process)."""
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches


def _hits(key: str, times: int, *, limit: int = 3, window: int = 60) -> list[ratelimit.Decision]:
    return [ratelimit.hit(key, limit, window) for _ in range(times)]


@pytest.mark.django_db
def test_hits_are_allowed_up_to_the_limit_then_refused_with_retry_after():
    decisions = _hits("t:basic", 4)

    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert 1 <= decisions[-1].retry_after <= 60
    assert decisions[-1].key == "t:basic"


@pytest.mark.django_db
def test_redis_counts_when_it_is_up(private_redis):
    _hits("t:redis", 2)

    assert any(b":ratelimit:t:redis:" in key for key in private_redis.stored_keys())
    assert not RateLimitCounter.objects.exists()


@pytest.mark.django_db
def test_database_counts_when_redis_is_not_configured(settings):
    settings.REDIS_URL = ""

    decisions = _hits("t:no-redis", 4)

    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert RateLimitCounter.objects.get(key="t:no-redis").count == 3


@pytest.mark.django_db
def test_limits_still_hold_when_redis_is_stopped(private_redis):
    assert all(d.allowed for d in _hits("t:outage", 2, limit=2))
    assert ratelimit.hit("t:outage", 2, 60).allowed is False  # counted in Redis

    private_redis.stop()
    after = _hits("t:outage", 3, limit=2)

    assert [d.allowed for d in after] == [True, True, False]
    assert RateLimitCounter.objects.get(key="t:outage").count == 2


@pytest.mark.django_db
def test_peek_does_not_count():
    for _ in range(5):
        assert ratelimit.peek("t:peek", 1, 60).allowed

    assert ratelimit.hit("t:peek", 1, 60).allowed
    assert ratelimit.peek("t:peek", 1, 60).allowed is False


@pytest.mark.django_db
def test_a_refusal_by_one_limit_does_not_use_up_the_others():
    tight = ratelimit.Limit("t:tight", 1, 60)
    loose = ratelimit.Limit("t:loose", 2, 60)
    assert ratelimit.hit_all([tight, loose]).allowed

    refused = ratelimit.hit_all([tight, loose])
    assert (refused.allowed, refused.key) == (False, "t:tight")

    assert ratelimit.hit("t:loose", 2, 60).allowed  # the refused request did not count here


@pytest.mark.django_db
def test_a_new_window_starts_a_new_count(settings):
    settings.REDIS_URL = ""
    with freeze_time(datetime(2030, 1, 1, 10, 0, 5, tzinfo=UTC)) as clock:
        assert ratelimit.hit("t:window", 1, 60).allowed
        refused = ratelimit.hit("t:window", 1, 60)
        assert refused.allowed is False
        assert refused.retry_after == 55
        clock.tick(56)
        assert ratelimit.hit("t:window", 1, 60).allowed


@pytest.mark.django_db
def test_prune_deletes_only_windows_older_than_a_day(settings):
    settings.REDIS_URL = ""
    with freeze_time(datetime(2030, 1, 1, 10, 0, tzinfo=UTC)) as clock:
        ratelimit.hit("t:old", 5, 3600)
        clock.tick(25 * 3600)
        ratelimit.hit("t:recent", 5, 3600)

        assert ratelimit.ratelimit_prune() == 1

    assert list(RateLimitCounter.objects.values_list("key", flat=True)) == ["t:recent"]


def _concurrently(threads_count: int, work) -> None:
    barrier = threading.Barrier(threads_count)

    def worker():
        try:
            barrier.wait()
            work()
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_database_counter_loses_no_concurrent_hit(settings):
    settings.REDIS_URL = ""

    def work():
        for _ in range(5):
            ratelimit.hit("t:race-count", 1000, 3600)

    _concurrently(6, work)

    assert RateLimitCounter.objects.get(key="t:race-count").count == 30


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
@pytest.mark.parametrize("use_redis", [True, False], ids=["redis", "database"])
def test_concurrent_hits_never_allow_more_than_the_limit(settings, use_redis):
    if not use_redis:
        settings.REDIS_URL = ""
    allowed: list[bool] = []
    lock = threading.Lock()

    def work():
        for _ in range(5):
            decision = ratelimit.hit("t:race-limit", 7, 3600)
            with lock:
                allowed.append(decision.allowed)

    _concurrently(6, work)

    assert allowed.count(True) == 7


def test_client_ip_is_remote_addr_and_ignores_garbage():
    factory = RequestFactory()
    assert ratelimit.client_ip(factory.get("/", REMOTE_ADDR="203.0.113.9")) == "203.0.113.9"
    assert ratelimit.client_ip(factory.get("/", REMOTE_ADDR="not an ip")) is None
    forged = factory.get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert ratelimit.client_ip(forged) == "203.0.113.9"
