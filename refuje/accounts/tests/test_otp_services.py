from __future__ import annotations

import copy
import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from refuje.accounts import otp as otp_services
from refuje.accounts.models import OTPCode, OtpPurpose, User, UserType
from refuje.accounts.otp import (
    AccountDisabled,
    NoAccount,
    NotHotelMember,
    OtpAttemptsExceeded,
    OtpDeliveryFailed,
    OtpExpired,
    OtpInvalid,
    PhoneTaken,
    otp_hash,
    otp_send,
    otp_sign_in,
    otp_sms_fallback,
    otp_verify,
    otp_verify_phone,
)
from refuje.common.testing.factories import GuestFactory, HotelFactory, MembershipFactory, UserFactory, next_phone
from refuje.compliance.models import AuditEvent

CODE = "123456"
WRONG = "654321"


@pytest.fixture(autouse=True)
def fresh_key_space(settings):
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches


@pytest.fixture
def authentica(settings, fake_authentica):
    """WhatsApp then SMS, both through the fake Authentica."""
    settings.OTP_PROVIDER = "authentica"
    return fake_authentica


@pytest.fixture
def gupshup_then_authentica(settings, fake_gupshup, fake_authentica):
    """WhatsApp through the fake Gupshup, SMS fallback through the fake Authentica."""
    settings.OTP_PROVIDER = "gupshup"
    return fake_gupshup, fake_authentica


def issue(phone, *, purpose=OtpPurpose.AUTH, hotel=None, code=CODE, **fields):
    """A code as the send service leaves it after a successful delivery."""
    now = timezone.now()
    values = {
        "phone_number": phone,
        "purpose": purpose,
        "hotel": hotel,
        "code_hash": otp_hash(phone=phone, purpose=purpose, code=code),
        "channel": "whatsapp",
        "expires_at": now + timedelta(minutes=5),
        "sent_at": now,
        **fields,
    }
    return OTPCode.objects.create(**values)


def send(phone, *, purpose=OtpPurpose.AUTH, hotel=None, ip="198.51.100.7", device="d" * 64, actor=None):
    return otp_send(
        phone=phone, purpose=purpose, hotel=hotel, ip=ip, device_fingerprint=device, language="en", actor=actor
    )


# --- sending --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_code_is_random_six_digits_stored_only_as_a_keyed_hash(authentica, settings):
    phone = next_phone()

    result = send(phone)

    code = authentica.otp_for(phone)
    row = OTPCode.objects.get(pk=result.otp_id)
    assert code is not None
    assert re.fullmatch(r"[0-9]{6}", code)
    assert code not in {row.code_hash, row.provider_message_id, row.device_fingerprint}
    assert row.code_hash == otp_hash(phone=phone, purpose="auth", code=code)
    settings.OTP_HASH_KEY = "another-key"
    assert row.code_hash != otp_hash(phone=phone, purpose="auth", code=code)
    assert (result.channel, result.expires_in, result.resend_in) == ("whatsapp", 300, 60)
    assert row.sent_at is not None
    assert (row.ip, row.device_fingerprint) == ("198.51.100.7", "d" * 64)


@pytest.mark.django_db
def test_hash_binds_phone_and_purpose():
    phone = next_phone()
    assert otp_hash(phone=phone, purpose="auth", code=CODE) != otp_hash(phone=phone, purpose="verify", code=CODE)
    assert otp_hash(phone=phone, purpose="auth", code=CODE) != otp_hash(phone=next_phone(), purpose="auth", code=CODE)


@pytest.mark.django_db
def test_new_code_supersedes_older_codes_of_same_phone_purpose_and_hotel(authentica, settings):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    phone, hotel, other_hotel = next_phone(), HotelFactory.create(), HotelFactory.create()
    issue(phone, hotel=other_hotel, code="111111")
    send(phone, hotel=hotel)
    first = authentica.otp_for(phone)
    send(phone, hotel=hotel)
    second = authentica.otp_for(phone)

    with pytest.raises(OtpInvalid):
        otp_verify(phone=phone, code=first, purpose="auth", hotel=hotel)
    assert otp_verify(phone=phone, code=second, purpose="auth", hotel=hotel).hotel == hotel
    # Another hotel's code is a different scope and stays usable.
    assert otp_verify(phone=phone, code="111111", purpose="auth", hotel=other_hotel)


@pytest.mark.django_db
def test_whatsapp_failure_falls_back_to_sms_at_once(gupshup_then_authentica):
    gupshup, authentica = gupshup_then_authentica
    gupshup.fail_next(1, status=500)
    phone = next_phone()

    result = send(phone)

    assert result.channel == "sms"
    assert [(sent.method, sent.recipient) for sent in authentica.sent_otps] == [("sms", phone)]
    row = OTPCode.objects.get(pk=result.otp_id)
    assert row.sms_fallback_sent is True
    assert otp_verify(phone=phone, code=authentica.otp_for(phone), purpose="auth", hotel=None)


