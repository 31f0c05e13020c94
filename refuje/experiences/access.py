"""Fetch experiences and their images for an actor: the same 404 for "missing" and "another hotel's"."""

from __future__ import annotations

from refuje.accounts.models import User
from refuje.common.errors import NotFound
from refuje.hotels.access import access_hotel
from refuje.hotels.models import Role

from .models import Experience, ExperienceImage

MAX_ID = 2**63 - 1


def as_id(value: object) -> int:
    """A primary key from a URL, or -1 (matches nothing) for anything that is not one."""
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return -1
    return number if 0 < number <= MAX_ID else -1


def access_experience(actor: User, hotel_slug: str, experience_id: object, *, minimum: str = Role.VIEWER) -> Experience:
    hotel = access_hotel(actor, hotel_slug, minimum=minimum)
    experience = (
        Experience.objects.select_related("hotel", "department")
        .prefetch_related("images")
        .filter(hotel=hotel, pk=as_id(experience_id))
        .first()
    )
    if experience is None:
        raise NotFound()
    return experience


def access_experience_image(
    actor: User, hotel_slug: str, experience_id: object, image_id: object, *, minimum: str = Role.ADMIN
) -> ExperienceImage:
    hotel = access_hotel(actor, hotel_slug, minimum=minimum)
    image = (
        ExperienceImage.objects.select_related("experience", "experience__hotel")
        .filter(experience__hotel=hotel, experience_id=as_id(experience_id), pk=as_id(image_id))
        .first()
    )
    if image is None:
        raise NotFound()
    return image
