"""Real threads against PostgreSQL: the row locks and claims must hold under simultaneous requests."""

from __future__ import annotations

import copy
import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from refuje.accounts.models import OTPCode, User
from refuje.accounts.otp import OtpInvalid, otp_hash, otp_send, otp_sign_in, otp_sms_fallback, otp_verify
from refuje.common.testing.factories import HotelFactory, next_phone

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]

CODE = "246810"


@pytest.fixture(autouse=True)
def fresh_key_space(settings):
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches


def issue(phone, *, hotel=None):
    now = timezone.now()
    return OTPCode.objects.create(
        phone_number=phone,
        purpose="auth",
        hotel=hotel,
        code_hash=otp_hash(phone=phone, purpose="auth", code=CODE),
        channel="whatsapp",
        expires_at=now + timedelta(minutes=5),
        sent_at=now,
    )


def run_together(calls):
    """Start every call at the same moment in its own thread; return (results, errors)."""
    barrier = threading.Barrier(len(calls))
    results, errors = [], []
    lock = threading.Lock()

    def worker(call):
        try:
            barrier.wait()
            value = call()
            with lock:
                results.append(value)
        except Exception as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def test_concurrent_verifies_of_one_code_give_exactly_one_success():
    phone = next_phone()
    issue(phone)

    results, errors = run_together(
        [lambda: otp_verify(phone=phone, code=CODE, purpose="auth", hotel=None) for _ in range(6)]
    )

    assert len(results) == 1
    assert [type(error) for error in errors] == [OtpInvalid] * 5


def test_concurrent_first_sign_ins_for_one_phone_make_one_user():
    phone = next_phone()
    hotels = [HotelFactory.create() for _ in range(4)]
    for hotel in hotels:
        issue(phone, hotel=hotel)

    results, errors = run_together(
        [lambda hotel=hotel: otp_sign_in(phone=phone, code=CODE, hotel=hotel) for hotel in hotels]
    )

    assert errors == []
    assert User.objects.filter(phone_number=phone).count() == 1
    assert {result.user.pk for result in results} == {User.objects.get(phone_number=phone).pk}
    assert sum(result.created for result in results) == 1


def test_concurrent_sms_fallbacks_send_one_sms(settings, fake_gupshup, fake_authentica):
    settings.OTP_PROVIDER = "gupshup"
    phone = next_phone()
    result = otp_send(phone=phone, purpose="auth", hotel=None, ip="198.51.100.7", device_fingerprint="", language="ar")
    # A slow SMS provider widens the window in which a second sender could slip in.
    fake_authentica.delay_next(0.3, count=6)

    results, errors = run_together([lambda: otp_sms_fallback(otp_id=result.otp_id) for _ in range(6)])

    assert errors == []
    assert sorted(results) == [False] * 5 + [True]
    assert [sent.method for sent in fake_authentica.sent_otps] == ["sms"]
    assert otp_verify(phone=phone, code=fake_authentica.otp_for(phone), purpose="auth", hotel=None)
