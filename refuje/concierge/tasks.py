"""Periodic concierge jobs (scheduled in CELERY_BEAT_SCHEDULE).

Each run looks at the database afresh and every effect is guarded per row, so a retried or
duplicated run (acks_late, two schedulers) changes nothing that already happened.
"""

from __future__ import annotations

from celery import shared_task

from .escalation import escalation_run, expiry_run


@shared_task(name="refuje.concierge.escalate_requests")
def escalate_requests_task() -> dict[str, int]:
    result = escalation_run()
    return {f"level_{level}": len(ids) for level, ids in result.escalated.items()}


@shared_task(name="refuje.concierge.expire_requests")
def expire_requests_task() -> dict[str, int]:
    return {"expired": len(expiry_run().expired)}
