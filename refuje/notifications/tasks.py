"""Notification tasks: one delivery per task, and the periodic jobs (CELERY_BEAT_SCHEDULE).

Tasks take ids and call a service; every effect is claimed in the database first, so a retried
or duplicated task (acks_late, two schedulers) changes nothing that already happened.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.app.task import Task

from refuje.common.jobs import recorded_job

from . import jobs
from .services import RETRY, delivery_attempt

# Waits between attempts of a transiently failing delivery, in seconds.
RETRY_BACKOFF = (15, 60, 300, 900)


@shared_task(bind=True, name="refuje.notifications.deliver", max_retries=None)
def deliver_task(self: Task[Any, Any], delivery_id: int) -> str:
    outcome = delivery_attempt(delivery_id=delivery_id)
    if outcome == RETRY:
        countdown = RETRY_BACKOFF[min(self.request.retries, len(RETRY_BACKOFF) - 1)]
        raise self.retry(countdown=countdown)
    return outcome


@shared_task(name="refuje.notifications.realert")
@recorded_job("refuje.notifications.realert")
def realert_task() -> dict[str, int]:
    return {"realerted": len(jobs.realert_run())}


@shared_task(name="refuje.notifications.reminders")
@recorded_job("refuje.notifications.reminders")
def reminders_task() -> dict[str, int]:
    result = jobs.reminder_run()
    return {
        "acknowledged": len(result.acknowledged),
        "upcoming": len(result.upcoming),
        "bookings": len(result.bookings),
    }


@shared_task(name="refuje.notifications.daily_digest")
@recorded_job("refuje.notifications.daily_digest")
def daily_digest_task() -> dict[str, int]:
    return {"hotels": len(jobs.digest_run())}


@shared_task(name="refuje.notifications.deliver_pending")
@recorded_job("refuje.notifications.deliver_pending")
def deliver_pending_task() -> dict[str, int]:
    return {"enqueued": jobs.deliver_pending_run()}


@shared_task(name="refuje.notifications.retention")
@recorded_job("refuje.notifications.retention")
def retention_task() -> dict[str, int]:
    return {"deleted": jobs.retention_run()}
