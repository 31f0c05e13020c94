"""Periodic notification jobs: re-alerts, reminders, the daily digest and the delivery sweep.

Every effect is claimed in the database before it happens, in the same transaction as the
notifications it creates, so two schedulers or a retried task never double it:
- re-alerts: one conditional UPDATE per interval on RequestRealert (PostgreSQL re-checks the
  condition after waiting for a concurrent writer of the row, so the loser updates nothing);
- reminders: a JobClaim row per reminder (unique key);
- digests: a DailyDigest row per hotel and local date (unique key).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from refuje.bookings.events import BOOKING_REMINDER, publish_booking_event
from refuje.bookings.models import Booking, BookingStatus
from refuje.concierge.models import (
    DEFAULT_REMINDER_INTERVAL_MINUTES,
    RequestAction,
    RequestActivity,
    RequestStatus,
    ServiceRequest,
)
from refuje.hotels.models import Hotel

from . import kinds, selectors
from .models import DailyDigest, DeliveryStatus, JobClaim, Notification, NotificationDelivery, RequestRealert
from .receivers import (
    bilingual,
    guest_request_target,
    notify_many,
    request_context,
    staff_request_target,
)
from .services import enqueue_deliveries

logger = logging.getLogger(__name__)

DEFAULT_REALERT_INTERVAL_MINUTES = 5
DEFAULT_REALERT_MAX = 3
DEFAULT_REMINDER_LEAD_MINUTES = 60
DEFAULT_DIGEST_LOCAL_HOUR = 8
BATCH_SIZE = 500
# Acknowledged requests older than this are not reminded about any more.
REMINDER_LOOKBACK = timedelta(days=1)
OPEN_STATUSES = (
    RequestStatus.NEW,
    RequestStatus.ACKNOWLEDGED,
    RequestStatus.CONFIRMED,
    RequestStatus.IN_PROGRESS,
)


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


# --- Re-alerts ------------------------------------------------------------------------------


def realert_run(*, now: datetime | None = None) -> list[int]:
    """Re-notify a department's staff about each request still NEW, once per interval, at most
    NOTIFICATION_REALERT_MAX times. Returns the ids of the requests re-alerted by this run."""
    now = now or timezone.now()
    interval = timedelta(minutes=_setting("NOTIFICATION_REALERT_INTERVAL_MINUTES", DEFAULT_REALERT_INTERVAL_MINUTES))
    cap = _setting("NOTIFICATION_REALERT_MAX", DEFAULT_REALERT_MAX)
    cutoff = now - interval
    waiting = list(
        ServiceRequest.objects.filter(status=RequestStatus.NEW, created_at__lte=cutoff)
        .exclude(pk__in=RequestRealert.objects.filter(count__gte=cap).values("request_id"))
        .order_by("created_at", "id")
        .values_list("pk", "created_at")[:BATCH_SIZE]
    )
    RequestRealert.objects.bulk_create(
        [RequestRealert(request_id=pk, count=0, last_alert_at=created_at) for pk, created_at in waiting],
        ignore_conflicts=True,
    )
    alerted: list[int] = []
    for request_id, _created_at in waiting:
        try:
            if _realert_one(request_id, now=now, cutoff=cutoff, cap=cap):
                alerted.append(request_id)
        except Exception:
            logger.exception("Re-alert of request %s failed", request_id)
    if alerted:
        logger.info("Re-alerted staff about %s requests: %s", len(alerted), alerted)
    return alerted


def _realert_one(request_id: int, *, now: datetime, cutoff: datetime, cap: int) -> bool:
    with transaction.atomic():
        # The claim: this interval's re-alert belongs to whoever moves the row.
        claimed = RequestRealert.objects.filter(request_id=request_id, count__lt=cap, last_alert_at__lte=cutoff).update(
            count=F("count") + 1, last_alert_at=now
        )
        if claimed != 1:
            return False
        request = (
            ServiceRequest.objects.select_related("hotel", "department", "stay")
            .filter(pk=request_id, status=RequestStatus.NEW)
            .first()
        )
        if request is None:
            # Acknowledged meanwhile: nothing to chase, and the claim goes back with the rollback.
            transaction.set_rollback(True)
            return False
        count = RequestRealert.objects.get(request_id=request_id).count
        minutes = max(0, int((now - request.created_at).total_seconds() // 60))
        notify_many(
            selectors.request_staff(request.department),
            kind=kinds.REQUEST_REALERT,
            hotel=request.hotel,
            context=request_context(request, minutes=minutes),
            target=staff_request_target(request),
            dedupe_key=f"{kinds.REQUEST_REALERT}:{request.pk}:{count}",
        )
    return True


# --- Reminders ------------------------------------------------------------------------------


@dataclass
class ReminderResult:
    acknowledged: list[int] = field(default_factory=list)  # requests waiting for an update
    upcoming: list[int] = field(default_factory=list)  # confirmed requests scheduled soon
    bookings: list[int] = field(default_factory=list)  # confirmed bookings starting soon


def _claim(key: str) -> bool:
    """Insert the claim row (inside the caller's transaction); False when it exists already."""
    try:
        with transaction.atomic():
            JobClaim.objects.create(key=key)
    except IntegrityError:
        return False
    return True


def _unclaimed(keys: dict[str, Any]) -> dict[str, Any]:
    taken = set(JobClaim.objects.filter(key__in=list(keys)).values_list("key", flat=True))
    return {key: value for key, value in keys.items() if key not in taken}


# Claims older than this can't be taken again (every reminder window is shorter); pruned by the job.
CLAIM_RETENTION = timedelta(days=7)


def reminder_run(*, now: datetime | None = None) -> ReminderResult:
    now = now or timezone.now()
    JobClaim.objects.filter(created_at__lt=now - CLAIM_RETENTION).delete()
    result = ReminderResult()
    _remind_acknowledged(now, result)
    _remind_upcoming_requests(now, result)
    _remind_upcoming_bookings(now, result)
    return result


def _reminder_interval(request: ServiceRequest) -> timedelta:
    try:
        minutes = request.department.policy.reminder_interval_minutes
    except ObjectDoesNotExist:  # no policy row: the defaults
        minutes = DEFAULT_REMINDER_INTERVAL_MINUTES
    return timedelta(minutes=minutes)


def _remind_acknowledged(now: datetime, result: ReminderResult) -> None:
    candidates = (
        ServiceRequest.objects.filter(
            status=RequestStatus.ACKNOWLEDGED,
            acknowledged_at__isnull=False,
            acknowledged_at__gte=now - REMINDER_LOOKBACK,
            acknowledged_at__lte=now,
        )
        .select_related("hotel", "department__policy", "stay", "acknowledged_by")
        .order_by("acknowledged_at", "id")[:BATCH_SIZE]
    )
    due = {
        f"{kinds.REQUEST_REMINDER}:{request.pk}": request
        for request in candidates
        if request.acknowledged_at is not None and request.acknowledged_at + _reminder_interval(request) <= now
    }
    for key, request in _unclaimed(due).items():
        with transaction.atomic():
            if not _claim(key):
                continue
            recipients = _reminder_recipients(request)
            assert request.acknowledged_at is not None  # noqa: S101 (filtered above)
            minutes = int((now - request.acknowledged_at).total_seconds() // 60)
            notify_many(
                recipients,
                kind=kinds.REQUEST_REMINDER,
                hotel=request.hotel,
                context=request_context(request, minutes=minutes),
                target=staff_request_target(request),
                dedupe_key=key,
            )
        result.acknowledged.append(request.pk)


def _reminder_recipients(request: ServiceRequest) -> list[Any]:
    """Whoever acknowledged it, while they still work at the hotel; else the department's staff."""
    user = request.acknowledged_by
    if (
        user is not None
        and user.is_active
        and user.memberships.filter(hotel_id=request.hotel_id, is_active=True).exists()
    ):
        return [user]
    return selectors.request_staff(request.department)


def _lead() -> timedelta:
    return timedelta(minutes=_setting("NOTIFICATION_REMINDER_LEAD_MINUTES", DEFAULT_REMINDER_LEAD_MINUTES))


def _remind_upcoming_requests(now: datetime, result: ReminderResult) -> None:
    soon = (
        ServiceRequest.objects.filter(
            status=RequestStatus.CONFIRMED, scheduled_for__gt=now, scheduled_for__lte=now + _lead()
        )
        .select_related("hotel", "department", "stay__guest")
        .order_by("scheduled_for", "id")[:BATCH_SIZE]
    )
    due = {
        f"{kinds.REQUEST_UPCOMING}:{request.pk}:{request.scheduled_for.isoformat()}": request
        for request in soon
        if request.scheduled_for is not None
    }
    for key, request in _unclaimed(due).items():
        with transaction.atomic():
            if not _claim(key):
                continue
            notify_many(
                [request.stay.guest],
                kind=kinds.REQUEST_UPCOMING,
                hotel=request.hotel,
                context=request_context(request, when=request.scheduled_for),
                target=guest_request_target(request),
                dedupe_key=key,
            )
        result.upcoming.append(request.pk)


def _remind_upcoming_bookings(now: datetime, result: ReminderResult) -> None:
    """Announce `booking.reminder` once per booking (and start time); the booking listener then
    tells the guest and the staff member."""
    soon = (
        Booking.objects.filter(status=BookingStatus.CONFIRMED, start__gt=now, start__lte=now + _lead())
        .select_related("hotel", "experience", "staff__user", "customer")
        .order_by("start", "id")[:BATCH_SIZE]
    )
    due = {f"{BOOKING_REMINDER}:{booking.pk}:{booking.start.isoformat()}": booking for booking in soon}
    for key, booking in _unclaimed(due).items():
        with transaction.atomic():
            if not _claim(key):
                continue
            publish_booking_event(BOOKING_REMINDER, booking, {})
        result.bookings.append(booking.pk)


# --- Daily digest ---------------------------------------------------------------------------


def local_day_bounds(day: date, tz_name: str) -> tuple[datetime, datetime]:
    """The UTC instants of `day`'s local midnight and the next one (23 or 25 hours apart on DST days)."""
    tz = Hotel(timezone=tz_name).tz
    start = datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)
    return start, end


def digest_summary(hotel: Hotel, day: date) -> dict[str, int]:
    start, end = local_day_bounds(day, hotel.timezone)
    requests = ServiceRequest.objects.filter(hotel=hotel)
    return {
        "created": requests.filter(created_at__gte=start, created_at__lt=end).count(),
        "completed": requests.filter(completed_at__gte=start, completed_at__lt=end).count(),
        "escalated": RequestActivity.objects.filter(
            hotel=hotel, action=RequestAction.ESCALATE, at__gte=start, at__lt=end
        )
        .values("request_id")
        .distinct()
        .count(),
        "open": requests.filter(status__in=OPEN_STATUSES).count(),
        "bookings": Booking.objects.filter(
            hotel=hotel,
            start__gte=start,
            start__lt=end,
            status__in=(BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW),
        ).count(),
    }


def digest_run(*, now: datetime | None = None) -> list[int]:
    """Send each active hotel's admins the summary of the previous local day, once per hotel and
    local date, from NOTIFICATION_DIGEST_LOCAL_HOUR (hotel time) on. Returns the hotels served."""
    now = now or timezone.now()
    hour = _setting("NOTIFICATION_DIGEST_LOCAL_HOUR", DEFAULT_DIGEST_LOCAL_HOUR)
    served: list[int] = []
    for hotel in Hotel.objects.filter(is_active=True).order_by("id"):
        local_now = now.astimezone(hotel.tz)
        if local_now.hour < hour:
            continue
        today = local_now.date()
        if DailyDigest.objects.filter(hotel=hotel, local_date=today).exists():
            continue
        try:
            if _digest_one(hotel, today):
                served.append(hotel.pk)
        except Exception:
            logger.exception("Daily digest of hotel %s failed", hotel.pk)
    return served


def _digest_one(hotel: Hotel, today: date) -> bool:
    day = today - timedelta(days=1)
    with transaction.atomic():
        try:
            with transaction.atomic():
                digest = DailyDigest.objects.create(hotel=hotel, local_date=today)
        except IntegrityError:
            return False  # another run sent it
        summary = digest_summary(hotel, day)
        admins = selectors.hotel_admins(hotel)
        context: dict[str, Any] = {"hotel": bilingual(hotel), "date": day, **summary}
        sent = notify_many(
            admins,
            kind=kinds.DIGEST_DAILY,
            hotel=hotel,
            context=context,
            target=f"/hotels/{hotel.slug}/stats/",
            dedupe_key=f"{kinds.DIGEST_DAILY}:{hotel.pk}:{today.isoformat()}",
        )
        digest.summary = {**summary, "day": day.isoformat()}
        digest.recipients = sent
        digest.save(update_fields=["summary", "recipients"])
    return True


# --- Delivery sweep -------------------------------------------------------------------------

SWEEP_AFTER = timedelta(minutes=2)


def deliver_pending_run(*, now: datetime | None = None) -> int:
    """Enqueue again deliveries still pending a while after their last touch (a lost message, a
    broker that was down). The claim in delivery_attempt keeps a duplicate from sending twice."""
    now = now or timezone.now()
    max_attempts = _setting("NOTIFICATION_DELIVERY_MAX_ATTEMPTS", 5)
    stuck = list(
        NotificationDelivery.objects.filter(
            status=DeliveryStatus.PENDING, updated_at__lt=now - SWEEP_AFTER, attempts__lt=max_attempts
        )
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - SWEEP_AFTER))
        .order_by("created_at")
        .values_list("pk", flat=True)[:BATCH_SIZE]
    )
    enqueue_deliveries(stuck)
    return len(stuck)


