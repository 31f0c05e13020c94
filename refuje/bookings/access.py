"""Fetch bookings, schedules and time off for an actor: the same 404 for "missing", "another
hotel's", "another staff member's" (for members below ADMIN) and "another customer's"."""

from __future__ import annotations

from refuje.accounts.models import User
from refuje.common.errors import NotFound
from refuje.experiences.access import as_id
from refuje.hotels.access import access_membership
from refuje.hotels.models import HotelMembership, Role

from .models import Booking, StaffTimeOff
from .selectors import bookings_visible_to


def access_staff_booking(
    actor: User, hotel_slug: str, booking_id: object, *, minimum: str = Role.STAFF
) -> tuple[HotelMembership, Booking]:
    membership = access_membership(actor, hotel_slug, minimum=minimum)
    found = (
        bookings_visible_to(membership)
        .select_related("hotel", "experience", "staff__user", "customer")
        .filter(pk=as_id(booking_id))
        .first()
    )
    if found is None:
        raise NotFound()
    return membership, found


def access_customer_booking(actor: User, booking_id: object) -> Booking:
    if not actor.is_authenticated or not actor.is_active:
        raise NotFound()
    found = (
        Booking.objects.select_related("hotel", "experience", "staff__user")
        .filter(customer=actor, pk=as_id(booking_id))
        .first()
    )
    if found is None:
        raise NotFound()
    return found


def access_schedule_member(
    actor: User, hotel_slug: str, member_id: object, *, write: bool
) -> tuple[HotelMembership, HotelMembership]:
    """The member whose schedule is read or changed. ADMIN and above: any member of the hotel
    (changing needs ADMIN); a STAFF member may read their own only; others get the one 404."""
    membership = access_membership(actor, hotel_slug, minimum=Role.ADMIN if write else Role.STAFF)
    member = (
        HotelMembership.objects.select_related("user", "hotel")
        .filter(hotel_id=membership.hotel_id, pk=as_id(member_id))
        .first()
    )
    if member is None:
        raise NotFound()
    if not membership.has_role(Role.ADMIN) and member.pk != membership.pk:
        raise NotFound()
    return membership, member


def access_time_off(actor: User, hotel_slug: str, member_id: object, time_off_id: object) -> StaffTimeOff:
    _membership, member = access_schedule_member(actor, hotel_slug, member_id, write=True)
    found = StaffTimeOff.objects.filter(membership=member, pk=as_id(time_off_id)).select_related("membership").first()
    if found is None:
        raise NotFound()
    return found
