"""Periodic one-time-code jobs (scheduled in CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from refuje.common.ratelimit import ratelimit_prune

from .models import OtpChannel, OTPCode
from .otp import otp_sms_fallback

DEFAULT_SMS_FALLBACK_AFTER_SECONDS = 45
# Codes live minutes; a day is far beyond any use, and beyond the hourly abuse windows that count rows.
OTP_RETENTION = timedelta(hours=24)
# Codes swept per run; more wait for the next run, which comes long before they expire.
SWEEP_BATCH_SIZE = 200


@shared_task(name="refuje.accounts.sms_fallback_sweep")
def sms_fallback_sweep_task() -> dict[str, int]:
    """Send by SMS the WhatsApp codes still unused a while after sending.

    otp_sms_fallback claims each row with one atomic UPDATE, so concurrent sweeps (or the delivery
    webhook) send one SMS per code, and a claim abandoned by a crashed run is taken again once stale.
    """
    now = timezone.now()
    after = int(getattr(settings, "OTP_SMS_FALLBACK_AFTER_SECONDS", DEFAULT_SMS_FALLBACK_AFTER_SECONDS))
    due = (
        OTPCode.objects.filter(
            channel=OtpChannel.WHATSAPP,
            sent_at__lt=now - timedelta(seconds=after),
            is_used=False,
            delivery_failed=False,
            sms_fallback_sent=False,
            expires_at__gt=now,
        )
        .order_by("sent_at", "id")
        .values_list("id", flat=True)[:SWEEP_BATCH_SIZE]
    )
    candidates = list(due)
    sent = sum(1 for otp_id in candidates if otp_sms_fallback(otp_id=otp_id))
    return {"candidates": len(candidates), "sent": sent}


@shared_task(name="refuje.accounts.otp_cleanup")
def otp_cleanup_task() -> dict[str, int]:
    """Delete codes older than a day and the expired rate-limit windows."""
    deleted, _ = OTPCode.objects.filter(created_at__lt=timezone.now() - OTP_RETENTION).delete()
    return {"otp_codes": deleted, "rate_limit_windows": ratelimit_prune()}
