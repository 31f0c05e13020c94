"""Web push: browser subscriptions and delivery through pywebpush with VAPID (RFC 8030/8291/8292).

Delivery is synchronous and meant for Celery tasks (`refuje.push.send_to_user`). Each message gets a
fresh VAPID claims dict (pywebpush writes into the dict it is given), a TTL and an Urgency header.
Push service answers (providers.md §4): 201/202 sent; 404/410 the subscription is gone, so it is
deleted; 413/429 are about our message or our rate, not the subscription; any other failure counts
against the subscription, which is disabled after PUSH_MAX_CONSECUTIVE_FAILURES in a row until the
browser subscribes again. Transient failures (429, 5xx, network) are reported for a retry.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import http_ece
import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from rest_framework import status as http_status

from refuje.accounts.models import User
from refuje.common.errors import ApiError, NotFound

from .models import PushSubscription
from .validation import endpoint_send_refusal, validate_auth, validate_endpoint, validate_p256dh
from .vapid import fresh_claims, load_private_key, settings_problems

logger = logging.getLogger(__name__)

URGENCIES = ("very-low", "low", "normal", "high")
# Push services take 4096 bytes of ciphertext; aes128gcm adds 103 (header, tag, padding delimiter).
# providers.md advises staying near 3 KB.
MAX_PAYLOAD_BYTES = 3072
MAX_TTL_SECONDS = 28 * 24 * 3600  # what push services keep at most
TOPIC_MAX_LENGTH = 32
_ELLIPSIS = "…"


class PushNotConfigured(ApiError):
    # 404 rather than 503: the feature does not exist on this server, which is not a server fault.
    status_code = http_status.HTTP_404_NOT_FOUND
    default_detail = _("Web push is not set up on this server.")
    default_code = "push_not_configured"


class PushPayloadTooLarge(ValueError):
    """The message does not fit a push message even with its `body` shortened."""


@dataclass(frozen=True)
class PushConfig:
    public_key: str
    signer: Vapid
    subject: str


def push_config() -> PushConfig | None:
    """The VAPID configuration, None when push is off; ImproperlyConfigured when it cannot work."""
    public_key = str(settings.VAPID_PUBLIC_KEY or "").strip()
    private_key = str(settings.VAPID_PRIVATE_KEY or "").strip()
    subject = str(settings.VAPID_SUBJECT or "").strip()
    if not public_key and not private_key:
        return None
    problems = settings_problems(public_key=public_key, private_key=private_key, subject=subject)
    if problems:
        raise ImproperlyConfigured("Web push: " + " ".join(problems))
    return PushConfig(public_key=public_key.rstrip("="), signer=load_private_key(private_key), subject=subject)


def push_config_required() -> PushConfig:
    """For the API: the configuration, or the clear `push_not_configured` error."""
    try:
        config = push_config()
    except ImproperlyConfigured:
        logger.exception("web push is misconfigured")
        config = None
    if config is None:
        raise PushNotConfigured()
    return config


# --- Subscriptions --------------------------------------------------------------------------


def _checked(*, endpoint: str, p256dh: str, auth: str) -> tuple[str, str, str]:
    errors: dict[str, Any] = {}
    checked: dict[str, str] = {}
    for name, value, validator in (
        ("endpoint", endpoint, validate_endpoint),
        ("p256dh", p256dh, validate_p256dh),
        ("auth", auth, validate_auth),
    ):
        try:
            checked[name] = validator(value)
        except ValidationError as exc:
            errors[name] = exc
    if errors:
        raise ValidationError(errors)
    return checked["endpoint"], checked["p256dh"], checked["auth"]


def push_subscription_upsert(
    *, user: User, endpoint: str, p256dh: str, auth: str, user_agent: str = ""
) -> tuple[PushSubscription, bool]:
    """Store this browser's subscription for `user` (created=True when new).

    The endpoint identifies the browser: if another user registered it, it moves to `user` with
    the new keys. Re-subscribing re-enables a disabled subscription. Each user keeps at most
    PUSH_MAX_SUBSCRIPTIONS_PER_USER; the least recently refreshed ones go first.
    """
    endpoint, p256dh, auth = _checked(endpoint=endpoint, p256dh=p256dh, auth=auth)
    now = timezone.now()
    fields = {
        "user": user,
        "p256dh": p256dh,
        "auth": auth,
        # Only for people reading the admin; control characters (NUL breaks PostgreSQL) are dropped.
        "user_agent": "".join(c for c in user_agent if c.isprintable())[:512],
        "failures": 0,
        "disabled_at": None,
        "last_error": "",
        "updated_at": now,
    }
    with transaction.atomic():
        # update_or_create locks an existing row and, when two requests insert the same endpoint at
        # once, catches the unique violation and updates the winner's row instead.
        subscription, created = PushSubscription.objects.update_or_create(
            endpoint=endpoint, defaults=fields, create_defaults={**fields, "created_at": now}
        )
        keep = int(settings.PUSH_MAX_SUBSCRIPTIONS_PER_USER)
        surplus = list(
            PushSubscription.objects.filter(user=user)
            .order_by("-updated_at", "-id")
            .values_list("pk", flat=True)[keep:]
        )
        if surplus:
            PushSubscription.objects.filter(pk__in=surplus).delete()
    return subscription, created


def push_subscription_delete(*, user: User, endpoint: str) -> None:
    """Remove one of `user`'s subscriptions; someone else's or an unknown endpoint is the same 404."""
    deleted, _counts = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    if not deleted:
        raise NotFound()


def push_has_working_subscription(user: User) -> bool:
    """Whether a push to `user` can arrive: push is configured and a subscription is enabled."""
    try:
        if push_config() is None:
            return False
    except ImproperlyConfigured:
        logger.exception("web push is misconfigured")
        return False
    return PushSubscription.objects.filter(user=user, disabled_at__isnull=True).exists()


# --- Delivery -------------------------------------------------------------------------------


@dataclass
class PushReport:
    """What one delivery run did. `retry_ids`: subscriptions that failed transiently."""

    sent: int = 0
    removed: int = 0
    failed: int = 0
    disabled: int = 0
    retry_ids: list[int] = field(default_factory=list)
    retry_after: int | None = None


@dataclass(frozen=True)
class _Attempt:
    status: int | None  # the push service's answer; None: not sent or no answer
    error: str = ""
    retry_after: int | None = None
    permanent: bool = False  # not worth retrying: refused by our SSRF checks, or unusable keys


class _NoRedirectSession(requests.Session):
    """Push services answer directly; a redirect could only lead somewhere we did not check."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["allow_redirects"] = False
        return super().request(method, url, *args, **kwargs)


