"""Celery entry point for web push: `refuje.push.send_to_user`."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django.conf import settings

from refuje.accounts.models import User

from .services import push_deliver

# Backoff when a push service gives no Retry-After: 30 s, 60 s, 120 s, … capped at 10 minutes.
_BASE_BACKOFF_SECONDS = 30
_MAX_BACKOFF_SECONDS = 600


@shared_task(bind=True, name="refuje.push.send_to_user", acks_late=True, max_retries=None)
def send_to_user_task(
    self: Task[Any, int],
    user_id: int,
    payload: dict[str, Any],
    ttl: int = 3600,
    urgency: str = "normal",
    topic: str | None = None,
    subscription_ids: list[int] | None = None,
) -> int:
    """Push `payload` to the user's browsers; returns how many accepted it.

    Subscriptions that failed transiently (429, 5xx, network) are retried alone, so a browser that
    already got the message does not get it twice; the TTL shrinks by the time waited.
    """
    if not User.objects.filter(pk=user_id, is_active=True).exists():
        return 0
    report = push_deliver(
        user_id=user_id, payload=payload, ttl=ttl, urgency=urgency, topic=topic, subscription_ids=subscription_ids
    )
    retries = int(self.request.retries or 0)
    if report.retry_ids and retries < int(settings.PUSH_SEND_MAX_RETRIES):
        countdown = report.retry_after or min(_MAX_BACKOFF_SECONDS, _BASE_BACKOFF_SECONDS * 2**retries)
        if ttl > countdown:  # a message that would have expired by then is not worth sending
            raise self.retry(
                kwargs={
                    "user_id": user_id,
                    "payload": payload,
                    "ttl": ttl - countdown,
                    "urgency": urgency,
                    "topic": topic,
                    "subscription_ids": report.retry_ids,
                },
                countdown=countdown,
            )
    return report.sent
