"""Fetch a hotel's stays for staff: the same 404 for "missing" and "another hotel's"."""

from __future__ import annotations

from refuje.accounts.models import User
from refuje.common.errors import NotFound
from refuje.experiences.access import as_id
from refuje.hotels.access import access_hotel
from refuje.hotels.models import Role

from .models import GuestStay


def access_stay(actor: User, hotel_slug: str, stay_id: object, *, minimum: str = Role.STAFF) -> GuestStay:
    hotel = access_hotel(actor, hotel_slug, minimum=minimum)
    stay = GuestStay.objects.select_related("hotel", "guest").filter(hotel=hotel, pk=as_id(stay_id)).first()
    if stay is None:
        raise NotFound()
    return stay
