"""Periodic jobs on unanswered requests: escalation (with the heartbeat that proves it is alive)
and expiry.

A request still NEW past its `response_due_at` goes to level 1 (department leads and admins);
still NEW `ESCALATION_LEVEL2_AFTER_MINUTES` later, to level 2 (hotel admins). Each level is raised
exactly once per request, even when two beat schedulers or a retried task run at the same time:
the raise is one conditional UPDATE (`escalation_level < level`), and PostgreSQL re-checks that
condition after waiting for a concurrent writer of the row, so the loser updates nothing and
writes no activity.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from refuje.common.errors import NotFound
from refuje.stays.models import StayStatus

from .events import publish_request_event
from .models import (
    ESCALATION_LEVELS,
    EscalationHeartbeat,
    RequestAction,
    RequestActivity,
    RequestStatus,
    ServiceRequest,
)
from .services import IllegalTransition, service_request_expire

logger = logging.getLogger(__name__)

REQUEST_ESCALATED = "request.escalated"
DEFAULT_LEVEL2_AFTER_MINUTES = 30
DEFAULT_HEARTBEAT_MAX_AGE_SECONDS = 300
DEFAULT_EXPIRE_UNACKNOWLEDGED_HOURS = 24
# Requests raised per level and run; a backlog larger than this is finished by the next runs.
BATCH_SIZE = 500
MAX_ERROR_LENGTH = 500


@dataclass(frozen=True)
class EscalationResult:
    escalated: dict[int, list[int]]  # level → ids of the requests raised to it in this run
    duration_ms: int

    @property
    def count(self) -> int:
        return sum(len(ids) for ids in self.escalated.values())


def _level_cutoff(level: int, now: datetime) -> datetime:
    """Requests due before this moment have earned `level`."""
    if level == 1:
        return now
    minutes = int(getattr(settings, "ESCALATION_LEVEL2_AFTER_MINUTES", DEFAULT_LEVEL2_AFTER_MINUTES))
    return now - timedelta(minutes=minutes)


def _escalate_one(request_id: int, level: int, now: datetime) -> bool:
    """Raise one request to `level` unless it was answered or raised already. True when raised."""
    with transaction.atomic():
        raised = ServiceRequest.objects.filter(
            pk=request_id, status=RequestStatus.NEW, escalation_level__lt=level
        ).update(escalation_level=level, updated_at=now)
        if raised != 1:
            return False
        request = ServiceRequest.objects.get(pk=request_id)
        activity = RequestActivity.objects.create(
            hotel_id=request.hotel_id,
            request=request,
            actor=None,
            action=RequestAction.ESCALATE,
            from_status=request.status,
            to_status=request.status,
            note=str(level),
            # Who is chased about a request is the staff's business, not the guest's.
            is_internal=True,
            at=now,
        )
        publish_request_event(REQUEST_ESCALATED, request, activity)
    return True


def _escalate(now: datetime, escalated: dict[int, list[int]]) -> None:
    # Lower levels first: a request overdue for both gets level 1 and then level 2 in one run.
    for level in ESCALATION_LEVELS:
        due = ServiceRequest.objects.filter(
            status=RequestStatus.NEW, escalation_level__lt=level, response_due_at__lt=_level_cutoff(level, now)
        ).order_by("response_due_at", "id")
        for request_id in due.values_list("id", flat=True)[:BATCH_SIZE]:
            if _escalate_one(request_id, level, now):
                escalated[level].append(request_id)


def escalation_run(*, now: datetime | None = None) -> EscalationResult:
    """Escalate every overdue NEW request one level at a time and record the run's heartbeat.

    A failure is recorded in the heartbeat and raised again; requests raised before it stay raised.
    """
    now = now or timezone.now()
    started = time.monotonic()
    escalated: dict[int, list[int]] = {level: [] for level in ESCALATION_LEVELS}
    error = ""
    try:
        _escalate(now, escalated)
    except Exception as exc:
        error = f"{exc.__class__.__name__}: {exc}"[:MAX_ERROR_LENGTH]
        raise
    finally:
        result = EscalationResult(escalated=escalated, duration_ms=round((time.monotonic() - started) * 1000))
        _beat(now, result, error)
        if result.count:
            logger.info("Escalated %s requests: %s", result.count, escalated)
    return result


def _beat(now: datetime, result: EscalationResult, error: str) -> None:
    # One upsert: two schedulers running at once each leave a complete row, never a duplicate.
    EscalationHeartbeat.objects.bulk_create(
        [
            EscalationHeartbeat(
                id=EscalationHeartbeat.SINGLETON_ID,
                last_run_at=now,
                last_duration_ms=result.duration_ms,
                escalated_count=result.count,
                last_error=error,
            )
        ],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["last_run_at", "last_duration_ms", "escalated_count", "last_error"],
    )


def escalation_heartbeat_check() -> tuple[bool, str]:
    """Readiness: the escalation job ran recently and its last run did not fail."""
    heartbeat = EscalationHeartbeat.objects.filter(pk=EscalationHeartbeat.SINGLETON_ID).first()
    if heartbeat is None:
        if getattr(settings, "ESCALATION_HEARTBEAT_REQUIRED", True):
            return False, "never ran"
        return True, "not required"
    max_age = int(getattr(settings, "ESCALATION_HEARTBEAT_MAX_AGE_SECONDS", DEFAULT_HEARTBEAT_MAX_AGE_SECONDS))
    age = (timezone.now() - heartbeat.last_run_at).total_seconds()
    if age > max_age:
        return False, f"last run {round(age)} s ago"
    if heartbeat.last_error:
        return False, f"last run failed: {heartbeat.last_error}"
    return True, f"last run {round(age)} s ago, {heartbeat.escalated_count} escalated"


# --- Expiry ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpiryResult:
    expired: list[int]  # ids found due by this run and expired now (by it or a concurrent run)


def expiry_run(*, now: datetime | None = None) -> ExpiryResult:
    """Expire requests nobody started on (NEW/ACKNOWLEDGED) whose stay has ended, and NEW requests
    nobody acknowledged within REQUEST_EXPIRE_UNACKNOWLEDGED_HOURS.

    Each goes through the expire transition under its row lock: one activity per request, a
    repeated or concurrent run finds it EXPIRED and writes nothing, and a request a person moved
    on in the meantime is left alone.
    """
    now = now or timezone.now()
    hours = int(getattr(settings, "REQUEST_EXPIRE_UNACKNOWLEDGED_HOURS", DEFAULT_EXPIRE_UNACKNOWLEDGED_HOURS))
    stay_ended = Q(status__in=(RequestStatus.NEW, RequestStatus.ACKNOWLEDGED)) & ~Q(stay__status=StayStatus.ACTIVE)
    unacknowledged = Q(status=RequestStatus.NEW, created_at__lt=now - timedelta(hours=hours))
    due = (
        ServiceRequest.objects.filter(stay_ended | unacknowledged)
        .select_related("stay")
        .order_by("created_at", "id")[:BATCH_SIZE]
    )
    expired: list[int] = []
    for request in due:
        # Stored as the English message and translated when shown (see SystemNoteMixin), so
        # every reader sees the note in their own language, not in the worker's.
        if request.stay.status != StayStatus.ACTIVE:
            reason = gettext_noop("The stay has ended.")
        else:
            reason = gettext_noop("Nobody acknowledged the request in time.")
        try:
            service_request_expire(request=request, reason=reason)
        except (IllegalTransition, NotFound):
            continue
        expired.append(request.pk)
    if expired:
        logger.info("Expired %s requests: %s", len(expired), expired)
    return ExpiryResult(expired=expired)