@pytest.mark.django_db
def test_total_delivery_failure_keeps_an_unusable_row(authentica):
    authentica.fail_next(2, status=503)
    phone = next_phone()

    with pytest.raises(OtpDeliveryFailed) as raised:
        send(phone)

    assert raised.value.status_code == 502
    row = OTPCode.objects.get(phone_number=phone)
    assert (row.is_used, row.delivery_failed, row.sent_at) == (True, True, None)
    sent_code = authentica.requests[-1].json["otp"]
    with pytest.raises(OtpInvalid):
        otp_verify(phone=phone, code=sent_code, purpose="auth", hotel=None)


@pytest.mark.django_db
def test_failed_resend_leaves_the_previous_code_valid(authentica, settings):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    phone = next_phone()
    send(phone)
    first = authentica.otp_for(phone)
    authentica.fail_next(2, status=503)

    with pytest.raises(OtpDeliveryFailed):
        send(phone)

    assert otp_verify(phone=phone, code=first, purpose="auth", hotel=None)


@pytest.mark.django_db
def test_verify_purpose_code_needs_a_signed_in_actor(authentica):
    with pytest.raises(otp_services.SignInRequired):
        send(next_phone(), purpose=OtpPurpose.VERIFY)
    assert not authentica.sent_otps


# --- verifying ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("issued", "attempted"), [("auth", "verify"), ("verify", "auth")])
def test_codes_are_bound_to_their_purpose(issued, attempted):
    phone = next_phone()
    issue(phone, purpose=issued)

    with pytest.raises(OtpInvalid):
        otp_verify(phone=phone, code=CODE, purpose=attempted, hotel=None)
    assert otp_verify(phone=phone, code=CODE, purpose=issued, hotel=None)


@pytest.mark.django_db
def test_hotel_bound_code_needs_exactly_its_hotel():
    phone, hotel, other = next_phone(), HotelFactory.create(), HotelFactory.create()
    issue(phone, hotel=hotel)

    for wrong_scope in (other, None):
        with pytest.raises(OtpInvalid):
            otp_verify(phone=phone, code=CODE, purpose="auth", hotel=wrong_scope)
    assert otp_verify(phone=phone, code=CODE, purpose="auth", hotel=hotel)


@pytest.mark.django_db
def test_unbound_code_is_not_accepted_with_a_hotel():
    phone = next_phone()
    issue(phone)

    with pytest.raises(OtpInvalid):
        otp_verify(phone=phone, code=CODE, purpose="auth", hotel=HotelFactory.create())
    assert otp_verify(phone=phone, code=CODE, purpose="auth", hotel=None)


@pytest.mark.django_db
def test_wrong_tries_are_recorded_and_the_fifth_burns_the_code():
    phone = next_phone()
    row = issue(phone)
    for expected_attempts in range(1, 5):
        with pytest.raises(OtpInvalid):
            otp_verify(phone=phone, code=WRONG, purpose="auth", hotel=None)
        row.refresh_from_db()
        assert row.attempts == expected_attempts

    with pytest.raises(OtpAttemptsExceeded):
        otp_verify(phone=phone, code=WRONG, purpose="auth", hotel=None)
    with pytest.raises(OtpAttemptsExceeded):
        otp_verify(phone=phone, code=CODE, purpose="auth", hotel=None)


@pytest.mark.django_db
def test_four_wrong_tries_still_leave_the_right_code_usable():
    phone = next_phone()
    issue(phone)
    for _ in range(4):
        with pytest.raises(OtpInvalid):
            otp_verify(phone=phone, code=WRONG, purpose="auth", hotel=None)

    assert otp_verify(phone=phone, code=CODE, purpose="auth", hotel=None).is_used


@pytest.mark.django_db
def test_expired_code_is_rejected(settings):
    settings.REDIS_URL = ""
    phone = next_phone()
    row = issue(phone)

    with freeze_time(row.expires_at + timedelta(seconds=1)), pytest.raises(OtpExpired):
        otp_verify(phone=phone, code=CODE, purpose="auth", hotel=None)
    with freeze_time(row.expires_at - timedelta(seconds=1)):
        assert otp_verify(phone=phone, code=CODE, purpose="auth", hotel=None)


