"""Fetch what a review is about, or a review itself, for an actor: the same 404 for "missing",
"another guest's" and "another hotel's"."""

from __future__ import annotations

from refuje.accounts.models import User
from refuje.bookings.models import Booking
from refuje.common.errors import NotFound
from refuje.experiences.access import as_id
from refuje.experiences.models import Experience
from refuje.hotels.access import access_hotel
from refuje.hotels.models import Role

from .models import Review


def access_customer_booking(actor: User, booking_id: object) -> Booking:
    """One of the actor's own bookings (as its customer)."""
    if not actor.is_authenticated or not actor.is_active:
        raise NotFound()
    found = Booking.objects.select_related("hotel").filter(customer=actor, pk=as_id(booking_id)).first()
    if found is None:
        raise NotFound()
    return found


def access_review(actor: User, hotel_slug: str, review_id: object, *, minimum: str = Role.VIEWER) -> Review:
    hotel = access_hotel(actor, hotel_slug, minimum=minimum)
    found = Review.objects.select_related("hotel").filter(hotel=hotel, pk=as_id(review_id)).first()
    if found is None:
        raise NotFound()
    return found


def public_experience(hotel_slug: str, experience_id: object) -> Experience:
    """An experience guests may see: active, in an active department of an active hotel."""
    found = (
        Experience.objects.select_related("hotel")
        .filter(
            hotel__slug=hotel_slug,
            hotel__is_active=True,
            is_active=True,
            department__is_active=True,
            pk=as_id(experience_id),
        )
        .first()
    )
    if found is None:
        raise NotFound()
    return found
