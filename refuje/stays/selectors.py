"""Reads of stays: front-desk lists, a guest's current stay, and the hotel's concierge settings."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from refuje.accounts.models import User
from refuje.hotels.models import Hotel

from .models import GuestStay, HotelConciergeSettings, StayStatus


def hotel_concierge_settings(*, hotel: Hotel) -> HotelConciergeSettings:
    """The hotel's settings row, or an unsaved one holding the defaults (reading never writes)."""
    found = HotelConciergeSettings.objects.filter(hotel=hotel).first()
    return found if found is not None else HotelConciergeSettings(hotel=hotel)


def stay_list(*, hotel: Hotel, status: str | None = None, room: str = "", search: str = "") -> QuerySet[GuestStay]:
    stays = GuestStay.objects.filter(hotel=hotel).select_related("hotel", "guest")
    if status:
        stays = stays.filter(status=status)
    if room:
        stays = stays.filter(room__iexact=room)
    if search:
        stays = stays.filter(
            Q(guest__phone_number__contains=search) | Q(guest__full_name__icontains=search) | Q(room__icontains=search)
        )
    return stays.order_by("-created_at", "-id")


def stay_active(*, hotel: Hotel, guest: User) -> GuestStay | None:
    return GuestStay.objects.filter(hotel=hotel, guest=guest, status=StayStatus.ACTIVE).first()


def stay_current(*, guest: User, hotel_slug: str) -> GuestStay | None:
    """The guest's own active stay at an active hotel, or None (unknown hotels read the same)."""
    return (
        GuestStay.objects.select_related("hotel")
        .filter(guest=guest, hotel__slug=hotel_slug, hotel__is_active=True, status=StayStatus.ACTIVE)
        .first()
    )