@pytest.mark.django_db
def test_code_works_once():
    phone = next_phone()
    issue(phone)
    otp_verify(phone=phone, code=CODE, purpose="auth", hotel=None)

    with pytest.raises(OtpInvalid):
        otp_verify(phone=phone, code=CODE, purpose="auth", hotel=None)


@pytest.mark.django_db
def test_code_not_yet_accepted_by_a_provider_cannot_be_used():
    phone = next_phone()
    issue(phone, sent_at=None)

    with pytest.raises(OtpInvalid):
        otp_verify(phone=phone, code=CODE, purpose="auth", hotel=None)


# --- signing in -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_guest_signing_in_at_a_hotel_gets_an_account_on_first_success():
    phone, hotel = next_phone(), HotelFactory.create()
    issue(phone, hotel=hotel)

    result = otp_sign_in(phone=phone, code=CODE, hotel=hotel, language="en")

    assert result.created is True
    user = User.objects.get(phone_number=phone)
    assert result.user == user
    assert (user.user_type, user.preferred_language) == (UserType.GUEST, "en")
    assert user.phone_verified_at is not None


@pytest.mark.django_db
def test_without_a_hotel_only_existing_accounts_sign_in():
    phone = next_phone()
    issue(phone)

    with pytest.raises(NoAccount):
        otp_sign_in(phone=phone, code=CODE, hotel=None)
    assert not User.objects.filter(phone_number=phone).exists()

    existing = GuestFactory.create(phone_number=phone)
    result = otp_sign_in(phone=phone, code=CODE, hotel=None)
    assert (result.user, result.created) == (existing, False)


@pytest.mark.django_db
def test_disabled_account_is_refused_without_burning_the_code():
    user = UserFactory.create(is_active=False)
    row = issue(user.phone_number)

    with pytest.raises(AccountDisabled):
        otp_sign_in(phone=user.phone_number, code=CODE, hotel=None)
    row.refresh_from_db()
    assert (row.is_used, row.attempts) == (False, 0)

    User.objects.filter(pk=user.pk).update(is_active=True)
    assert otp_sign_in(phone=user.phone_number, code=CODE, hotel=None).user == user


@pytest.mark.django_db
def test_staff_signing_in_at_a_hotel_needs_an_active_membership_there():
    staff, hotel = UserFactory.create(), HotelFactory.create()
    MembershipFactory.create(user=staff, role="ADMIN")  # another hotel
    inactive = MembershipFactory.create(user=staff, hotel=hotel, is_active=False)
    row = issue(staff.phone_number, hotel=hotel)

    with pytest.raises(NotHotelMember):
        otp_sign_in(phone=staff.phone_number, code=CODE, hotel=hotel)
    row.refresh_from_db()
    assert row.is_used is False

    inactive.is_active = True
    inactive.save()
    assert otp_sign_in(phone=staff.phone_number, code=CODE, hotel=hotel).user == staff


@pytest.mark.django_db
def test_existing_guest_signs_in_at_any_hotel():
    guest, hotel = GuestFactory.create(), HotelFactory.create()
    issue(guest.phone_number, hotel=hotel)

    result = otp_sign_in(phone=guest.phone_number, code=CODE, hotel=hotel)

    assert (result.user, result.created) == (guest, False)


# --- proving a phone ------------------------------------------------------------------------


@pytest.mark.django_db
def test_proving_own_phone_marks_it_verified():
    user = GuestFactory.create(phone_verified_at=None)
    issue(user.phone_number, purpose=OtpPurpose.VERIFY)

    otp_verify_phone(user=user, phone=user.phone_number, code=CODE)

    user.refresh_from_db()
    assert user.phone_verified_at is not None


@pytest.mark.django_db
def test_proving_a_free_number_makes_it_the_account_phone():
    user, new_phone = GuestFactory.create(), next_phone()
    old_phone = user.phone_number
    issue(new_phone, purpose=OtpPurpose.VERIFY)

    otp_verify_phone(user=user, phone=new_phone, code=CODE, ip="198.51.100.7")

    user.refresh_from_db()
    assert user.phone_number == new_phone
    assert user.phone_verified_at is not None
    event = AuditEvent.objects.get(action="account.phone_changed")
    assert (event.before, event.after) == ({"phone_number": old_phone}, {"phone_number": new_phone})


@pytest.mark.django_db
def test_another_accounts_number_is_refused_and_the_code_kept():
    user, owner = GuestFactory.create(), GuestFactory.create()
    row = issue(owner.phone_number, purpose=OtpPurpose.VERIFY)

    with pytest.raises(PhoneTaken) as raised:
        otp_verify_phone(user=user, phone=owner.phone_number, code=CODE)

    assert raised.value.status_code == 409
    row.refresh_from_db()
    assert row.is_used is False
    assert User.objects.get(pk=user.pk).phone_number != owner.phone_number


