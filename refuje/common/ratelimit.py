"""Fixed-window rate limits: counters in Redis, with the database as a fallback that keeps counting.

Windows are aligned to the epoch (window index = now // window), so Redis and the database agree on
which window a hit belongs to. When Redis is absent, unreachable or slow, the same hit is counted
in `RateLimitCounter` instead: a Redis outage must never switch the limits off.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from redis.backoff import NoBackoff
from redis.retry import Retry

from .models import RateLimitCounter

logger = logging.getLogger(__name__)

# After a Redis failure this process counts in the database for a few seconds before trying Redis
# again, so an outage costs one short timeout per process, not one per request.
REDIS_RETRY_AFTER_FAILURE_SECONDS = 5.0
REDIS_SOCKET_TIMEOUT_SECONDS = 0.25
DB_KEY_MAX_LENGTH = 200
_clients: dict[str, redis.Redis] = {}
_redis_down_until: dict[str, float] = {}


@dataclass(frozen=True)
class Limit:
    key: str
    limit: int
    window_seconds: int


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0
    count: int = 0
    key: str = ""


@dataclass(frozen=True)
class _Window:
    index: int
    start: datetime
    retry_after: int


def client_ip(request: HttpRequest) -> str | None:
    """The address limits are keyed on. Behind a proxy, the server sets REMOTE_ADDR from the
    trusted forwarding header (a deployment concern), so this stays the one place to read it."""
    raw = request.META.get("REMOTE_ADDR") or ""
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        return None


def hit(key: str, limit: int, window_seconds: int) -> Decision:
    """Count one event for `key` and say whether it is within `limit` per window."""
    return hit_all([Limit(key, limit, window_seconds)])


def peek(key: str, limit: int, window_seconds: int) -> Decision:
    """Whether one more event for `key` would be allowed, without counting it."""
    return peek_all([Limit(key, limit, window_seconds)])


def peek_all(limits: Sequence[Limit]) -> Decision:
    counts = _counts(limits, increment=False)
    return _decide(limits, [count + 1 for count in counts])


def hit_all(limits: Sequence[Limit]) -> Decision:
    """Count one event against every limit, unless one of them is already exhausted.

    Checking first means a request refused by one limit does not use up the others (a person
    pressing "resend" during the cooldown keeps their hourly budget). The increment itself is
    atomic, so concurrent requests cannot both take the last slot.
    """
    if not limits:
        return Decision(allowed=True)
    refused = peek_all(limits)
    if not refused.allowed:
        return refused
    return _decide(limits, _counts(limits, increment=True))


def ratelimit_prune(*, now: datetime | None = None) -> int:
    """Delete database windows older than a day (every window in use is shorter); for a cleanup job."""
    cutoff = (now or timezone.now()) - timedelta(days=1)
    deleted, _ = RateLimitCounter.objects.filter(window_start__lt=cutoff).delete()
    return deleted


def _decide(limits: Sequence[Limit], counts: Sequence[int]) -> Decision:
    now = timezone.now()
    worst: Decision | None = None
    highest = 0
    for item, count in zip(limits, counts, strict=True):
        highest = max(highest, count)
        if count > item.limit:
            retry_after = _window(item.window_seconds, now).retry_after
            if worst is None or retry_after > worst.retry_after:
                worst = Decision(allowed=False, retry_after=retry_after, count=count, key=item.key)
    return worst or Decision(allowed=True, count=highest)


def _window(window_seconds: int, now: datetime) -> _Window:
    window_seconds = max(1, int(window_seconds))
    stamp = now.timestamp()
    index = int(stamp // window_seconds)
    start = datetime.fromtimestamp(index * window_seconds, tz=now.tzinfo)
    retry_after = max(1, math.ceil((index + 1) * window_seconds - stamp))
    return _Window(index=index, start=start, retry_after=retry_after)


def _counts(limits: Sequence[Limit], *, increment: bool) -> list[int]:
    now = timezone.now()
    windows = [_window(item.window_seconds, now) for item in limits]
    counts = _redis_counts(limits, windows, increment=increment)
    if counts is not None:
        return counts
    if increment:
        return [_db_increment(item.key, window.start) for item, window in zip(limits, windows, strict=True)]
    return [_db_count(item.key, window.start) for item, window in zip(limits, windows, strict=True)]


def _redis_client() -> redis.Redis | None:
    url = str(getattr(settings, "REDIS_URL", "") or "")
    if not url or time.monotonic() < _redis_down_until.get(url, 0.0):
        return None
    client = _clients.get(url)
    if client is None:
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=REDIS_SOCKET_TIMEOUT_SECONDS,
            socket_timeout=REDIS_SOCKET_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 0),
        )
        _clients[url] = client
    return client


def _redis_key(key: str, window: _Window, window_seconds: int) -> str:
    prefix = settings.CACHES.get("default", {}).get("KEY_PREFIX", "")
    return f"{prefix}:ratelimit:{key}:{window_seconds}:{window.index}"


def _redis_counts(limits: Sequence[Limit], windows: Sequence[_Window], *, increment: bool) -> list[int] | None:
    client = _redis_client()
    if client is None:
        return None
    try:
        with client.pipeline(transaction=increment) as pipe:
            for item, window in zip(limits, windows, strict=True):
                name = _redis_key(item.key, window, item.window_seconds)
                if increment:
                    pipe.incr(name)
                    # A little longer than the window so a late reader still sees the final count.
                    pipe.expire(name, item.window_seconds + 5)
                else:
                    pipe.get(name)
            replies = pipe.execute()
    except (redis.RedisError, OSError) as exc:
        url = str(settings.REDIS_URL)
        _redis_down_until[url] = time.monotonic() + REDIS_RETRY_AFTER_FAILURE_SECONDS
        logger.warning("Rate limits fall back to the database: Redis failed (%s)", exc.__class__.__name__)
        return None
    if increment:
        return [int(reply) for reply in replies[0::2]]
    return [int(reply or 0) for reply in replies]


def _db_key(key: str) -> str:
    if len(key) <= DB_KEY_MAX_LENGTH:
        return key
    return key[:100] + ":" + hashlib.sha256(key.encode()).hexdigest()


def _db_increment(key: str, window_start: datetime) -> int:
    key = _db_key(key)
    rows = RateLimitCounter.objects.filter(key=key, window_start=window_start)
    with transaction.atomic():
        if not rows.update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    RateLimitCounter.objects.create(key=key, window_start=window_start, count=1)
            except IntegrityError:
                # Another request created this window's row first: count on it.
                rows.update(count=F("count") + 1)
        # Our UPDATE holds the row lock until commit, so this reads our own increment.
        return int(rows.values_list("count", flat=True).get())


def _db_count(key: str, window_start: datetime) -> int:
    rows = RateLimitCounter.objects.filter(key=_db_key(key), window_start=window_start)
    return int(rows.values_list("count", flat=True).first() or 0)
