from __future__ import annotations

import copy
import itertools
import uuid
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from rest_framework.test import APIClient

from refuje.accounts.fingerprint import device_cookie_name
from refuje.accounts.models import OTPCode, User, UserType
from refuje.common.models import RateLimitCounter
from refuje.common.testing.factories import GuestFactory, HotelFactory, MembershipFactory, UserFactory, next_phone
from refuje.common.tests.test_ratelimit import PrivateRedis

SEND_URL = "/api/v1/auth/otp/send/"
VERIFY_URL = "/api/v1/auth/otp/verify/"
PHONE_VERIFY_URL = "/api/v1/auth/phone/verify/"
CSRF_URL = "/api/v1/auth/csrf/"

_ips = itertools.count(1)


def unique_ip() -> str:
    n = next(_ips)
    return f"192.0.{(n >> 8) & 255}.{n & 255}"


@pytest.fixture(autouse=True)
def fresh_key_space(settings):
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches


@pytest.fixture
def authentica(settings, fake_authentica):
    settings.OTP_PROVIDER = "authentica"
    return fake_authentica


def browser() -> APIClient:
    """A browser-like client: CSRF enforced, token fetched the way the front end does it."""
    client = APIClient(enforce_csrf_checks=True)
    client.get(CSRF_URL)
    client.credentials(HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value, HTTP_ACCEPT_LANGUAGE="en")
    return client


def send(client, phone, *, purpose="auth", hotel=None, ip="127.0.0.1", **extra):
    body = {"phone": phone, "purpose": purpose}
    if hotel is not None:
        body["hotel"] = hotel.slug
    return client.post(SEND_URL, body, format="json", REMOTE_ADDR=ip, **extra)


def verify(client, phone, code, *, hotel=None, ip="127.0.0.1"):
    body = {"phone": phone, "code": code}
    if hotel is not None:
        body["hotel"] = hotel.slug
    return client.post(VERIFY_URL, body, format="json", REMOTE_ADDR=ip)


def sign_in(client, authentica, *, hotel=None, phone=None):
    phone = phone or next_phone()
    assert send(client, phone, hotel=hotel).status_code == 202
    response = verify(client, phone, authentica.otp_for(phone), hotel=hotel)
    assert response.status_code == 200, response.content
    return User.objects.get(phone_number=phone)


def assert_rate_limited(response, code="rate_limited"):
    assert response.status_code == 429, response.content
    body = response.json()
    assert body["code"] == code
    retry_after = int(response["Retry-After"])
    assert retry_after >= 1
    assert body["retry_after"] == retry_after
    return retry_after


# --- sending --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_send_answers_202_with_channel_and_timers(authentica):
    client = browser()

    response = send(client, "050 000 1234")

    assert response.status_code == 202, response.content
    assert response.json() == {"channel": "whatsapp", "expires_in": 300, "resend_in": 60}
    assert response["Cache-Control"] == "no-store"
    assert authentica.otp_for("+966500001234") is not None


@pytest.mark.django_db
def test_send_sets_a_long_lived_http_only_device_cookie_and_records_the_fingerprint(authentica):
    client = browser()
    first = send(client, next_phone())
    cookie = first.cookies[device_cookie_name()]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) > 30 * 24 * 3600

    second = send(client, next_phone())
    other_device = send(browser(), next_phone())

    assert device_cookie_name() not in second.cookies  # kept, not replaced
    fingerprints = list(OTPCode.objects.order_by("pk").values_list("device_fingerprint", flat=True))
    assert fingerprints[0] == fingerprints[1] != fingerprints[2]
    assert len(fingerprints[0]) == 64
    assert cookie.value not in fingerprints[0]
    assert other_device.status_code == 202


@pytest.mark.django_db
def test_known_and_unknown_phones_get_identical_answers(authentica):
    known = GuestFactory.create().phone_number
    unknown = next_phone()

    answers = [send(browser(), phone) for phone in (known, unknown)]

    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].json() == answers[1].json()
    assert sorted(answers[0].cookies) == sorted(answers[1].cookies)
    assert sorted(answers[0].headers) == sorted(answers[1].headers)
    # The same work too: both get a row and a delivered code.
    assert {sent.recipient for sent in authentica.sent_otps} == {known, unknown}
    assert OTPCode.objects.filter(phone_number__in=[known, unknown], sent_at__isnull=False).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("phone", ["12", "not a phone", "+1 555", ""])
def test_bad_phone_is_a_field_error(authentica, phone):
    response = send(browser(), phone)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert isinstance(body["phone"][0], str)
    assert not authentica.sent_otps


