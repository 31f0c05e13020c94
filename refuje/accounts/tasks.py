"""Periodic one-time-code jobs (scheduled in CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from refuje.common.jobs import recorded_job
from refuje.common.ratelimit import ratelimit_prune
from refuje.providers.registry import sms_otp_sender

from .models import OtpChannel, OTPCode
from .otp import otp_sms_fallback

SMS_FALLBACK_SWEEP = "refuje.accounts.sms_fallback_sweep"
OTP_CLEANUP = "refuje.accounts.otp_cleanup"

DEFAULT_SMS_FALLBACK_AFTER_SECONDS = 45
# Codes live minutes; a day is far beyond any use, and beyond the hourly abuse windows that count rows.
OTP_RETENTION = timedelta(hours=24)
# Codes swept per run; more wait for the next run, which comes long before they expire.
SWEEP_BATCH_SIZE = 200


@shared_task(name=SMS_FALLBACK_SWEEP)
@recorded_job(SMS_FALLBACK_SWEEP)
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


@shared_task(name=OTP_CLEANUP)
@recorded_job(OTP_CLEANUP)
def otp_cleanup_task() -> dict[str, int]:
    """Delete codes older than a day and the expired rate-limit windows."""
    deleted, _ = OTPCode.objects.filter(created_at__lt=timezone.now() - OTP_RETENTION).delete()
    return {"otp_codes": deleted, "rate_limit_windows": ratelimit_prune()}


@shared_task(name="refuje.accounts.otp_sms_fallback")
def otp_sms_fallback_task(otp_id: int) -> bool:
    """The SMS fallback of one code whose WhatsApp delivery failed (the Gupshup webhook enqueues it).

    Goes through the same claim as the sweep, so the two never both send. When the code cannot be
    sent by SMS at all (no SMS provider), it is marked `delivery_failed`, so the sweep stops trying;
    an SMS that failed releases its claim and the sweep retries it.
    """
    if otp_sms_fallback(otp_id=otp_id):
        return True
    if sms_otp_sender() is None:
        OTPCode.objects.filter(pk=otp_id, is_used=False, sms_fallback_sent=False).update(delivery_failed=True)
    return False
