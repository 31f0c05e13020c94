"""Periodic reviews jobs (scheduled in CELERY_BEAT_SCHEDULE).

The reconcile job recomputes every stored rating from the published reviews and fixes, and logs, any
drift. Each fix is decided under the rated row's lock, so a retried or duplicated run is harmless.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from refuje.common.jobs import recorded_job

from .ratings import ratings_reconcile


@shared_task(name="refuje.reviews.reconcile_ratings")
@recorded_job("refuje.reviews.reconcile_ratings")
def reconcile_ratings_task() -> dict[str, Any]:
    return ratings_reconcile().as_dict()
