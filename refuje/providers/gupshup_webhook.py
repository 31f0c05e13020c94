"""Gupshup callbacks (providers.md section 3): delivery reports of the WhatsApp messages we sent.

Authenticity. Gupshup signs nothing, so we share a secret, GUPSHUP_WEBHOOK_SECRET, in one of the
two ways providers.md describes, and compare it in constant time:
- a header `Authorization: Bearer <secret>` (Partner API: the subscription's `meta` headers,
  `{"headers": {"Authorization": "Bearer <secret>"}}`); preferred, as it stays out of access logs;
- the callback URL's last path segment, `/api/v1/webhooks/gupshup/<secret>/` (self-serve dashboards
  take only a URL).
Without a configured secret every callback is refused (403).

What a report does. A `failed` report of a one-time code's WhatsApp message (correlated on
`OTPCode.provider_message_id`) enqueues that code's SMS fallback, which goes through the same
claim as the sweep (`refuje.accounts.otp.otp_sms_fallback`), so a webhook and a sweep at the same
moment send one SMS. Every other `sent`/`delivered`/`read`/`failed` report goes to the
notifications app (`delivery_status_update`), which moves statuses forward only. Handling is a
couple of queries and an enqueue after commit, so Gupshup gets its 2xx at once; repeated or
out-of-order reports change nothing twice.

Both the v2 envelope (`{"type": "message-event", "payload": {...}}`) and the Meta-style v3 body
(`{"entry": [{"changes": [{"value": {"statuses": [...]}}]}]}`) are understood; anything else
(inbound messages, user events, unknown shapes) is acknowledged and ignored.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from refuje.accounts.models import OtpChannel, OTPCode

logger = logging.getLogger(__name__)

PROVIDER = "gupshup"
# Statuses the notifications app understands; `enqueued`, `deleted`, `mismatch` are not reported.
REPORTED_STATUSES = frozenset({"sent", "delivered", "read", "failed"})
MAX_ID_LENGTH = 100
MAX_ERROR_LENGTH = 500
MAX_STATUSES_PER_CALLBACK = 100


def webhook_secret_matches(supplied: str | None) -> bool:
    """True only when a secret is configured and `supplied` equals it (constant time)."""
    secret = str(getattr(settings, "GUPSHUP_WEBHOOK_SECRET", "") or "")
    if not secret or not supplied:
        return False
    return hmac.compare_digest(supplied.encode("utf-8", "surrogatepass"), secret.encode("utf-8"))


def bearer_token(authorization: str) -> str:
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@dataclass(frozen=True)
class StatusReport:
    """One delivery report: our send's messageId (or the WhatsApp id when that is all there is)."""

    status: str
    message_id: str
    error: str = ""


def _text(value: Any, limit: int) -> str:
    """A string or number from the body as text the database can store, else ""."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    text = str(value).replace("\x00", "").strip()[:limit]
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from JSON escapes
        return ""
    return text


def _error_text(code: Any, reason: Any) -> str:
    parts = [_text(code, 20), _text(reason, MAX_ERROR_LENGTH)]
    return ": ".join(part for part in parts if part)[:MAX_ERROR_LENGTH]


def _v2_reports(body: dict[str, Any]) -> Iterator[StatusReport]:
    payload = body.get("payload")
    if body.get("type") != "message-event" or not isinstance(payload, dict):
        return
    status = _text(payload.get("type"), 20).lower()
    # gsId is our send's messageId; a synchronous failure (and `enqueued`) carry it in `id` instead.
    message_id = _text(payload.get("gsId"), MAX_ID_LENGTH) or _text(payload.get("id"), MAX_ID_LENGTH)
    inner = payload.get("payload")
    error = ""
    if status == "failed" and isinstance(inner, dict):
        error = _error_text(inner.get("code"), inner.get("reason"))
    yield StatusReport(status=status, message_id=message_id, error=error)


def _v3_reports(body: dict[str, Any]) -> Iterator[StatusReport]:
    entries = body.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            statuses = value.get("statuses") if isinstance(value, dict) else None
            for item in statuses if isinstance(statuses, list) else []:
                if not isinstance(item, dict):
                    continue
                errors = item.get("errors")
                first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
                yield StatusReport(
                    status=_text(item.get("status"), 20).lower(),
                    message_id=_text(item.get("gs_id"), MAX_ID_LENGTH) or _text(item.get("id"), MAX_ID_LENGTH),
                    error=_error_text(first.get("code"), first.get("title") or first.get("message")),
                )


def status_reports(body: Any) -> list[StatusReport]:
    """The delivery reports in a callback body of any shape (never raises)."""
    if not isinstance(body, dict):
        return []
    reports = [*_v2_reports(body), *_v3_reports(body)][:MAX_STATUSES_PER_CALLBACK]
    return [report for report in reports if report.status in REPORTED_STATUSES and report.message_id]


def _enqueue_otp_fallback(otp_id: int) -> None:
    from refuje.accounts.tasks import otp_sms_fallback_task

    def enqueue() -> None:
        try:
            otp_sms_fallback_task.delay(otp_id)
        except Exception:
            # The broker is down: the sweep still finds the code (unused, WhatsApp, no fallback yet).
            logger.exception("Could not enqueue the SMS fallback of one-time code %s; the sweep will send it", otp_id)

    transaction.on_commit(enqueue)


def gupshup_report_apply(report: StatusReport) -> str:
    """Apply one delivery report; returns what it was (for logs and tests)."""
    from refuje.notifications.services import delivery_status_update

    if report.status == "failed":
        otp_id = (
            OTPCode.objects.filter(provider_message_id=report.message_id, channel=OtpChannel.WHATSAPP)
            .values_list("pk", flat=True)
            .first()
        )
        if otp_id is not None:
            logger.info("WhatsApp delivery of one-time code %s failed (%s); SMS fallback", otp_id, report.error)
            _enqueue_otp_fallback(otp_id)
            return "otp_fallback"
    known = delivery_status_update(
        provider=PROVIDER, message_id=report.message_id, status=report.status, error=report.error
    )
    return "notification" if known else "unknown"


def gupshup_callback_handle(body: Any) -> list[str]:
    """Everything one callback reports, applied in order."""
    return [gupshup_report_apply(report) for report in status_reports(body)]
