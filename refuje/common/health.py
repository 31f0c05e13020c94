"""Liveness and readiness probes.

Readiness checks are registered by the apps that own them (`register_readiness_check`), so the
probe grows with the system without knowing every part of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse

Check = Callable[[], tuple[bool, str]]
_checks: dict[str, Check] = {}


def register_readiness_check(name: str, check: Check) -> None:
    _checks[name] = check


def _database() -> tuple[bool, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return True, connection.vendor


def _cache() -> tuple[bool, str]:
    key = "readyz:probe"
    cache.set(key, "1", 5)
    return cache.get(key) == "1", "redis" if settings.REDIS_URL else "local memory"


def _broker() -> tuple[bool, str]:
    if not settings.REDIS_URL:
        return settings.CELERY_BROKER_DIR.exists() or not settings.DEBUG, "filesystem"
    # Through kombu, so whatever transport CELERY_BROKER_URL names is the one that is checked.
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL, connect_timeout=0.5) as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=1)
    return True, str(settings.CELERY_BROKER_URL).split(":", 1)[0]


register_readiness_check("database", _database)
register_readiness_check("cache", _cache)
register_readiness_check("broker", _broker)


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    results: dict[str, dict[str, object]] = {}
    healthy = True
    for name, check in _checks.items():
        started = time.monotonic()
        try:
            ok, info = check()
        except Exception as exc:  # a probe reports failures, it does not raise them
            ok, info = False, exc.__class__.__name__
        results[name] = {"ok": ok, "info": info, "ms": round((time.monotonic() - started) * 1000, 1)}
        healthy = healthy and ok
    response = JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": results}, status=200 if healthy else 503
    )
    response["Cache-Control"] = "no-store"
    return response
