"""Periodic bookings jobs (scheduled in CELERY_BEAT_SCHEDULE).

Each run looks at the database afresh and every expiry is guarded per row (locked, re-checked), so
a retried or duplicated run (acks_late, two schedulers) changes nothing that already happened.
"""

from __future__ import annotations

from celery import shared_task

from refuje.common.jobs import recorded_job

from .services import bookings_release_expired_holds


@shared_task(name="refuje.bookings.release_expired_holds")
@recorded_job("refuje.bookings.release_expired_holds")
def release_expired_holds_task() -> dict[str, int]:
    return {"expired": len(bookings_release_expired_holds())}
