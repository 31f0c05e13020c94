"""The bookings API end to end: availability, booking, quotes, cancelling, the staff side."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from freezegun import freeze_time

from refuje.bookings.models import Booking, StaffScheduleInterval, StaffTimeOff
from refuje.common.testing.booking_factories import (
    BookingFactory,
    StaffTimeOffFactory,
    bookable_experience,
    verified_guest,
)
from refuje.common.testing.factories import GuestFactory, HotelFactory, MembershipFactory
from refuje.common.testing.tenancy import browser_client
from refuje.compliance.models import AuditEvent
from refuje.hotels.models import Role

pytestmark = pytest.mark.django_db
RIYADH = ZoneInfo("Asia/Riyadh")


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def at(text: str, zone: ZoneInfo = RIYADH) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def availability_url(experience) -> str:
    return f"/api/v1/public/hotels/{experience.hotel.slug}/experiences/{experience.pk}/availability/"


# --- Availability ---------------------------------------------------------------------------


def test_availability_lists_slots_grouped_by_start_in_hotel_time(clock, api_client):
    experience = bookable_experience(staff_count=2, work=("09:00", "11:00"))
    first, second = experience.booking_policy.bookable_staff.order_by("pk")
    BookingFactory.create(hotel=experience.hotel, experience=experience, staff=first, start=at("2026-03-02T09:00"))
    response = api_client.get(availability_url(experience), {"from": "2026-03-02", "to": "2026-03-03"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["timezone"] == "Asia/Riyadh"
    assert body["duration_minutes"] == 60
    assert [member["id"] for member in body["staff"]] == [first.pk, second.pk]
    assert body["slots"] == [
        {"start": "2026-03-02T09:00:00+03:00", "end": "2026-03-02T10:00:00+03:00", "staff": [second.pk]},
        {"start": "2026-03-02T09:30:00+03:00", "end": "2026-03-02T10:30:00+03:00", "staff": [second.pk]},
        {"start": "2026-03-02T10:00:00+03:00", "end": "2026-03-02T11:00:00+03:00", "staff": [first.pk, second.pk]},
    ]
    assert response["Cache-Control"] == "no-store"
    only_first = api_client.get(
        availability_url(experience), {"from": "2026-03-02", "to": "2026-03-03", "staff": first.pk}
    ).json()
    assert [slot["staff"] for slot in only_first["slots"]] == [[first.pk]]


def test_availability_handles_dst_in_hotel_zone(api_client):
    hotel = HotelFactory.create(timezone="America/New_York")
    experience = bookable_experience(hotel=hotel, work=("09:00", "10:00"), min_notice_minutes=0)
    with freeze_time("2026-03-01T00:00:00Z"):
        body = api_client.get(
            availability_url(experience), {"from": "2026-03-07T00:00:00-05:00", "to": "2026-03-10"}
        ).json()
    assert [slot["start"] for slot in body["slots"]] == [
        "2026-03-07T09:00:00-05:00",
        "2026-03-08T09:00:00-04:00",
        "2026-03-09T09:00:00-04:00",
    ]


def test_time_off_hides_slots(clock, api_client):
    experience = bookable_experience(work=("09:00", "12:00"))
    member = experience.booking_policy.bookable_staff.get()
    StaffTimeOffFactory.create(membership=member, start=at("2026-03-02T00:00"), end=at("2026-03-02T11:00"))
    body = api_client.get(availability_url(experience), {"from": "2026-03-02", "to": "2026-03-03"}).json()
    assert [slot["start"] for slot in body["slots"]] == ["2026-03-02T11:00:00+03:00"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-03-05", "to": "2026-03-04"}, "to"),
        ({"from": "2026-03-01", "to": "2026-05-01"}, "to"),
        ({"from": "tomorrow"}, "from"),
        ({"staff": "x"}, "staff"),
    ],
)
def test_availability_bad_query_is_400(clock, api_client, query, field):
    experience = bookable_experience()
    response = api_client.get(availability_url(experience), query)
    assert response.status_code == 400
    assert field in response.json()


def test_availability_of_inactive_or_unknown_experience_is_404(clock, api_client):
    experience = bookable_experience()
    experience.is_active = False
    experience.save()
    assert api_client.get(availability_url(experience)).status_code == 404
    url = f"/api/v1/public/hotels/{experience.hotel.slug}/experiences/999999/availability/"
    assert api_client.get(url).status_code == 404
    other = HotelFactory.create()
    assert (
        api_client.get(f"/api/v1/public/hotels/{other.slug}/experiences/{experience.pk}/availability/").status_code
        == 404
    )


# --- Booking as a customer ------------------------------------------------------------------


def test_guest_books_a_free_experience_and_sees_it(clock):
    experience = bookable_experience()
    guest = verified_guest()
    client = browser_client(guest)
    response = client.post(
        "/api/v1/bookings/", {"experience": experience.pk, "start": "2026-03-02T09:00:00+03:00"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["payment"] is None
    booking = body["booking"]
    assert booking["status"] == "confirmed"
    assert booking["start"] == "2026-03-02T09:00:00+03:00"
    assert booking["price"] == {"amount_minor": 0, "currency": "SAR"}
    assert client.get(f"/api/v1/bookings/{booking['id']}/").json()["id"] == booking["id"]
    assert [item["id"] for item in client.get("/api/v1/bookings/").json()["results"]] == [booking["id"]]


def test_priced_booking_returns_payment_instructions(clock):
    experience = bookable_experience(price_minor=25000)
    client = browser_client(verified_guest())
    response = client.post(
        "/api/v1/bookings/", {"experience": experience.pk, "start": "2026-03-02T06:00:00Z"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["booking"]["status"] == "pending_payment"
    assert body["booking"]["hold_expires_at"] == "2026-03-02T08:15:00+03:00"
    assert body["payment"]["amount"] == 25000
    assert body["payment"]["currency"] == "SAR"


def test_taken_slot_is_409_with_next_slots(clock):
    experience = bookable_experience()
    payload = {"experience": experience.pk, "start": "2026-03-02T09:00:00+03:00"}
    assert browser_client(verified_guest()).post("/api/v1/bookings/", payload, format="json").status_code == 201
    response = browser_client(verified_guest()).post("/api/v1/bookings/", payload, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "slot_taken"
    assert body["detail"]
    assert body["next_slots"][0]["start"] == "2026-03-02T10:00:00+03:00"
    assert Booking.objects.count() == 1


def test_booking_needs_a_verified_phone_and_a_sign_in(clock):
    experience = bookable_experience()
    payload = {"experience": experience.pk, "start": "2026-03-02T09:00:00+03:00"}
    response = browser_client(GuestFactory.create(phone_verified_at=None)).post(
        "/api/v1/bookings/", payload, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "phone_not_verified"
    assert browser_client().post("/api/v1/bookings/", payload, format="json").status_code == 401
    assert Booking.objects.count() == 0


def test_bad_booking_input_is_400(clock):
    experience = bookable_experience()
    client = browser_client(verified_guest())
    for payload in (
        {"experience": experience.pk, "start": "soon"},
        {"experience": 0, "start": "2026-03-02T09:00:00+03:00"},
        {"experience": 999999, "start": "2026-03-02T09:00:00+03:00"},
        {"start": "2026-03-02T09:00:00+03:00"},
    ):
        response = client.post("/api/v1/bookings/", payload, format="json")
        assert response.status_code == 400, (payload, response.content)


def test_quote_and_cancel(clock):
    experience = bookable_experience(price_minor=0)
    guest = verified_guest()
    client = browser_client(guest)
    booking_id = client.post(
        "/api/v1/bookings/", {"experience": experience.pk, "start": "2026-03-03T09:00:00+03:00"}, format="json"
    ).json()["booking"]["id"]
    quote = client.get(f"/api/v1/bookings/{booking_id}/cancellation-quote/").json()
    assert quote == {
        "cancellable": True,
        "reason_code": "nothing_paid",
        "paid": {"amount_minor": 0, "currency": "SAR"},
        "refund": {"amount_minor": 0, "currency": "SAR"},
        "fee": {"amount_minor": 0, "currency": "SAR"},
        "free_until": "2026-03-02T09:00:00+03:00",
    }
    response = client.post(f"/api/v1/bookings/{booking_id}/cancel/", {"reason": "Sorry"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["booking"]["status"] == "cancelled"
    assert response.json()["booking"]["cancellation_reason"] == "Sorry"
    after = client.get(f"/api/v1/bookings/{booking_id}/cancellation-quote/").json()
    assert after["cancellable"] is False


def test_quote_of_a_paid_booking_shows_the_late_fee(clock):
    experience = bookable_experience(price_minor=20000, free_cancellation_hours=48, late_cancellation_fee_percent=30)
    booking = BookingFactory.create(
        hotel=experience.hotel,
        experience=experience,
        staff=experience.booking_policy.bookable_staff.get(),
        start=at("2026-03-03T10:00"),
    )
    quote = browser_client(booking.customer).get(f"/api/v1/bookings/{booking.pk}/cancellation-quote/").json()
    assert quote["reason_code"] == "late_cancellation"
    assert quote["refund"]["amount_minor"] == 14000
    assert quote["fee"]["amount_minor"] == 6000


def test_guest_cancel_after_start_is_409(clock):
    booking = BookingFactory.create(start=at("2026-03-02T07:00"))
    response = browser_client(booking.customer).post(f"/api/v1/bookings/{booking.pk}/cancel/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "booking_started"


# --- Staff side -----------------------------------------------------------------------------


def test_calendar_staff_see_own_and_admins_all(clock):
    experience = bookable_experience(staff_count=2)
    first, second = experience.booking_policy.bookable_staff.order_by("pk")
    mine = BookingFactory.create(
        hotel=experience.hotel, experience=experience, staff=first, start=at("2026-03-03T09:00")
    )
    theirs = BookingFactory.create(
        hotel=experience.hotel, experience=experience, staff=second, start=at("2026-03-03T09:00")
    )
    BookingFactory.create(hotel=experience.hotel, experience=experience, staff=first, start=at("2026-03-20T09:00"))
    url = f"/api/v1/hotels/{experience.hotel.slug}/bookings/"
    query = {"from": "2026-03-03", "to": "2026-03-04"}
    own = browser_client(first.user).get(url, query).json()["results"]
    assert [item["id"] for item in own] == [mine.pk]
    assert own[0]["customer"]["phone"] == mine.customer.phone_number
    admin = MembershipFactory.create(hotel=experience.hotel, role=Role.ADMIN)
    everything = browser_client(admin.user).get(url, query).json()["results"]
    assert {item["id"] for item in everything} == {mine.pk, theirs.pk}
    only_second = browser_client(admin.user).get(url, {**query, "staff": str(second.pk)}).json()["results"]
    assert [item["id"] for item in only_second] == [theirs.pk]
    cancelled = browser_client(admin.user).get(url, {**query, "status": "cancelled"}).json()["results"]
    assert cancelled == []


def test_staff_transitions(clock):
    booking = BookingFactory.create(start=at("2026-03-02T09:00"))
    client = browser_client(booking.staff.user)
    url = f"/api/v1/hotels/{booking.hotel.slug}/bookings/{booking.pk}/transition/"
    early = client.post(url, {"action": "complete"}, format="json")
    assert early.status_code == 409
    assert early.json()["code"] == "not_started"
    clock.tick(timedelta(hours=2))
    client = browser_client(booking.staff.user)  # a fresh sign-in: access tokens are short-lived
    done = client.post(url, {"action": "complete"}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "completed"
    illegal = client.post(url, {"action": "cancel"}, format="json")
    assert illegal.status_code == 409
    assert illegal.json()["code"] == "illegal_transition"
    assert illegal.json()["allowed_actions"] == []
    assert client.post(url, {"action": "bogus"}, format="json").status_code == 400


def test_staff_cancel_refunds_in_full_via_api(clock):
    booking = BookingFactory.create(start=at("2026-03-02T10:00"))
    admin = MembershipFactory.create(hotel=booking.hotel, role=Role.ADMIN)
    url = f"/api/v1/hotels/{booking.hotel.slug}/bookings/{booking.pk}/transition/"
    response = browser_client(admin.user).post(url, {"action": "cancel", "reason": "Closed"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["cancelled_by_staff"] is True
    assert body["refund"] == {"amount_minor": booking.price_minor, "currency": "SAR"}
    assert body["fee"] == {"amount_minor": 0, "currency": "SAR"}


def test_schedule_put_and_get(clock):
    hotel = HotelFactory.create()
    admin = MembershipFactory.create(hotel=hotel, role=Role.ADMIN)
    member = MembershipFactory.create(hotel=hotel, role=Role.STAFF)
    url = f"/api/v1/hotels/{hotel.slug}/staff/{member.pk}/schedule/"
    body = {
        "work": [{"weekday": 0, "start": "09:00", "end": "17:00"}, {"weekday": 4, "start": "22:00", "end": "02:00"}],
        "breaks": [{"weekday": 0, "start": "12:00", "end": "13:00"}],
    }
    response = browser_client(admin.user).put(url, body, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "member": member.pk,
        "timezone": "Asia/Riyadh",
        "work": [
            {"weekday": 0, "start": "09:00:00", "end": "17:00:00"},
            {"weekday": 4, "start": "22:00:00", "end": "02:00:00"},
        ],
        "breaks": [{"weekday": 0, "start": "12:00:00", "end": "13:00:00"}],
    }
    assert browser_client(member.user).get(url).json() == response.json()
    assert StaffScheduleInterval.objects.filter(membership=member).count() == 3
    assert AuditEvent.objects.filter(action="staff.schedule_set").count() == 1
    overlapping = {
        "work": [{"weekday": 0, "start": "09:00", "end": "17:00"}, {"weekday": 0, "start": "16:00", "end": "18:00"}]
    }
    bad = browser_client(admin.user).put(url, overlapping, format="json")
    assert bad.status_code == 400
    assert "work" in bad.json()
    assert StaffScheduleInterval.objects.filter(membership=member).count() == 3


def test_time_off_crud(clock):
    hotel = HotelFactory.create()
    admin = MembershipFactory.create(hotel=hotel, role=Role.ADMIN)
    member = MembershipFactory.create(hotel=hotel, role=Role.STAFF)
    url = f"/api/v1/hotels/{hotel.slug}/staff/{member.pk}/time-off/"
    client = browser_client(admin.user)
    created = client.post(url, {"start": "2026-03-05T00:00", "end": "2026-03-06", "reason": "Leave"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["start"] == "2026-03-05T00:00:00+03:00"
    assert created.json()["end"] == "2026-03-06T00:00:00+03:00"
    listed = browser_client(member.user).get(url).json()["results"]
    assert [item["id"] for item in listed] == [created.json()["id"]]
    backwards = client.post(url, {"start": "2026-03-06", "end": "2026-03-05"}, format="json")
    assert backwards.status_code == 400
    delete_url = f"{url}{created.json()['id']}/"
    assert browser_client(member.user).delete(delete_url).status_code == 403
    assert client.delete(delete_url).status_code == 204
    assert not StaffTimeOff.objects.exists()
    assert client.delete(delete_url).status_code == 404


def test_booking_policy_put_and_get(clock):
    experience = bookable_experience()
    hotel = experience.hotel
    admin = MembershipFactory.create(hotel=hotel, role=Role.ADMIN)
    member = MembershipFactory.create(hotel=hotel, role=Role.STAFF)
    url = f"/api/v1/hotels/{hotel.slug}/experiences/{experience.pk}/booking-policy/"
    body = {
        "bookable_staff": [member.pk],
        "buffer_before_minutes": 5,
        "buffer_after_minutes": 10,
        "min_notice_minutes": 120,
        "max_advance_days": 30,
        "slot_step_minutes": 15,
        "free_cancellation_hours": 12,
        "late_cancellation_fee_percent": 40,
        "no_show_fee_percent": 80,
    }
    response = browser_client(admin.user).put(url, body, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"experience": experience.pk, "configured": True, **body}
    assert browser_client(member.user).get(url).json() == response.json()
    foreign = MembershipFactory.create(role=Role.STAFF)
    bad = browser_client(admin.user).put(url, {**body, "bookable_staff": [foreign.pk]}, format="json")
    assert bad.status_code == 400
    assert "bookable_staff" in bad.json()
    too_much = browser_client(admin.user).put(url, {**body, "no_show_fee_percent": 101}, format="json")
    assert too_much.status_code == 400


def test_schedule_drives_availability(clock, api_client):
    experience = bookable_experience(work=("09:00", "10:00"))
    member = experience.booking_policy.bookable_staff.get()
    StaffScheduleInterval.objects.filter(membership=member).delete()
    StaffScheduleInterval.objects.create(membership=member, weekday=0, start=time(14), end=time(15))
    body = api_client.get(availability_url(experience), {"from": "2026-03-02", "to": "2026-03-03"}).json()
    assert [slot["start"] for slot in body["slots"]] == ["2026-03-02T14:00:00+03:00"]
