"""Signing in at a hotel tells the guest where they stay, and a room QR can check them in."""

import pytest

from refuje.accounts.tests.test_otp_api import browser, send
from refuje.common.testing.concierge_factories import GuestStayFactory, HotelConciergeSettingsFactory
from refuje.common.testing.factories import GuestFactory, HotelFactory, next_phone
from refuje.qrcodes.models import QRTargetType
from refuje.qrcodes.tests.factories import QRCodeFactory
from refuje.stays.models import GuestStay, StaySource, StayStatus

pytestmark = pytest.mark.django_db

VERIFY_URL = "/api/v1/auth/otp/verify/"


@pytest.fixture
def authentica(settings, fake_authentica):
    settings.OTP_PROVIDER = "authentica"
    return fake_authentica


def sign_in_at(hotel, authentica, *, phone, qr_token=None):
    client = browser()
    assert send(client, phone, hotel=hotel).status_code == 202
    body = {"phone": phone, "code": authentica.otp_for(phone), "hotel": hotel.slug}
    if qr_token is not None:
        body["qr_token"] = qr_token
    response = client.post(VERIFY_URL, body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_sign_in_reports_the_guests_active_stay(authentica):
    stay = GuestStayFactory.create(guest=GuestFactory.create())
    body = sign_in_at(stay.hotel, authentica, phone=stay.guest.phone_number)
    assert body["stay"]["id"] == stay.pk
    assert body["stay"]["room"] == stay.room


def test_sign_in_without_a_stay_reports_none(authentica):
    body = sign_in_at(HotelFactory.create(), authentica, phone=next_phone())
    assert body["stay"] is None


def test_room_qr_sign_in_checks_the_guest_in_when_the_hotel_allows_it(authentica):
    settings_row = HotelConciergeSettingsFactory.create(self_check_in_enabled=True)
    qr = QRCodeFactory.create(hotel=settings_row.hotel, room_number="714")
    phone = next_phone()
    body = sign_in_at(qr.hotel, authentica, phone=phone, qr_token=qr.token)
    stay = GuestStay.objects.get(guest__phone_number=phone)
    assert (stay.status, stay.room, stay.source) == (StayStatus.ACTIVE, "714", StaySource.SELF_CHECK_IN)
    assert body["stay"]["id"] == stay.pk


def test_room_qr_sign_in_without_self_check_in_signs_in_without_a_stay(authentica):
    settings_row = HotelConciergeSettingsFactory.create(self_check_in_enabled=False)
    qr = QRCodeFactory.create(hotel=settings_row.hotel)
    body = sign_in_at(qr.hotel, authentica, phone=next_phone(), qr_token=qr.token)
    assert body["stay"] is None
    assert not GuestStay.objects.exists()


def test_another_hotels_qr_code_checks_nobody_in(authentica):
    here = HotelConciergeSettingsFactory.create(self_check_in_enabled=True).hotel
    elsewhere = QRCodeFactory.create(hotel=HotelConciergeSettingsFactory.create(self_check_in_enabled=True).hotel)
    body = sign_in_at(here, authentica, phone=next_phone(), qr_token=elsewhere.token)
    assert body["stay"] is None
    assert not GuestStay.objects.exists()


def test_a_non_room_code_checks_nobody_in(authentica):
    settings_row = HotelConciergeSettingsFactory.create(self_check_in_enabled=True)
    qr = QRCodeFactory.create(
        hotel=settings_row.hotel, target_type=QRTargetType.LOCATION, room_number="", location_label="Lobby"
    )
    body = sign_in_at(qr.hotel, authentica, phone=next_phone(), qr_token=qr.token)
    assert body["stay"] is None