@pytest.mark.django_db
@pytest.mark.parametrize("slug", ["no-such-hotel", "bad slug!", "x" * 200])
def test_unknown_hotel_is_a_field_error(authentica, slug):
    response = browser().post(SEND_URL, {"phone": next_phone(), "purpose": "auth", "hotel": slug}, format="json")

    assert response.status_code == 400
    assert response.json()["hotel"]


@pytest.mark.django_db
def test_inactive_hotel_is_unknown(authentica):
    hotel = HotelFactory.create(is_active=False)

    assert send(browser(), next_phone(), hotel=hotel).status_code == 400


@pytest.mark.django_db
def test_sending_needs_the_csrf_token(authentica):
    client = APIClient(enforce_csrf_checks=True)
    client.get(CSRF_URL)

    response = send(client, next_phone())

    assert response.status_code == 403
    assert not authentica.sent_otps


@pytest.mark.django_db
def test_verify_purpose_code_needs_sign_in(authentica):
    response = send(browser(), next_phone(), purpose="verify")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# --- delivery -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_whatsapp_failure_is_answered_with_sms_at_once(settings, fake_gupshup, fake_authentica):
    settings.OTP_PROVIDER = "gupshup"
    fake_gupshup.fail_next(1, status=500)
    phone = next_phone()

    response = send(browser(), phone)

    assert response.status_code == 202
    assert response.json()["channel"] == "sms"
    assert [sent.method for sent in fake_authentica.sent_otps] == ["sms"]


@pytest.mark.django_db
def test_total_delivery_failure_is_502_and_the_row_is_unusable_but_counted(authentica):
    authentica.fail_next(2, status=503)
    client, phone = browser(), next_phone()

    response = send(client, phone)

    assert response.status_code == 502
    assert response.json()["code"] == "otp_delivery_failed"
    assert response.json()["resend_in"] == 60
    row = OTPCode.objects.get(phone_number=phone)
    assert (row.is_used, row.delivery_failed) == (True, True)
    leaked_code = authentica.requests[-1].json["otp"]
    assert verify(client, phone, leaked_code).json()["code"] == "otp_invalid"
    assert_rate_limited(send(client, phone), code="otp_resend_cooldown")


@pytest.mark.django_db
def test_failed_deliveries_count_towards_the_hourly_cap(authentica, settings):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    settings.OTP_SENDS_PER_PHONE_PER_HOUR = 2
    authentica.fail_next(4, status=503)
    phone = next_phone()

    assert [send(browser(), phone, ip=unique_ip()).status_code for _ in range(2)] == [502, 502]
    assert_rate_limited(send(browser(), phone, ip=unique_ip()))


# --- signing in -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_guest_signs_up_at_a_hotel_and_gets_session_cookies(authentica):
    client, phone, hotel = browser(), next_phone(), HotelFactory.create()
    assert send(client, phone, hotel=hotel).status_code == 202

    response = verify(client, phone, authentica.otp_for(phone), hotel=hotel)

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"user", "memberships", "stay"}
    assert (body["user"]["phone_number"], body["user"]["user_type"]) == (phone, UserType.GUEST)
    assert (body["memberships"], body["stay"]) == ([], None)
    for name in (django_settings.AUTH_ACCESS_COOKIE, django_settings.AUTH_REFRESH_COOKIE):
        assert response.cookies[name]["httponly"]
    assert response["Cache-Control"] == "no-store"
    assert User.objects.get(phone_number=phone).phone_verified_at is not None


@pytest.mark.django_db
def test_staff_sign_in_lists_memberships(authentica):
    membership = MembershipFactory.create(user=UserFactory.create(), role="ADMIN")
    client, phone = browser(), membership.user.phone_number
    send(client, phone, hotel=membership.hotel)

    response = verify(client, phone, authentica.otp_for(phone), hotel=membership.hotel)

    assert response.status_code == 200
    assert [m["hotel"] for m in response.json()["memberships"]] == [membership.hotel.slug]


@pytest.mark.django_db
def test_unknown_phone_without_hotel_gets_no_account(authentica):
    client, phone = browser(), next_phone()
    send(client, phone)

    response = verify(client, phone, authentica.otp_for(phone))

    assert response.status_code == 403
    assert response.json()["code"] == "no_account"
    assert not User.objects.filter(phone_number=phone).exists()
    assert django_settings.AUTH_ACCESS_COOKIE not in response.cookies


@pytest.mark.django_db
def test_wrong_and_expired_codes_have_stable_codes(authentica):
    client, phone = browser(), next_phone()
    send(client, phone)
    code = authentica.otp_for(phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    assert verify(client, phone, wrong).json() == {
        "detail": "This code is not correct. Check it and try again, or request a new code.",
        "code": "otp_invalid",
    }
    OTPCode.objects.filter(phone_number=phone).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = verify(client, phone, code)
    assert (response.status_code, response.json()["code"]) == (400, "otp_expired")


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["12ab56", "12345", "1234567", ""])
def test_malformed_code_is_a_clear_400(authentica, code):
    response = verify(browser(), next_phone(), code)

    assert response.status_code == 400
    assert response.json()["code"] == "otp_invalid"
    if code:
        assert "6-digit" in response.json()["detail"]


