"""Periodic payment jobs (scheduled in CELERY_BEAT_SCHEDULE). Idempotent: safe to retry or overlap."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from refuje.common.jobs import recorded_job

from .services import payment_reconcile_run

RECONCILE_PAYMENTS = "refuje.payments.reconcile_payments"


@shared_task(name=RECONCILE_PAYMENTS)
@recorded_job(RECONCILE_PAYMENTS)
def reconcile_payments_task() -> dict[str, int]:
    """Fetch payments whose webhooks never came, and finish refunds Moyasar never answered."""
    return asdict(payment_reconcile_run())