# --- Retention ------------------------------------------------------------------------------

# Batches per run: a long backlog is worked off over several runs, never in one long transaction.
RETENTION_MAX_BATCHES = 20


def retention_run(*, now: datetime | None = None) -> int:
    """Delete notifications (and their delivery rows) past retention: read ones after
    NOTIFICATION_RETENTION_DAYS, unread ones after NOTIFICATION_UNREAD_RETENTION_DAYS.
    Returns how many notifications were deleted. Idempotent; each batch is one short delete."""
    now = now or timezone.now()
    read_before = now - timedelta(days=_setting("NOTIFICATION_RETENTION_DAYS", 90))
    unread_before = now - timedelta(days=_setting("NOTIFICATION_UNREAD_RETENTION_DAYS", 365))
    expired = Notification.objects.filter(
        Q(read_at__isnull=False, created_at__lt=read_before) | Q(created_at__lt=unread_before)
    )
    deleted = 0
    for _batch in range(RETENTION_MAX_BATCHES):
        ids = list(expired.order_by("created_at", "id").values_list("pk", flat=True)[:BATCH_SIZE])
        if not ids:
            break
        # Delivery rows go with them (CASCADE, deleted in one statement: they have no signals).
        deleted += Notification.objects.filter(pk__in=ids).delete()[1].get(Notification._meta.label, 0)
    return deleted