@pytest.mark.django_db
def test_code_typed_in_arabic_indic_digits_is_accepted(authentica):
    client, phone, hotel = browser(), next_phone(), HotelFactory.create()
    send(client, phone, hotel=hotel)
    arabic = authentica.otp_for(phone).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))

    assert verify(client, phone, arabic, hotel=hotel).status_code == 200


@pytest.mark.django_db
def test_five_wrong_tries_burn_the_code(authentica):
    client, phone = browser(), GuestFactory.create().phone_number
    send(client, phone)
    code = authentica.otp_for(phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    codes = [verify(client, phone, wrong).json()["code"] for _ in range(5)]

    assert codes == ["otp_invalid"] * 4 + ["otp_attempts_exceeded"]
    response = verify(client, phone, code)
    assert (response.status_code, response.json()["code"]) == (400, "otp_attempts_exceeded")


@pytest.mark.django_db
def test_disabled_account_is_refused_and_the_code_works_after_re_enabling(authentica):
    user = UserFactory.create(is_active=False)
    client = browser()
    send(client, user.phone_number)
    code = authentica.otp_for(user.phone_number)

    refused = verify(client, user.phone_number, code)
    assert (refused.status_code, refused.json()["code"]) == (403, "account_disabled")

    User.objects.filter(pk=user.pk).update(is_active=True)
    assert verify(client, user.phone_number, code).status_code == 200


@pytest.mark.django_db
def test_staff_needs_a_membership_in_the_hotel_given(authentica):
    staff, hotel = UserFactory.create(), HotelFactory.create()
    client = browser()
    send(client, staff.phone_number, hotel=hotel)

    response = verify(client, staff.phone_number, authentica.otp_for(staff.phone_number), hotel=hotel)

    assert (response.status_code, response.json()["code"]) == (403, "not_hotel_member")


@pytest.mark.django_db
def test_hotel_code_is_refused_at_another_hotel(authentica):
    client, phone, hotel = browser(), next_phone(), HotelFactory.create()
    send(client, phone, hotel=hotel)
    code = authentica.otp_for(phone)

    assert verify(client, phone, code, hotel=HotelFactory.create()).json()["code"] == "otp_invalid"
    assert verify(client, phone, code).json()["code"] == "otp_invalid"
    assert verify(client, phone, code, hotel=hotel).status_code == 200


# --- purposes and proving a phone -----------------------------------------------------------


@pytest.mark.django_db
def test_sign_in_code_is_refused_for_proving_a_phone(authentica, settings):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    client = browser()
    user = sign_in(client, authentica, hotel=HotelFactory.create())
    new_phone = next_phone()
    send(client, new_phone, purpose="auth")

    response = client.post(PHONE_VERIFY_URL, {"phone": new_phone, "code": authentica.otp_for(new_phone)}, format="json")

    assert (response.status_code, response.json()["code"]) == (400, "otp_invalid")
    user.refresh_from_db()
    assert user.phone_number != new_phone


@pytest.mark.django_db
def test_phone_proving_code_is_refused_for_signing_in(authentica, settings):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    client = browser()
    user = sign_in(client, authentica, hotel=HotelFactory.create())
    assert send(client, user.phone_number, purpose="verify").status_code == 202
    code = authentica.otp_for(user.phone_number)

    refused = verify(browser(), user.phone_number, code)

    assert (refused.status_code, refused.json()["code"]) == (400, "otp_invalid")
    proved = client.post(PHONE_VERIFY_URL, {"phone": user.phone_number, "code": code}, format="json")
    assert proved.status_code == 200, proved.content


@pytest.mark.django_db
def test_signed_in_user_moves_to_a_free_number(authentica, settings):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    client = browser()
    user = sign_in(client, authentica, hotel=HotelFactory.create())
    new_phone = next_phone()
    send(client, new_phone, purpose="verify")

    response = client.post(PHONE_VERIFY_URL, {"phone": new_phone, "code": authentica.otp_for(new_phone)}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["phone_number"] == new_phone
    user.refresh_from_db()
    assert user.phone_number == new_phone


@pytest.mark.django_db
def test_another_accounts_number_is_a_409(authentica, settings):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    client = browser()
    sign_in(client, authentica, hotel=HotelFactory.create())
    taken = GuestFactory.create().phone_number
    send(client, taken, purpose="verify")

    response = client.post(PHONE_VERIFY_URL, {"phone": taken, "code": authentica.otp_for(taken)}, format="json")

    assert (response.status_code, response.json()["code"]) == (409, "phone_taken")


@pytest.mark.django_db
def test_proving_a_phone_needs_sign_in(authentica):
    response = browser().post(PHONE_VERIFY_URL, {"phone": next_phone(), "code": "123456"}, format="json")

    assert response.status_code == 401


# --- abuse limits ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_resend_within_the_cooldown_is_429_with_retry_after(authentica):
    client, phone = browser(), next_phone()
    assert send(client, phone).status_code == 202

    response = send(browser(), phone, ip=unique_ip())

    retry_after = assert_rate_limited(response, code="otp_resend_cooldown")
    assert 55 <= retry_after <= 60
    assert "second" in response.json()["detail"]
    assert len(authentica.sent_otps) == 1


@pytest.mark.django_db
def test_hourly_cap_per_phone_holds_across_addresses_and_devices(authentica, settings):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    settings.OTP_SENDS_PER_PHONE_PER_HOUR = 3
    phone = next_phone()

    statuses = [send(browser(), phone, ip=unique_ip()).status_code for _ in range(3)]

    assert statuses == [202, 202, 202]
    retry_after = assert_rate_limited(send(browser(), phone, ip=unique_ip()))
    assert retry_after > 60
    assert "minute" in send(browser(), phone, ip=unique_ip()).json()["detail"]


@pytest.mark.django_db
def test_sends_per_address_are_capped(authentica, settings):
    settings.OTP_SENDS_PER_IP_PER_HOUR = 2
    ip = unique_ip()

    assert [send(browser(), next_phone(), ip=ip).status_code for _ in range(2)] == [202, 202]
    assert_rate_limited(send(browser(), next_phone(), ip=ip))
    assert send(browser(), next_phone(), ip=unique_ip()).status_code == 202


@pytest.mark.django_db
def test_sends_per_device_are_capped(authentica, settings):
    settings.OTP_SENDS_PER_DEVICE_PER_HOUR = 2
    device = browser()

    assert [send(device, next_phone(), ip=unique_ip()).status_code for _ in range(2)] == [202, 202]
    assert_rate_limited(send(device, next_phone(), ip=unique_ip()))
    assert send(browser(), next_phone(), ip=unique_ip()).status_code == 202


@pytest.mark.django_db
def test_failed_verifies_per_phone_are_capped_whatever_the_address(authentica, settings):
    settings.OTP_FAILED_VERIFIES_PER_PHONE_PER_HOUR = 3
    phone = GuestFactory.create().phone_number
    send(browser(), phone)
    code = authentica.otp_for(phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    for _ in range(3):
        assert verify(browser(), phone, wrong, ip=unique_ip()).status_code == 400

    assert_rate_limited(verify(browser(), phone, code, ip=unique_ip()))


@pytest.mark.django_db
def test_guesses_without_a_live_code_count_as_failed_verifies(authentica, settings):
    settings.OTP_FAILED_VERIFIES_PER_PHONE_PER_HOUR = 3
    phone = GuestFactory.create().phone_number
    for _ in range(3):
        assert verify(browser(), phone, "000000", ip=unique_ip()).json()["code"] == "otp_invalid"
    send(browser(), phone)

    assert_rate_limited(verify(browser(), phone, authentica.otp_for(phone), ip=unique_ip()))


@pytest.mark.django_db
def test_send_limits_hold_when_redis_stops(authentica, settings):
    settings.OTP_SENDS_PER_IP_PER_HOUR = 3
    server = PrivateRedis()
    settings.REDIS_URL = server.url
    ip = unique_ip()
    try:
        assert [send(browser(), next_phone(), ip=ip).status_code for _ in range(2)] == [202, 202]
        assert server.stored_keys(), "the counters were in Redis while it ran"
    finally:
        server.stop()

    assert send(browser(), next_phone(), ip=ip).status_code == 202
    assert_rate_limited(send(browser(), next_phone(), ip=ip))
    assert RateLimitCounter.objects.exists(), "the database took over the counting"


@pytest.mark.django_db
def test_failed_verify_cap_holds_when_redis_stops(authentica, settings):
    settings.OTP_FAILED_VERIFIES_PER_PHONE_PER_HOUR = 3
    server = PrivateRedis()
    settings.REDIS_URL = server.url
    phone = GuestFactory.create().phone_number
    try:
        send(browser(), phone)
        code = authentica.otp_for(phone)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _ in range(2):
            assert verify(browser(), phone, wrong, ip=unique_ip()).status_code == 400
    finally:
        server.stop()

    assert verify(browser(), phone, wrong, ip=unique_ip()).status_code == 400
    assert_rate_limited(verify(browser(), phone, code, ip=unique_ip()))
