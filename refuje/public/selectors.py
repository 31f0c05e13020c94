"""What anyone may read about a hotel without signing in."""

from __future__ import annotations

from django.db.models import QuerySet

from refuje.hotels.models import Department, Hotel


def public_hotel(*, slug: str) -> Hotel | None:
    return Hotel.objects.filter(slug=slug, is_active=True).first()


def public_department_list(*, hotel: Hotel) -> QuerySet[Department]:
    return Department.objects.filter(hotel=hotel, is_active=True).order_by("display_order", "id")
