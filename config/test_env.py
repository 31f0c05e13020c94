"""Loaded first by pytest (`-p config.test_env`): the suite runs on real PostgreSQL and Redis."""

import os
import uuid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("REFUJE_TESTING", "1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("REFUJE_TEST_DB", "test_refuje")
# Each test process gets its own key space, so parallel runs never share rate-limit counters.
os.environ.setdefault("CACHE_KEY_PREFIX", f"refuje-test-{uuid.uuid4().hex[:8]}")
# Tasks queued by after-commit hooks go to an in-memory broker: no test leaves work in a shared
# Redis queue for some worker to pick up later. Tests that need a real worker set up their own.
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault("AUTH_COOKIE_SECURE", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
