"""Front desk stays, the guest's current stay, self check-in by room QR, and the hotel's settings."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from freezegun import freeze_time

from refuje.accounts.models import User, UserType
from refuje.common.testing.concierge_factories import GuestStayFactory, HotelConciergeSettingsFactory
from refuje.common.testing.factories import GuestFactory, HotelFactory, MembershipFactory
from refuje.common.testing.tenancy import browser_client
from refuje.compliance.models import AuditEvent
from refuje.hotels.models import Role
from refuje.qrcodes.models import QRTargetType
from refuje.qrcodes.tests.factories import QRCodeFactory
from refuje.stays import services
from refuje.stays.models import GuestStay, StaySource, StayStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk():
    return MembershipFactory.create(role=Role.STAFF)


def stays_url(membership):
    return f"/api/v1/hotels/{membership.hotel.slug}/stays/"


def register(desk, **body):
    body.setdefault("phone", "0551234567")
    body.setdefault("room", "1204")
    body.setdefault("check_in", "2025-06-01")
    body.setdefault("check_out", "2025-06-04")
    return browser_client(desk.user).post(stays_url(desk), body, format="json")


# --- Front desk -----------------------------------------------------------------------------


def test_registering_a_new_phone_creates_the_guest_account(desk):
    response = register(desk, full_name="Noura", phone="٠٥٥١٢٣٤٥٦٧")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["guest"]["phone_number"] == "+966551234567"
    assert (body["room"], body["check_in"], body["check_out"], body["status"], body["source"]) == (
        "1204",
        "2025-06-01",
        "2025-06-04",
        "ACTIVE",
        "front_desk",
    )
    guest = User.objects.get(phone_number="+966551234567")
    assert (guest.user_type, guest.full_name) == (UserType.GUEST, "Noura")
    stay = GuestStay.objects.get(pk=body["id"])
    assert (stay.hotel, stay.created_by) == (desk.hotel, desk.user)
    assert AuditEvent.objects.filter(action="stay.register", target_id=str(stay.pk)).exists()


def test_registering_a_known_phone_links_the_existing_account(desk):
    guest = GuestFactory.create(phone_number="+966551234567", full_name="")
    response = register(desk, phone="+966 55 123 4567", full_name="Noura")
    assert response.status_code == 201
    assert response.json()["guest"]["id"] == guest.pk
    assert User.objects.filter(phone_number="+966551234567").count() == 1
    guest.refresh_from_db()
    assert guest.full_name == "Noura"  # filled in, never overwritten


def test_a_second_active_stay_at_the_same_hotel_is_409(desk):
    first = register(desk).json()
    response = register(desk, room="305")
    assert response.status_code == 409
    assert response.json()["code"] == "stay_already_active"
    assert response.json()["stay_id"] == first["id"]
    assert GuestStay.objects.count() == 1


def test_a_guest_may_stay_at_two_hotels_at_once(desk):
    other_desk = MembershipFactory.create(role=Role.STAFF)
    assert register(desk).status_code == 201
    assert register(other_desk).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"check_out": "2025-05-31"}, "check_out"),
        ({"check_out": "2027-06-04"}, "check_out"),
        ({"check_in": "not a date"}, "check_in"),
        ({"phone": "12"}, "phone"),
        ({"room": ""}, "room"),
        ({"room": "<script>"}, "room"),
        ({"room": "x" * 21}, "room"),
    ],
)
def test_bad_registration_is_a_field_error(desk, body, field):
    response = register(desk, **body)
    assert response.status_code == 400
    assert field in response.json()
    assert not GuestStay.objects.exists()


def test_a_disabled_account_cannot_be_registered(desk):
    GuestFactory.create(phone_number="+966551234567", is_active=False)
    response = register(desk)
    assert response.status_code == 400
    assert "phone" in response.json()
    assert not GuestStay.objects.exists()


def test_check_out_ends_the_stay_and_is_idempotent(desk):
    stay_id = register(desk).json()["id"]
    client = browser_client(desk.user)
    url = f"{stays_url(desk)}{stay_id}/"
    first = client.patch(url, {"status": "CHECKED_OUT"}, format="json")
    assert first.status_code == 200
    assert first.json()["status"] == "CHECKED_OUT"
    assert first.json()["ended_at"] is not None
    again = client.patch(url, {"status": "CHECKED_OUT"}, format="json")
    assert again.status_code == 200
    assert again.json()["ended_at"] == first.json()["ended_at"]
    assert AuditEvent.objects.filter(action="stay.check_out").count() == 1
    # Checked out, the guest can be registered again.
    assert register(desk).status_code == 201


def test_an_ended_stay_cannot_change(desk):
    stay_id = register(desk).json()["id"]
    client = browser_client(desk.user)
    url = f"{stays_url(desk)}{stay_id}/"
    client.patch(url, {"status": "CANCELLED"}, format="json")
    for body in ({"room": "9"}, {"status": "CHECKED_OUT"}):
        response = client.patch(url, body, format="json")
        assert response.status_code == 409
        assert response.json()["code"] == "stay_not_active"
    assert GuestStay.objects.get(pk=stay_id).status == StayStatus.CANCELLED


def test_room_and_dates_can_change_while_active(desk):
    stay_id = register(desk).json()["id"]
    url = f"{stays_url(desk)}{stay_id}/"
    response = browser_client(desk.user).patch(url, {"room": "77", "check_out": "2025-06-10"}, format="json")
    assert response.status_code == 200
    assert (response.json()["room"], response.json()["check_out"]) == ("77", "2025-06-10")
    bad = browser_client(desk.user).patch(url, {"check_out": "2025-05-01"}, format="json")
    assert bad.status_code == 400
    assert "check_out" in bad.json()
    assert GuestStay.objects.get(pk=stay_id).check_out == date(2025, 6, 10)


def test_status_cannot_be_set_back_to_active(desk):
    stay_id = register(desk).json()["id"]
    response = browser_client(desk.user).patch(f"{stays_url(desk)}{stay_id}/", {"status": "ACTIVE"}, format="json")
    assert response.status_code == 400


def test_list_filters(desk):
    active = GuestStayFactory.create(hotel=desk.hotel, room="101")
    GuestStayFactory.create(hotel=desk.hotel, room="102", status=StayStatus.CHECKED_OUT)
    GuestStayFactory.create(room="101")  # another hotel
    client = browser_client(desk.user)

    def ids(**query):
        response = client.get(stays_url(desk), query)
        assert response.status_code == 200
        return [item["id"] for item in response.json()["results"]]

    assert len(ids()) == 2
    assert ids(status="ACTIVE") == [active.pk]
    assert ids(room="101") == [active.pk]
    assert ids(search=active.guest.phone_number[-6:]) == [active.pk]
    assert client.get(stays_url(desk), {"status": "nope"}).status_code == 400


def test_viewer_cannot_see_stays(desk):
    viewer = MembershipFactory.create(hotel=desk.hotel, role=Role.VIEWER)
    assert browser_client(viewer.user).get(stays_url(desk)).status_code == 403


# --- The guest's current stay ---------------------------------------------------------------


def test_guest_reads_their_active_stay():
    stay = GuestStayFactory.create(room="808")
    GuestStayFactory.create(hotel=stay.hotel, guest=stay.guest, status=StayStatus.CHECKED_OUT)
    response = browser_client(stay.guest).get("/api/v1/guest/stays/current/", {"hotel": stay.hotel.slug})
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["room"], body["hotel"]["slug"]) == (stay.pk, "808", stay.hotel.slug)


def test_no_active_stay_is_404_and_hotel_is_required():
    stay = GuestStayFactory.create(status=StayStatus.CHECKED_OUT)
    client = browser_client(stay.guest)
    assert client.get("/api/v1/guest/stays/current/", {"hotel": stay.hotel.slug}).status_code == 404
    assert client.get("/api/v1/guest/stays/current/", {"hotel": "nowhere"}).status_code == 404
    assert client.get("/api/v1/guest/stays/current/").status_code == 400


# --- Self check-in --------------------------------------------------------------------------


@pytest.fixture
def room_code():
    hotel = HotelFactory.create(timezone="Asia/Riyadh")
    HotelConciergeSettingsFactory.create(hotel=hotel, self_check_in_enabled=True, self_check_in_nights=2)
    return QRCodeFactory.create(hotel=hotel, room_number="1510")


def self_check_in(user, token):
    return browser_client(user).post("/api/v1/guest/stays/self-check-in/", {"qr_token": token}, format="json")


def test_self_check_in_creates_an_active_stay_for_the_room(room_code):
    guest = GuestFactory.create()
    # 22:30 UTC on 2025-06-01 is already 2025-06-02 in Riyadh: the hotel's date counts.
    with freeze_time(datetime(2025, 6, 1, 22, 30, tzinfo=UTC)):
        response = self_check_in(guest, room_code.token)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created"] is True
    assert (body["stay"]["room"], body["stay"]["check_in"], body["stay"]["check_out"]) == (
        "1510",
        "2025-06-02",
        "2025-06-04",
    )
    stay = GuestStay.objects.get(pk=body["stay"]["id"])
    assert (stay.guest, stay.source, stay.status, stay.created_by) == (
        guest,
        StaySource.SELF_CHECK_IN,
        StayStatus.ACTIVE,
        guest,
    )


def test_self_check_in_is_idempotent_and_never_moves_a_stay(room_code):
    guest = GuestFactory.create()
    first = self_check_in(guest, room_code.token).json()
    again = self_check_in(guest, room_code.token)
    assert again.status_code == 200
    assert again.json() == {**first, "created": False}
    other_room = QRCodeFactory.create(hotel=room_code.hotel, room_number="9")
    moved = self_check_in(guest, other_room.token)
    assert moved.status_code == 200
    assert moved.json()["stay"]["room"] == "1510"
    assert GuestStay.objects.count() == 1


def test_self_check_in_needs_the_hotel_setting(room_code):
    room_code.hotel.concierge_settings.self_check_in_enabled = False
    room_code.hotel.concierge_settings.save()
    response = self_check_in(GuestFactory.create(), room_code.token)
    assert response.status_code == 403
    assert response.json()["code"] == "self_check_in_disabled"
    assert not GuestStay.objects.exists()


def test_self_check_in_is_off_by_default():
    code = QRCodeFactory.create()
    assert self_check_in(GuestFactory.create(), code.token).json()["code"] == "self_check_in_disabled"


def test_self_check_in_needs_a_live_room_code(room_code):
    guest = GuestFactory.create()
    location = QRCodeFactory.create(
        hotel=room_code.hotel, target_type=QRTargetType.LOCATION, room_number="", location_label="Lobby"
    )
    assert self_check_in(guest, location.token).json()["code"] == "qr_not_a_room"
    assert self_check_in(guest, "x" * 40).status_code == 404
    room_code.is_active = False
    room_code.save()
    assert self_check_in(guest, room_code.token).status_code == 404
    assert not GuestStay.objects.exists()


def test_self_check_in_service_returns_the_stay_and_whether_it_was_created(room_code):
    guest = GuestFactory.create()
    result = services.stay_self_check_in(guest=guest, qr_code=room_code)
    assert result.created is True
    again = services.stay_self_check_in(guest=guest, qr_code=room_code)
    assert (again.created, again.stay.pk) == (False, result.stay.pk)


# --- Settings -------------------------------------------------------------------------------


def test_settings_read_defaults_and_admin_changes_them(desk):
    url = f"/api/v1/hotels/{desk.hotel.slug}/concierge-settings/"
    admin = MembershipFactory.create(hotel=desk.hotel, role=Role.ADMIN)
    body = browser_client(desk.user).get(url).json()
    assert (body["self_check_in_enabled"], body["self_check_in_nights"]) == (False, 1)
    assert browser_client(desk.user).patch(url, {"self_check_in_enabled": True}, format="json").status_code == 403
    response = browser_client(admin.user).patch(
        url, {"self_check_in_enabled": True, "self_check_in_nights": 3}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["self_check_in_enabled"], response.json()["self_check_in_nights"]) == (True, 3)
    assert browser_client(admin.user).patch(url, {"self_check_in_nights": 0}, format="json").status_code == 400
    assert AuditEvent.objects.filter(action="hotel.concierge_settings_update").count() == 1
