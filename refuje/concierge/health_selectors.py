"""Reads for the hotel health page: is the escalation job alive, are the other periodic jobs, and
what waits in this hotel without anybody noticing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

from refuje.common.jobs import JobHealth, jobs_health
from refuje.hotels.models import HotelMembership, Role

from .escalation import DEFAULT_HEARTBEAT_MAX_AGE_SECONDS
from .models import EscalationHeartbeat, RequestStatus
from .selectors import requests_visible_to
from .tasks import ESCALATE_REQUESTS


class EscalationState:
    OK = "ok"
    FAILING = "failing"  # the last run raised
    STALE = "stale"  # older than ESCALATION_HEARTBEAT_MAX_AGE_SECONDS
    NEVER_RAN = "never_ran"


@dataclass(frozen=True)
class EscalationHealth:
    heartbeat: EscalationHeartbeat | None
    state: str
    max_age_seconds: int
    age_seconds: float | None

    @property
    def healthy(self) -> bool:
        return self.state == EscalationState.OK


_LOAD = object()


def escalation_health(
    *, heartbeat: EscalationHeartbeat | object | None = _LOAD, now: datetime | None = None
) -> EscalationHealth:
    """The same rule as the readiness check: stale past the maximum age, failing on an error."""
    now = now or timezone.now()
    if heartbeat is _LOAD:
        heartbeat = EscalationHeartbeat.objects.filter(pk=EscalationHeartbeat.SINGLETON_ID).first()
    max_age = int(getattr(settings, "ESCALATION_HEARTBEAT_MAX_AGE_SECONDS", DEFAULT_HEARTBEAT_MAX_AGE_SECONDS))
    if not isinstance(heartbeat, EscalationHeartbeat):
        return EscalationHealth(None, EscalationState.NEVER_RAN, max_age, None)
    age = max(0.0, (now - heartbeat.last_run_at).total_seconds())
    if age > max_age:
        state = EscalationState.STALE
    elif heartbeat.last_error:
        state = EscalationState.FAILING
    else:
        state = EscalationState.OK
    return EscalationHealth(heartbeat, state, max_age, age)


@dataclass(frozen=True)
class Waiting:
    """Unanswered (NEW) requests of the hotel that the member may see."""

    all_departments: bool
    overdue: int  # past their response_due_at
    oldest_due_at: datetime | None
    escalated_level_1: int
    escalated_level_2: int


def waiting_requests(*, membership: HotelMembership, now: datetime) -> Waiting:
    numbers = (
        requests_visible_to(membership)
        .filter(status=RequestStatus.NEW)
        .aggregate(
            overdue=Count("pk", filter=Q(response_due_at__lt=now)),
            oldest_due_at=Min("response_due_at", filter=Q(response_due_at__lt=now)),
            level_1=Count("pk", filter=Q(escalation_level=1)),
            level_2=Count("pk", filter=Q(escalation_level=2)),
        )
    )
    return Waiting(
        all_departments=membership.has_role(Role.ADMIN),
        overdue=numbers["overdue"],
        oldest_due_at=numbers["oldest_due_at"],
        escalated_level_1=numbers["level_1"],
        escalated_level_2=numbers["level_2"],
    )


@dataclass(frozen=True)
class HotelHealth:
    checked_at: datetime
    escalation: EscalationHealth
    jobs: list[JobHealth]
    waiting: Waiting

    @property
    def healthy(self) -> bool:
        return self.escalation.healthy and all(job.healthy for job in self.jobs)


def hotel_health(*, membership: HotelMembership, now: datetime | None = None) -> HotelHealth:
    now = now or timezone.now()
    return HotelHealth(
        checked_at=now,
        escalation=escalation_health(now=now),
        # Escalation is reported above from its own heartbeat.
        jobs=jobs_health(now=now, exclude_tasks=(ESCALATE_REQUESTS,)),
        waiting=waiting_requests(membership=membership, now=now),
    )
