"""Notification writes: create (render, store in-app, plan channels), deliver, read, preferences.

`notify` renders the title and body once in the recipient's language, stores the in-app item and
one NotificationDelivery per outside channel the recipient accepts, and enqueues one delivery task
per row after commit. A delivery is claimed with one conditional UPDATE (pending, not freshly
claimed), so retried or duplicated tasks send it once; a WhatsApp message that fails (at once or
later by webhook) falls back to SMS exactly once (one row per channel, unique).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from refuje.accounts.models import User
from refuje.common.errors import NotFound
from refuje.experiences.access import as_id
from refuje.hotels.models import Hotel
from refuje.providers.base import ProviderError
from refuje.providers.registry import sms_sender, whatsapp_sender

from . import kinds
from .events import publish_notification_event
from .models import (
    MAX_BODY_LENGTH,
    MAX_ERROR_LENGTH,
    MAX_TITLE_LENGTH,
    Channel,
    DeliveryStatus,
    Notification,
    NotificationDelivery,
    NotificationPreference,
)
from .selectors import preference_of

logger = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_CLAIM_STALE_SECONDS = 120
# Webhook statuses move a delivery forward only (providers do not keep order).
STATUS_RANK = {
    DeliveryStatus.PENDING: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
}
WEBHOOK_STATUSES = ("sent", "delivered", "read", "failed")


# --- Channel planning -----------------------------------------------------------------------


def whatsapp_template(kind: str, language: str) -> str:
    """The WhatsApp template id for a kind in a language ("" when none is configured).

    NOTIFICATION_WHATSAPP_TEMPLATES maps a kind to one id, or to {"ar": id, "en": id}.
    """
    configured = getattr(settings, "NOTIFICATION_WHATSAPP_TEMPLATES", {}) or {}
    value = configured.get(kind, "")
    if isinstance(value, Mapping):
        return str(value.get(language) or "")
    return str(value or "")


def push_has_working_subscription(user: User) -> bool:
    from refuje.push.services import push_has_working_subscription as has_subscription

    return bool(has_subscription(user))


def _messaging(recipient: User, kind: kinds.Kind, language: str, preference: NotificationPreference) -> list[str]:
    """WhatsApp when the recipient accepts it and a template exists for the kind; SMS otherwise."""
    if not recipient.phone_number:
        return []
    if preference.whatsapp and whatsapp_template(kind.name, language) and whatsapp_sender() is not None:
        return [Channel.WHATSAPP]
    if preference.sms:
        return [Channel.SMS]
    return []


def plan_channels(
    recipient: User, kind: kinds.Kind, language: str, preference: NotificationPreference | None = None
) -> list[str]:
    """The outside channels for this notification, by the kind's plan and the recipient's choices."""
    preference = preference or preference_of(recipient)
    if not recipient.is_active or (kind.mutable and kind.name in (preference.muted_kinds or [])):
        return []
    planned: list[str] = []
    for channel in kind.channels:
        if channel == Channel.PUSH:
            if preference.push and push_has_working_subscription(recipient):
                planned.append(Channel.PUSH)
            elif kind.messaging_without_push:
                planned.extend(_messaging(recipient, kind, language, preference))
        elif channel in (Channel.WHATSAPP, Channel.SMS):
            planned.extend(_messaging(recipient, kind, language, preference))
        elif channel == Channel.EMAIL and preference.email and recipient.email:
            planned.append(Channel.EMAIL)
    return list(dict.fromkeys(planned))


# --- notify ---------------------------------------------------------------------------------


def language_of(user: User) -> str:
    language = (user.preferred_language or settings.LANGUAGE_CODE or "ar")[:2]
    return language if language in {code for code, _name in settings.LANGUAGES} else "ar"


def notify(
    *,
    recipient: User,
    kind: str,
    hotel: Hotel | None = None,
    context: Mapping[str, Any] | None = None,
    target: str = "",
    dedupe_key: str = "",
) -> Notification:
    """Tell `recipient` about something, in their language, in the app and on their channels.

    With a `dedupe_key`, a second call for the same recipient and key returns the first
    notification and sends nothing more (a retried event or job).
    """
    spec = kinds.kind_of(kind)
    context = dict(context or {})
    language = language_of(recipient)
    if dedupe_key:
        existing = Notification.objects.filter(recipient=recipient, dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    with translation.override(language):
        rendered = kinds.render(spec, context, language=language, timezone=hotel.timezone if hotel else None)
    channels = plan_channels(recipient, spec, language)
    data = {key: kinds.json_value(value) for key, value in context.items()}
    with transaction.atomic():
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    recipient=recipient,
                    hotel=hotel,
                    kind=spec.name,
                    language=language,
                    title=rendered.title[:MAX_TITLE_LENGTH],
                    body=rendered.body[:MAX_BODY_LENGTH],
                    data=data,
                    target=target,
                    dedupe_key=dedupe_key,
                )
        except IntegrityError:
            if not dedupe_key:
                raise
            # A concurrent call with the same key won.
            return Notification.objects.get(recipient=recipient, dedupe_key=dedupe_key)
        deliveries = NotificationDelivery.objects.bulk_create(
            NotificationDelivery(notification=notification, channel=channel) for channel in channels
        )
        publish_notification_event(notification)
        enqueue_deliveries([delivery.pk for delivery in deliveries])
    return notification


def enqueue_deliveries(delivery_ids: Sequence[int]) -> None:
    """One delivery task per row once the transaction commits. A broker that is down loses
    nothing: the rows stay pending and the sweep job enqueues them again."""
    if not delivery_ids:
        return
    ids = list(delivery_ids)

    def send() -> None:
        from .tasks import deliver_task

        for delivery_id in ids:
            try:
                deliver_task.delay(delivery_id)
            except Exception:
                logger.exception("Could not enqueue notification delivery %s; the sweep will retry", delivery_id)

    transaction.on_commit(send)


# --- Delivering -----------------------------------------------------------------------------

SENT = "sent"
FAILED = "failed"
RETRY = "retry"
NOT_CLAIMED = "not_claimed"


class DeliveryError(Exception):
    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class Sent:
    provider: str
    message_id: str = ""


def _max_attempts() -> int:
    return int(getattr(settings, "NOTIFICATION_DELIVERY_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))


def _claim_stale_before(now: Any) -> Any:
    seconds = int(getattr(settings, "NOTIFICATION_DELIVERY_CLAIM_STALE_SECONDS", DEFAULT_CLAIM_STALE_SECONDS))
    return now - timedelta(seconds=seconds)


def delivery_attempt(*, delivery_id: int) -> str:
    """Send one pending delivery unless another worker holds it. Returns sent, failed, retry
    (a transient failure; try again later) or not_claimed (done already, or in other hands)."""
    now = timezone.now()
    claimed = (
        NotificationDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=_claim_stale_before(now)))
        .update(claimed_at=now, attempts=F("attempts") + 1, updated_at=now)
    )
    if claimed != 1:
        return NOT_CLAIMED
    delivery = NotificationDelivery.objects.select_related("notification__recipient", "notification__hotel").get(
        pk=delivery_id
    )
    try:
        sent = _send(delivery)
    except DeliveryError as exc:
        error = str(exc)[:MAX_ERROR_LENGTH]
        if exc.transient and delivery.attempts < _max_attempts():
            NotificationDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
                claimed_at=None, error=error, updated_at=timezone.now()
            )
            return RETRY
        _fail(delivery, error)
        return FAILED
    NotificationDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.SENT,
        provider=sent.provider,
        provider_message_id=sent.message_id,
        sent_at=timezone.now(),
        claimed_at=None,
        error="",
        updated_at=timezone.now(),
    )
    return SENT


def _send(delivery: NotificationDelivery) -> Sent:
    notification = delivery.notification
    recipient = notification.recipient
    spec = kinds.kind_of(notification.kind)
    if delivery.channel == Channel.PUSH:
        return _send_push(notification, spec)
    if delivery.channel == Channel.WHATSAPP:
        return _send_whatsapp(notification, spec, recipient)
    if delivery.channel == Channel.SMS:
        return _wrap_provider(lambda: sms_sender().send_sms(phone=recipient.phone_number, text=sms_text(notification)))
    if delivery.channel == Channel.EMAIL:
        return _send_email(notification, recipient)
    raise DeliveryError(f"unknown channel {delivery.channel}", transient=False)


def push_payload(notification: Notification) -> dict[str, Any]:
    """What a lock screen may show: title, body, where a tap leads. No ids or data beyond that."""
    return {
        "title": notification.title,
        "body": notification.body,
        "url": notification.target or "/",
        "tag": f"notification-{notification.pk}",
        "kind": notification.kind,
    }


def _send_push(notification: Notification, spec: kinds.Kind) -> Sent:
    from refuje.push.services import push_deliver

    try:
        report = push_deliver(
            user_id=notification.recipient_id, payload=push_payload(notification), ttl=spec.ttl, urgency=spec.urgency
        )
    except Exception as exc:
        raise DeliveryError(f"push: {exc.__class__.__name__}: {exc}", transient=True) from exc
    if report.sent:
        return Sent(provider="webpush")
    if report.retry_ids:
        # A push service was down or rate-limited us: try push again before falling back to messages.
        raise DeliveryError("push: the push service did not take the message; will retry", transient=True)
    raise DeliveryError("push: no subscription accepted the message", transient=False)


def _send_whatsapp(notification: Notification, spec: kinds.Kind, recipient: User) -> Sent:
    sender = whatsapp_sender()
    template_id = whatsapp_template(notification.kind, notification.language)
    if sender is None or not template_id:
        raise DeliveryError("whatsapp: no template or provider for this kind", transient=False)
    values = {**notification.data, "title": notification.title, "body": notification.body}
    with translation.override(notification.language):
        hotel_tz = notification.hotel.timezone if notification.hotel else None
        params = [
            kinds.display_value(_decoded(values.get(name, "")), language=notification.language, timezone=hotel_tz)
            for name in spec.whatsapp_params
        ]
    return _wrap_provider(
        lambda: sender.send_template(phone=recipient.phone_number, template_id=template_id, params=params)
    )


def _decoded(value: Any) -> Any:
    """Datetimes come back from `data` as ISO strings; show them like the rendered text does."""
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and value[10:11] == "T":
        from django.utils.dateparse import parse_datetime

        parsed = parse_datetime(value)
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    return value


def _wrap_provider(call: Any) -> Sent:
    try:
        delivery = call()
    except ProviderError as exc:
        raise DeliveryError(str(exc), transient=exc.transient) from exc
    return Sent(provider=delivery.provider, message_id=delivery.message_id)


def sms_text(notification: Notification) -> str:
    return f"{notification.title}\n{notification.body}".strip()


def _send_email(notification: Notification, recipient: User) -> Sent:
    if not recipient.email:
        raise DeliveryError("email: the recipient has no address", transient=False)
    sender = getattr(settings, "NOTIFICATION_EMAIL_FROM", "") or settings.DEFAULT_FROM_EMAIL
    try:
        send_mail(notification.title, notification.body, sender, [recipient.email], fail_silently=False)
    except OSError as exc:  # SMTP and socket errors
        raise DeliveryError(f"email: {exc}", transient=True) from exc
    return Sent(provider="email")


def _fail(delivery: NotificationDelivery, error: str) -> None:
    with transaction.atomic():
        changed = NotificationDelivery.objects.filter(
            pk=delivery.pk, status__in=(DeliveryStatus.PENDING, DeliveryStatus.SENT)
        ).update(status=DeliveryStatus.FAILED, error=error, claimed_at=None, updated_at=timezone.now())
        if changed:
            _fall_back(delivery)


def _fall_back(delivery: NotificationDelivery) -> None:
    """A failed WhatsApp message goes out by SMS; a failed push of a staff alert by WhatsApp/SMS.
    One row per channel (unique), so two failures reported at once make one fallback."""
    notification = delivery.notification
    recipient = notification.recipient
    spec = kinds.kind_of(notification.kind)
    preference = preference_of(recipient)
    candidates: list[str]
    if delivery.channel == Channel.WHATSAPP:
        candidates = [Channel.SMS] if preference.sms else []
    elif delivery.channel == Channel.PUSH and spec.messaging_without_push:
        candidates = _messaging(recipient, spec, notification.language, preference)
    else:
        candidates = []
    for channel in candidates[:1]:
        fallback, created = NotificationDelivery.objects.get_or_create(notification=notification, channel=channel)
        if created:
            enqueue_deliveries([fallback.pk])


def delivery_status_update(*, provider: str, message_id: str, status: str, error: str = "") -> bool:
    """Apply a provider's delivery report (Gupshup webhook) to the delivery it belongs to.

    True when a notification delivery has this message id (False: not ours, e.g. an OTP). Status
    only moves forward (sent < delivered < read); "failed" before delivery fails it and falls back
    to SMS once; anything after delivered/read is ignored.
    """
    if not message_id:
        return False
    delivery = (
        NotificationDelivery.objects.select_related("notification__recipient")
        .filter(provider=provider, provider_message_id=message_id)
        .first()
    )
    if delivery is None:
        return False
    status = (status or "").lower()
    now = timezone.now()
    if status == DeliveryStatus.FAILED:
        if delivery.status in (DeliveryStatus.PENDING, DeliveryStatus.SENT):
            _fail(delivery, (error or "failed")[:MAX_ERROR_LENGTH])
        return True
    if status not in STATUS_RANK:
        return True
    rank = STATUS_RANK[DeliveryStatus(status)]
    lower = [value for value, value_rank in STATUS_RANK.items() if value_rank < rank]
    NotificationDelivery.objects.filter(pk=delivery.pk, status__in=lower).update(status=status, updated_at=now)
    return True


# --- Reading --------------------------------------------------------------------------------


def notification_mark_read(*, recipient: User, notification_id: object) -> Notification:
    """Mark one of the recipient's own notifications read (the first read time stays)."""
    found = Notification.objects.filter(recipient=recipient, pk=as_id(notification_id)).first()
    if found is None:
        raise NotFound()
    if found.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=found.pk, read_at__isnull=True).update(read_at=now)
        found.refresh_from_db(fields=["read_at"])
    return found