# --- asynchronous SMS fallback --------------------------------------------------------------


@pytest.fixture
def whatsapp_code(gupshup_then_authentica):
    gupshup, authentica = gupshup_then_authentica
    phone = next_phone()
    result = send(phone)
    assert result.channel == "whatsapp"
    return result.otp_id, phone, gupshup.otp_for(phone), authentica


def _sms_requests(authentica):
    return [r for r in authentica.requests if r.json and r.json.get("method") == "sms"]


@pytest.mark.django_db
def test_sms_fallback_sends_a_new_code_and_replaces_the_old_one(whatsapp_code):
    otp_id, phone, whatsapp, authentica = whatsapp_code

    assert otp_sms_fallback(otp_id=otp_id) is True

    sms = authentica.otp_for(phone)
    assert sms is not None
    assert sms != whatsapp
    row = OTPCode.objects.get(pk=otp_id)
    assert (row.channel, row.sms_fallback_sent) == ("sms", True)
    with pytest.raises(OtpInvalid):
        otp_verify(phone=phone, code=whatsapp, purpose="auth", hotel=None)
    assert otp_verify(phone=phone, code=sms, purpose="auth", hotel=None)


@pytest.mark.django_db
def test_sms_fallback_happens_once_per_code(whatsapp_code):
    otp_id, _, _, authentica = whatsapp_code

    assert otp_sms_fallback(otp_id=otp_id) is True
    assert otp_sms_fallback(otp_id=otp_id) is False
    assert len(_sms_requests(authentica)) == 1


@pytest.mark.django_db
def test_failed_sms_fallback_keeps_the_old_code_and_releases_the_claim(whatsapp_code):
    otp_id, _, _, authentica = whatsapp_code
    authentica.fail_next(1, status=503)

    assert otp_sms_fallback(otp_id=otp_id) is False

    row = OTPCode.objects.get(pk=otp_id)
    assert (row.sms_fallback_sent, row.sms_fallback_claimed_at, row.channel) == (False, None, "whatsapp")
    assert otp_sms_fallback(otp_id=otp_id) is True  # released: a later run retries
    row.refresh_from_db()
    assert row.sms_fallback_sent is True


@pytest.mark.django_db
def test_failed_sms_fallback_leaves_the_whatsapp_code_valid(whatsapp_code):
    otp_id, phone, whatsapp, authentica = whatsapp_code
    authentica.fail_next(1, status=503)
    otp_sms_fallback(otp_id=otp_id)

    assert otp_verify(phone=phone, code=whatsapp, purpose="auth", hotel=None)


@pytest.mark.django_db
def test_fresh_claim_blocks_and_stale_claim_is_retried(whatsapp_code, settings):
    otp_id, _, _, authentica = whatsapp_code
    stale_after = settings.OTP_SMS_FALLBACK_CLAIM_STALE_SECONDS
    claims = OTPCode.objects.filter(pk=otp_id)

    claims.update(sms_fallback_claimed_at=timezone.now() - timedelta(seconds=stale_after - 5))
    assert otp_sms_fallback(otp_id=otp_id) is False
    assert not _sms_requests(authentica)

    claims.update(sms_fallback_claimed_at=timezone.now() - timedelta(seconds=stale_after + 1))
    assert otp_sms_fallback(otp_id=otp_id) is True
    assert len(_sms_requests(authentica)) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [{"is_used": True}, {"expires_at": timezone.now() - timedelta(seconds=1)}, {"sms_fallback_sent": True}],
    ids=["used", "expired", "already-sent"],
)
def test_sms_fallback_is_a_no_op_for_codes_that_cannot_use_it(whatsapp_code, change):
    otp_id, _, _, authentica = whatsapp_code
    OTPCode.objects.filter(pk=otp_id).update(**change)

    assert otp_sms_fallback(otp_id=otp_id) is False
    assert not _sms_requests(authentica)


@pytest.mark.django_db
def test_superseded_code_gets_no_sms_fallback(gupshup_then_authentica, settings):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    _, authentica = gupshup_then_authentica
    phone = next_phone()
    first = send(phone)
    send(phone)

    assert otp_sms_fallback(otp_id=first.otp_id) is False
    assert not _sms_requests(authentica)


@pytest.mark.django_db
def test_code_already_delivered_by_sms_needs_no_fallback(gupshup_then_authentica):
    gupshup, authentica = gupshup_then_authentica
    gupshup.fail_next(1, status=500)
    result = send(next_phone())

    assert otp_sms_fallback(otp_id=result.otp_id) is False
    assert len(_sms_requests(authentica)) == 1
