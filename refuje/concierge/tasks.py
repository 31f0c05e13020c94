"""Periodic concierge jobs (scheduled in CELERY_BEAT_SCHEDULE).

Each run looks at the database afresh and every effect is guarded per row, so a retried or
duplicated run (acks_late, two schedulers) changes nothing that already happened.
"""

from __future__ import annotations

from celery import shared_task

from refuje.common.jobs import recorded_job

from .escalation import escalation_run, expiry_run

ESCALATE_REQUESTS = "refuje.concierge.escalate_requests"
EXPIRE_REQUESTS = "refuje.concierge.expire_requests"


# Escalation proves it is alive through its own EscalationHeartbeat (written by escalation_run),
# which /readyz checks; the other jobs record a generic JobHeartbeat.
@shared_task(name=ESCALATE_REQUESTS)
def escalate_requests_task() -> dict[str, int]:
    result = escalation_run()
    return {f"level_{level}": len(ids) for level, ids in result.escalated.items()}


@shared_task(name=EXPIRE_REQUESTS)
@recorded_job(EXPIRE_REQUESTS)
def expire_requests_task() -> dict[str, int]:
    return {"expired": len(expiry_run().expired)}
