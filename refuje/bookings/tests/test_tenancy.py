"""Tenant matrix over every bookings endpoint: other hotels, other staff members and other guests get
the one 404; roles too low get 403; nothing changes on a refusal."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from refuje.bookings.models import Booking, ExperienceBookingPolicy, StaffScheduleInterval, StaffTimeOff
from refuje.common.testing.booking_factories import BookingFactory, StaffTimeOffFactory, bookable_experience
from refuje.common.testing.tenancy import (
    ANONYMOUS,
    GUEST,
    OTHER_GUEST,
    Endpoint,
    TenantWorld,
    everyone,
    hotel_scoped,
    matrix_cases,
)
from refuje.hotels.models import Role
from refuje.payments.models import Payment

BOOKINGS = (Booking, ExperienceBookingPolicy, StaffScheduleInterval, StaffTimeOff, Payment)
A = "/api/v1/hotels/{w.a.slug}"
B = "/api/v1/hotels/{w.b.slug}"
RIYADH = ZoneInfo("Asia/Riyadh")


def objects(world: TenantWorld) -> None:
    """Bookings tomorrow (hotel time, well past the minimum notice) at 10:00 for A's STAFF member
    (the guest's) and A's ADMIN (the other guest's), one in B, and time off in ten days."""
    a, b = world.a, world.b
    tomorrow = timezone.now().astimezone(RIYADH).date() + timedelta(days=1)

    def local(day_offset: int, hour: int) -> datetime:
        return datetime.combine(tomorrow + timedelta(days=day_offset), time(hour), tzinfo=RIYADH)

    world.guest.phone_verified_at = timezone.now()
    world.guest.save(update_fields=["phone_verified_at"])
    a_experience = bookable_experience(hotel=a.hotel, staff=[a.staff])
    b_experience = bookable_experience(hotel=b.hotel, staff=[b.staff])
    world.extra.update(
        a_experience=a_experience,
        b_experience=b_experience,
        a_booking=BookingFactory.create(
            hotel=a.hotel, experience=a_experience, staff=a.staff, customer=world.guest, start=local(0, 10)
        ),
        a_admin_booking=BookingFactory.create(
            hotel=a.hotel, experience=a_experience, staff=a.admin, customer=world.other_guest, start=local(0, 10)
        ),
        b_booking=BookingFactory.create(hotel=b.hotel, experience=b_experience, staff=b.staff, start=local(0, 10)),
        a_time_off=StaffTimeOffFactory.create(membership=a.staff, start=local(10, 0)),
        b_time_off=StaffTimeOffFactory.create(membership=b.staff, start=local(10, 0)),
        new_start=local(0, 12).isoformat(),
        calendar=f"from={tomorrow.isoformat()}&to={(tomorrow + timedelta(days=2)).isoformat()}",
    )


def calendar_is_scoped(tenant: str):
    """STAFF see the bookings they deliver; ADMIN and above (and the operator) the hotel's all."""

    def verify(world: TenantWorld, persona: str, response) -> None:
        seen = {item["id"] for item in response.json()["results"]}
        extra = world.extra
        everything = {extra["a_booking"].pk, extra["a_admin_booking"].pk} if tenant == "a" else {extra["b_booking"].pk}
        expected = {"a_staff": {extra["a_booking"].pk}, "b_staff": {extra["b_booking"].pk}}.get(persona, everything)
        assert seen == expected, (persona, seen)

    return verify


def own_bookings(world: TenantWorld, persona: str, response) -> None:
    seen = {item["id"] for item in response.json()["results"]}
    expected = {
        GUEST: {world.extra["a_booking"].pk},
        OTHER_GUEST: {world.extra["a_admin_booking"].pk},
    }.get(persona, set())
    assert seen == expected, (persona, seen)


SCHEDULE = {"work": [{"weekday": 0, "start": "10:00", "end": "18:00"}], "breaks": []}
POLICY = {
    "bookable_staff": ["{w.a.staff.pk}"],
    "buffer_before_minutes": 0,
    "buffer_after_minutes": 10,
    "min_notice_minutes": 30,
    "max_advance_days": 30,
    "slot_step_minutes": 30,
    "free_cancellation_hours": 24,
    "late_cancellation_fee_percent": 50,
    "no_show_fee_percent": 100,
}
TIME_OFF = {"start": "2030-04-01T00:00:00+03:00", "end": "2030-04-02T00:00:00+03:00", "reason": "Leave"}
PHONE = {401: "not_authenticated", 403: "phone_not_verified", 404: "not_found"}
# Staff read their own schedule and time off (`a_staff=404` on someone else's); ADMIN and above
# anyone's in their hotel.

ENDPOINTS = [
    # --- Public availability
    Endpoint(
        "availability",
        "GET",
        "/api/v1/public/hotels/{w.a.slug}/experiences/{w.extra[a_experience].pk}/availability/",
        setup=objects,
        expect={**everyone(200), ANONYMOUS: 200},
    ),
    Endpoint(
        "availability-b-experience-through-a",
        "GET",
        "/api/v1/public/hotels/{w.a.slug}/experiences/{w.extra[b_experience].pk}/availability/",
        setup=objects,
        expect={**everyone(404), ANONYMOUS: 404},
    ),
    # --- Booking policy
    Endpoint(
        "policy-get",
        "GET",
        A + "/experiences/{w.extra[a_experience].pk}/booking-policy/",
        setup=objects,
        expect=hotel_scoped(minimum=Role.VIEWER, ok=200),
    ),
    Endpoint(
        "policy-get-b-experience",
        "GET",
        A + "/experiences/{w.extra[b_experience].pk}/booking-policy/",
        setup=objects,
        expect=hotel_scoped(minimum=Role.VIEWER, ok=404),
    ),
    Endpoint(
        "policy-put",
        "PUT",
        A + "/experiences/{w.extra[a_experience].pk}/booking-policy/",
        body=POLICY,
        setup=objects,
        watch=BOOKINGS,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=200),
    ),
    Endpoint(
        "policy-put-b-experience",
        "PUT",
        A + "/experiences/{w.extra[b_experience].pk}/booking-policy/",
        body=POLICY,
        setup=objects,
        watch=BOOKINGS,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=404),
    ),
    Endpoint(
        "policy-put-b-staff",
        "PUT",
        A + "/experiences/{w.extra[a_experience].pk}/booking-policy/",
        body={**POLICY, "bookable_staff": ["{w.b.staff.pk}"]},
        setup=objects,
        watch=BOOKINGS,
        codes={400: "invalid", 401: "not_authenticated", 403: "role_too_low", 404: "not_found"},
        expect=hotel_scoped(minimum=Role.ADMIN, ok=400),
    ),
    # --- Schedules
    Endpoint(
        "schedule-get-own",
        "GET",
        A + "/staff/{w.a.staff.pk}/schedule/",
        setup=objects,
        expect=hotel_scoped(minimum=Role.STAFF, ok=200),
    ),
    Endpoint(
        "schedule-get-someone-else",
        "GET",
        A + "/staff/{w.a.admin.pk}/schedule/",
        setup=objects,
        expect=hotel_scoped(minimum=Role.STAFF, ok=200, a_staff=404),
    ),
    Endpoint(
        "schedule-get-b-member",
        "GET",
        A + "/staff/{w.b.staff.pk}/schedule/",
        setup=objects,
        expect=hotel_scoped(minimum=Role.STAFF, ok=404),
    ),
    Endpoint(
        "schedule-put",
        "PUT",
        A + "/staff/{w.a.staff.pk}/schedule/",
        body=SCHEDULE,
        setup=objects,
        watch=BOOKINGS,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=200),
    ),
    Endpoint(
        "schedule-put-b-member",
        "PUT",
        A + "/staff/{w.b.staff.pk}/schedule/",
        body=SCHEDULE,
        setup=objects,
        watch=BOOKINGS,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=404),
    ),
    # --- Time off
    Endpoint(
        "time-off-list-own",
        "GET",
        A + "/staff/{w.a.staff.pk}/time-off/",
        setup=objects,
        expect=hotel_scoped(minimum=Role.STAFF, ok=200),
    ),
    Endpoint(
        "time-off-create",
        "POST",
        A + "/staff/{w.a.staff.pk}/time-off/",
        body=TIME_OFF,
        setup=objects,
        watch=BOOKINGS,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=201),
    ),
    Endpoint(
        "time-off-create-b-member",
        "POST",
        A + "/staff/{w.b.staff.pk}/time-off/",
        body=TIME_OFF,
        setup=objects,
        watch=BOOKINGS,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=404),
    ),
    Endpoint(
        "time-off-delete",
        "DELETE",
        A + "/staff/{w.a.staff.pk}/time-off/{w.extra[a_time_off].pk}/",
        setup=objects,
        watch=BOOKINGS,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=204),
    ),
    Endpoint(
        "time-off-delete-b-id",
        "DELETE",
        A + "/staff/{w.a.staff.pk}/time-off/{w.extra[b_time_off].pk}/",
        setup=objects,
        watch=BOOKINGS,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=404),
    ),
    # --- Staff calendar and transitions
    Endpoint(
        "calendar",
        "GET",
        A + "/bookings/?{w.extra[calendar]}",
        setup=objects,
        verify=calendar_is_scoped("a"),
        expect=hotel_scoped(minimum=Role.STAFF, ok=200),
    ),
    Endpoint(
        "transition-own",
        "POST",
        A + "/bookings/{w.extra[a_booking].pk}/transition/",
        body={"action": "cancel", "reason": "Closed"},
        setup=objects,
        watch=BOOKINGS,
        expect=hotel_scoped(minimum=Role.STAFF, ok=200),
    ),
    Endpoint(
        "transition-someone-elses",
        "POST",
        A + "/bookings/{w.extra[a_admin_booking].pk}/transition/",
        body={"action": "cancel"},
        setup=objects,
        watch=BOOKINGS,
        expect=hotel_scoped(minimum=Role.STAFF, ok=200, a_staff=404),
    ),
    Endpoint(
        "transition-b-id",
        "POST",
        A + "/bookings/{w.extra[b_booking].pk}/transition/",
        body={"action": "cancel"},
        setup=objects,
        watch=BOOKINGS,
        expect=hotel_scoped(minimum=Role.STAFF, ok=404),
    ),
    # --- The customer's bookings
    Endpoint(
        "bookings-list",
        "GET",
        "/api/v1/bookings/",
        setup=objects,
        verify=own_bookings,
        expect=everyone(200),
    ),
    Endpoint(
        "bookings-create",
        "POST",
        "/api/v1/bookings/",
        body={"experience": "{w.extra[a_experience].pk}", "start": "{w.extra[new_start]}"},
        setup=objects,
        watch=BOOKINGS,
        codes=PHONE,
        # Only the guest proved their phone in this world.
        expect=everyone(403, guest=201),
    ),
    Endpoint(
        "booking-detail",
        "GET",
        "/api/v1/bookings/{w.extra[a_booking].pk}/",
        setup=objects,
        expect=everyone(404, guest=200),
    ),
    Endpoint(
        "booking-quote",
        "GET",
        "/api/v1/bookings/{w.extra[a_booking].pk}/cancellation-quote/",
        setup=objects,
        expect=everyone(404, guest=200),
    ),
    Endpoint(
        "booking-cancel",
        "POST",
        "/api/v1/bookings/{w.extra[a_booking].pk}/cancel/",
        body={},
        setup=objects,
        watch=BOOKINGS,
        expect=everyone(404, guest=200),
    ),
]


@pytest.mark.parametrize("case", matrix_cases(*ENDPOINTS))
def test_tenant_matrix(tenant_world, case):
    tenant_world.check(case)