def notification_mark_all_read(*, recipient: User) -> int:
    return Notification.objects.filter(recipient=recipient, read_at__isnull=True).update(read_at=timezone.now())


# --- Preferences ----------------------------------------------------------------------------


def preference_update(*, user: User, changes: Mapping[str, Any]) -> NotificationPreference:
    """Change some of the channel switches and muted kinds; unknown or unmutable kinds are a 400."""
    muted = changes.get("muted_kinds")
    if muted is not None:
        refused = sorted(set(muted) - set(kinds.MUTABLE_KINDS))
        if refused:
            raise ValidationError(
                {
                    "muted_kinds": ValidationError(
                        _("These kinds can't be muted: %(kinds)s."),
                        code="not_mutable",
                        params={"kinds": ", ".join(refused)},
                    )
                }
            )
    with transaction.atomic():
        preference, _created = NotificationPreference.objects.select_for_update().get_or_create(user=user)
        for name in ("push", "whatsapp", "sms", "email"):
            if name in changes:
                setattr(preference, name, bool(changes[name]))
        if muted is not None:
            preference.muted_kinds = sorted(dict.fromkeys(muted))
        preference.updated_at = timezone.now()
        preference.save()
    return preference


def unique_users(users: Iterable[User], *, exclude: User | None = None) -> list[User]:
    found: dict[int, User] = {}
    for user in users:
        if exclude is not None and user.pk == exclude.pk:
            continue
        found.setdefault(user.pk, user)
    return list(found.values())
