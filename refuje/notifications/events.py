"""`notification_event`: announced after the transaction that created a notification commits.

Receivers get `kind` ("notification.created") and `notification` (recipient_id, hotel_id, kind,
title, body, data, id, created_at). The realtime relay may forward it to the recipient's streams.
A failing receiver is logged without affecting the others or the notification.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.db import transaction
from django.dispatch import Signal

if TYPE_CHECKING:
    from .models import Notification

logger = logging.getLogger(__name__)

NOTIFICATION_CREATED = "notification.created"

notification_event = Signal()


def publish_notification_event(notification: Notification) -> None:
    transaction.on_commit(lambda: _deliver(notification))


def _deliver(notification: Notification) -> None:
    for receiver, result in notification_event.send_robust(
        sender=type(notification), kind=NOTIFICATION_CREATED, notification=notification
    ):
        if isinstance(result, Exception):
            logger.error(
                "Listener %r failed on %s for notification %s",
                receiver,
                NOTIFICATION_CREATED,
                notification.pk,
                exc_info=(type(result), result, result.__traceback__),
            )
