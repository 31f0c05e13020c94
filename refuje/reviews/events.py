"""Domain events of reviews, delivered after the writing transaction commits.

Listeners connect to `review_event` (a Django signal) and receive `kind` ("review.created",
"review.hidden", "review.published") and `review`. They run once the transaction that made the
change has committed, never for a rolled-back change; a failing listener is logged without
affecting the others or the change that caused the event.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.db import transaction
from django.dispatch import Signal

if TYPE_CHECKING:
    from .models import Review

logger = logging.getLogger(__name__)

REVIEW_CREATED = "review.created"
REVIEW_HIDDEN = "review.hidden"
REVIEW_PUBLISHED = "review.published"

review_event = Signal()


def publish_review_event(kind: str, review: Review) -> None:
    """Announce `kind` for `review` to every listener once the current transaction commits."""
    transaction.on_commit(lambda: _deliver(kind, review))


def _deliver(kind: str, review: Review) -> None:
    for receiver, result in review_event.send_robust(sender=type(review), kind=kind, review=review):
        if isinstance(result, Exception):
            logger.error(
                "Listener %r failed on %s for review %s",
                receiver,
                kind,
                review.pk,
                exc_info=(type(result), result, result.__traceback__),
            )