def encode_payload(payload: Mapping[str, Any]) -> str:
    """Compact UTF-8 JSON (Arabic stays 2 bytes a letter). A too long `body` is shortened with an
    ellipsis; anything else too large raises PushPayloadTooLarge."""
    message = dict(payload)

    def dump() -> str:
        return json.dumps(message, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))

    data = dump()
    while len(data.encode()) > MAX_PAYLOAD_BYTES:
        body = message.get("body")
        if not isinstance(body, str) or not body.rstrip(_ELLIPSIS):
            raise PushPayloadTooLarge(f"push payload is {len(data.encode())} bytes; at most {MAX_PAYLOAD_BYTES} fit")
        text = body.removesuffix(_ELLIPSIS)
        # Every character is at least one byte, so cutting the overshoot in characters always shrinks.
        overshoot = len(data.encode()) - MAX_PAYLOAD_BYTES + len(_ELLIPSIS.encode())
        message["body"] = text[: max(0, len(text) - overshoot)].rstrip() + _ELLIPSIS
        data = dump()
    return data


def _retry_after_seconds(value: str | None) -> int | None:
    if value and value.strip().isdigit():
        return min(int(value.strip()), 3600)
    return None  # absent, or an HTTP date: the task's own backoff decides


def _send(
    subscription: PushSubscription, *, data: str, ttl: int, headers: Mapping[str, str], config: PushConfig
) -> _Attempt:
    refusal = endpoint_send_refusal(subscription.endpoint)
    if refusal is not None:
        return _Attempt(None, refusal.reason, permanent=not refusal.transient)
    info = {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
    try:
        with _NoRedirectSession() as session:
            response = webpush(
                subscription_info=info,
                data=data,
                vapid_private_key=config.signer,
                vapid_claims=fresh_claims(subject=config.subject, endpoint=subscription.endpoint),
                ttl=ttl,
                headers=dict(headers),
                timeout=float(settings.PROVIDER_HTTP_TIMEOUT_SECONDS),
                requests_session=session,
            )
    except WebPushException as exc:
        if exc.response is None:  # pywebpush refused the subscription info before sending
            return _Attempt(None, str(exc.message)[:300], permanent=True)
        status = int(exc.status_code or 0)
        return _Attempt(status, f"push service answered {status}", _retry_after_seconds(exc.retry_after))
    except requests.Timeout:
        return _Attempt(None, "push service timed out")
    except requests.RequestException as exc:
        return _Attempt(None, f"network error ({exc.__class__.__name__})")
    except (ValueError, http_ece.ECEException) as exc:  # stored keys that do not encrypt
        return _Attempt(None, f"encryption failed ({exc.__class__.__name__})", permanent=True)
    status = response.status_code if isinstance(response, requests.Response) else 201
    return _Attempt(status)


def _record_failure(subscription: PushSubscription, error: str) -> bool:
    """Count a failure in one UPDATE; True when this one disabled the subscription."""
    limit = int(settings.PUSH_MAX_CONSECUTIVE_FAILURES)
    now = timezone.now()
    PushSubscription.objects.filter(pk=subscription.pk).update(
        failures=F("failures") + 1,
        last_error=error[:300],
        disabled_at=Case(
            When(disabled_at__isnull=True, failures__gte=limit - 1, then=Value(now)), default=F("disabled_at")
        ),
        updated_at=now,
    )
    return PushSubscription.objects.filter(pk=subscription.pk, disabled_at=now).exists()


def _headers(*, urgency: str, topic: str | None) -> dict[str, str]:
    headers = {"Urgency": urgency}
    if topic:
        headers["Topic"] = topic
    return headers


def _check_options(*, ttl: int, urgency: str, topic: str | None) -> None:
    if not isinstance(ttl, int) or isinstance(ttl, bool) or not 0 <= ttl <= MAX_TTL_SECONDS:
        raise ValueError(f"ttl must be whole seconds from 0 to {MAX_TTL_SECONDS}")
    if urgency not in URGENCIES:
        raise ValueError(f"urgency must be one of {', '.join(URGENCIES)}")
    if topic is not None and (
        not topic or len(topic) > TOPIC_MAX_LENGTH or not all(c.isascii() and (c.isalnum() or c in "-_") for c in topic)
    ):
        raise ValueError("topic must be 1-32 base64url characters")


def push_deliver(
    *,
    user_id: int,
    payload: Mapping[str, Any],
    ttl: int = 3600,
    urgency: str = "normal",
    topic: str | None = None,
    subscription_ids: Iterable[int] | None = None,
) -> PushReport:
    """Send one message to each enabled subscription of the user (or the given ones of theirs)."""
    _check_options(ttl=ttl, urgency=urgency, topic=topic)
    report = PushReport()
    config = push_config()
    if config is None:
        logger.info("web push is not configured; nothing sent to user %s", user_id)
        return report
    data = encode_payload(payload)
    subscriptions = PushSubscription.objects.filter(user_id=user_id, disabled_at__isnull=True).order_by("id")
    if subscription_ids is not None:
        subscriptions = subscriptions.filter(pk__in=list(subscription_ids))
    headers = _headers(urgency=urgency, topic=topic)
    for subscription in list(subscriptions):
        attempt = _send(subscription, data=data, ttl=ttl, headers=headers, config=config)
        if attempt.status in (201, 202, 200):
            PushSubscription.objects.filter(pk=subscription.pk).update(
                failures=0, last_error="", last_used_at=timezone.now()
            )
            report.sent += 1
        elif attempt.status in (404, 410):
            PushSubscription.objects.filter(pk=subscription.pk, endpoint=subscription.endpoint).delete()
            report.removed += 1
        elif attempt.status == 413:
            logger.error("push payload rejected as too large (%s bytes) for user %s", len(data.encode()), user_id)
            report.failed += 1
        elif attempt.status == 429:
            report.failed += 1
            report.retry_ids.append(subscription.pk)
            if attempt.retry_after is not None:
                report.retry_after = max(report.retry_after or 0, attempt.retry_after)
        else:
            transient = attempt.status is None or attempt.status >= 500
            if attempt.status in (400, 401, 403):
                # Our VAPID key or claims are wrong, or the browser subscribed with another key.
                logger.error("push service refused our message (%s): %s", attempt.status, subscription.endpoint[:80])
            else:
                logger.warning("push delivery failed: %s", attempt.error)
            report.failed += 1
            if _record_failure(subscription, attempt.error or f"push service answered {attempt.status}"):
                report.disabled += 1
            elif transient and not attempt.permanent:
                report.retry_ids.append(subscription.pk)
    return report


def push_send_to_user(
    user: User, payload: dict[str, Any], *, ttl: int = 3600, urgency: str = "normal", topic: str | None = None
) -> int:
    """Send `payload` (JSON for the service worker: title, body, url, tag, …) to every enabled
    subscription of `user`, synchronously: call it inside a Celery task. Returns how many push
    services accepted it. 404/410 deletes that subscription; other failures are counted."""
    return push_deliver(user_id=user.pk, payload=payload, ttl=ttl, urgency=urgency, topic=topic).sent
