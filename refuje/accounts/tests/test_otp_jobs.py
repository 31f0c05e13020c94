"""The one-time-code jobs: the SMS-fallback sweep and the cleanup, run through Celery."""

from __future__ import annotations

import copy
import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from refuje.accounts.models import OTPCode
from refuje.accounts.otp import otp_hash, otp_verify
from refuje.accounts.tasks import otp_cleanup_task, sms_fallback_sweep_task
from refuje.common.models import RateLimitCounter
from refuje.common.testing.factories import next_phone

CODE = "135790"


@pytest.fixture(autouse=True)
def fresh_key_space(settings):
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches


@pytest.fixture
def authentica(settings, fake_authentica):
    settings.OTP_PROVIDER = "authentica"
    settings.OTP_SMS_FALLBACK_AFTER_SECONDS = 45
    return fake_authentica


def issue(*, sent_ago=60, channel="whatsapp", created_ago=None, **fields):
    """A code as the send service leaves it after delivery `sent_ago` seconds ago."""
    phone = fields.pop("phone_number", None) or next_phone()
    now = timezone.now()
    sent_at = now - timedelta(seconds=sent_ago)
    values = {
        "phone_number": phone,
        "purpose": "auth",
        "code_hash": otp_hash(phone=phone, purpose="auth", code=CODE),
        "channel": channel,
        "expires_at": sent_at + timedelta(minutes=5),
        "sent_at": sent_at,
        "created_at": now - timedelta(seconds=created_ago if created_ago is not None else sent_ago),
        **fields,
    }
    return OTPCode.objects.create(**values)


def sms_sent(fake):
    return sorted(sent.recipient for sent in fake.sent_otps if sent.method == "sms")


def phones(*codes):
    return sorted(code.phone_number for code in codes)


def run(task):
    outcome = task.apply()
    assert outcome.successful(), outcome.traceback
    return outcome.result


# --- SMS fallback sweep ---------------------------------------------------------------------


@pytest.mark.django_db
def test_sweep_sends_sms_for_whatsapp_codes_left_unused(authentica):
    due = issue(sent_ago=60)
    also_due = issue(sent_ago=200)
    too_recent = issue(sent_ago=30)
    used = issue(sent_ago=60, is_used=True)
    expired = issue(sent_ago=60, expires_at=timezone.now() - timedelta(seconds=1))
    by_sms = issue(sent_ago=60, channel="sms")
    fallen_back = issue(sent_ago=60, sms_fallback_sent=True)
    never_sent = issue(sent_ago=60, sent_at=None)

    result = run(sms_fallback_sweep_task)

    assert result == {"candidates": 2, "sent": 2}
    assert sms_sent(authentica) == phones(due, also_due)
    for code in (due, also_due):
        row = OTPCode.objects.get(pk=code.pk)
        assert (row.channel, row.sms_fallback_sent) == ("sms", True)
        # The SMS carries a new code, which now signs in.
        assert otp_verify(
            phone=code.phone_number, code=authentica.otp_for(code.phone_number), purpose="auth", hotel=None
        )
    untouched = (too_recent, used, expired, by_sms, never_sent)
    assert not OTPCode.objects.filter(pk__in=[c.pk for c in untouched], sms_fallback_sent=True).exists()
    assert OTPCode.objects.get(pk=fallen_back.pk).channel == "whatsapp"

    assert run(sms_fallback_sweep_task) == {"candidates": 0, "sent": 0}
    assert sms_sent(authentica) == phones(due, also_due)


@pytest.mark.django_db
def test_the_waiting_time_is_a_setting(authentica, settings):
    code = issue(sent_ago=60)
    settings.OTP_SMS_FALLBACK_AFTER_SECONDS = 90
    assert run(sms_fallback_sweep_task)["sent"] == 0
    settings.OTP_SMS_FALLBACK_AFTER_SECONDS = 50
    assert run(sms_fallback_sweep_task)["sent"] == 1
    assert sms_sent(authentica) == [code.phone_number]


@pytest.mark.django_db
def test_a_stale_claim_is_swept_again(authentica, settings):
    stale = settings.OTP_SMS_FALLBACK_CLAIM_STALE_SECONDS
    live_claim = issue(sent_ago=120, sms_fallback_claimed_at=timezone.now() - timedelta(seconds=stale - 5))
    abandoned = issue(sent_ago=120, sms_fallback_claimed_at=timezone.now() - timedelta(seconds=stale + 5))

    assert run(sms_fallback_sweep_task)["sent"] == 1
    assert sms_sent(authentica) == [abandoned.phone_number]
    assert OTPCode.objects.get(pk=live_claim.pk).sms_fallback_sent is False


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_two_sweeps_at_once_send_one_sms_per_code(authentica):
    codes = [issue(sent_ago=60) for _ in range(4)]
    # A slow SMS provider widens the window in which a second sweep could send the same code again.
    authentica.delay_next(0.2, count=8)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def sweep():
        try:
            barrier.wait()
            results.append(sms_fallback_sweep_task.apply().get())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(result["sent"] for result in results) == 4
    assert sms_sent(authentica) == phones(*codes)
    assert OTPCode.objects.filter(sms_fallback_sent=True).count() == 4


# --- cleanup --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_cleanup_deletes_only_codes_older_than_a_day_and_prunes_rate_limits():
    old = issue(sent_ago=60, created_ago=25 * 3600)
    old_unsent = issue(sent_ago=60, created_ago=24 * 3600 + 5, sent_at=None)
    recent = issue(sent_ago=60, created_ago=23 * 3600)
    fresh = issue(sent_ago=10)
    now = timezone.now()
    stale_window = RateLimitCounter.objects.create(key="test:old", window_start=now - timedelta(days=2), count=3)
    live_window = RateLimitCounter.objects.create(key="test:live", window_start=now - timedelta(hours=1), count=3)

    result = run(otp_cleanup_task)

    assert result == {"otp_codes": 2, "rate_limit_windows": 1}
    remaining = set(OTPCode.objects.values_list("pk", flat=True))
    assert {recent.pk, fresh.pk} <= remaining
    assert not remaining & {old.pk, old_unsent.pk}
    assert set(RateLimitCounter.objects.values_list("pk", flat=True)) >= {live_window.pk}
    assert not RateLimitCounter.objects.filter(pk=stale_window.pk).exists()
