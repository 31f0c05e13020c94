"""Fetch service requests for an actor: the same 404 for "missing", "another hotel's", "another
department's" (for department-scoped staff) and "another guest's"."""

from __future__ import annotations

from refuje.accounts.models import User
from refuje.common.errors import NotFound
from refuje.experiences.access import as_id
from refuje.hotels.access import access_membership
from refuje.hotels.models import HotelMembership, Role

from .models import ServiceRequest
from .selectors import requests_visible_to


def access_staff_request(
    actor: User, hotel_slug: str, request_id: object, *, minimum: str = Role.VIEWER
) -> tuple[HotelMembership, ServiceRequest]:
    membership = access_membership(actor, hotel_slug, minimum=minimum)
    found = requests_visible_to(membership).select_related("hotel", "department").filter(pk=as_id(request_id)).first()
    if found is None:
        raise NotFound()
    return membership, found


def access_guest_request(actor: User, request_id: object) -> ServiceRequest:
    if not actor.is_authenticated or not actor.is_active:
        raise NotFound()
    found = (
        ServiceRequest.objects.select_related("hotel", "stay").filter(stay__guest=actor, pk=as_id(request_id)).first()
    )
    if found is None:
        raise NotFound()
    return found
