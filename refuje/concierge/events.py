"""Domain events of service requests, delivered after the writing transaction commits.

Listeners connect to `request_event` (a Django signal) and receive `kind` ("request.created",
"request.updated", "request.note"), `request` and `activity`. They run once the transaction that
made the change has committed, never for a rolled-back change, and a failing listener is logged
without affecting the others or the request that caused the event. The realtime relay (Redis
pub/sub → SSE) and notifications plug in here.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.db import transaction
from django.dispatch import Signal

if TYPE_CHECKING:
    from .models import RequestActivity, ServiceRequest

logger = logging.getLogger(__name__)

REQUEST_CREATED = "request.created"
REQUEST_UPDATED = "request.updated"
REQUEST_NOTE = "request.note"

request_event = Signal()


def publish_request_event(kind: str, request: ServiceRequest, activity: RequestActivity) -> None:
    """Announce `activity` on `request` to every listener once the current transaction commits."""
    transaction.on_commit(lambda: _deliver(kind, request, activity))


def _deliver(kind: str, request: ServiceRequest, activity: RequestActivity) -> None:
    for receiver, result in request_event.send_robust(
        sender=type(request), kind=kind, request=request, activity=activity
    ):
        if isinstance(result, Exception):
            logger.error(
                "Listener %r failed on %s for request %s",
                receiver,
                kind,
                request.pk,
                exc_info=(type(result), result, result.__traceback__),
            )
