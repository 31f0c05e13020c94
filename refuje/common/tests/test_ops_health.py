import pytest
from django.test import override_settings

DEAD_REDIS = "redis://127.0.0.1:1/0"


def test_healthz_answers_200_without_touching_anything(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_every_check_ok_when_database_cache_and_broker_are_up(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {"database", "cache", "broker"} <= set(body["checks"])
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["cache"]["info"] == "redis"
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_readyz_answers_503_naming_the_checks_that_failed_when_redis_is_unreachable(client):
    dead_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    with override_settings(REDIS_URL=DEAD_REDIS, CELERY_BROKER_URL=DEAD_REDIS, CACHES=dead_cache):
        response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["cache"]["ok"] is False
    assert body["checks"]["broker"]["ok"] is False
