"""Reads of the catalogue: a fixed number of queries whatever the number of experiences."""

from __future__ import annotations

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from refuje.hotels.models import Hotel

from .models import Experience, ExperienceImage


def experience_list(
    *, hotel: Hotel, is_active: bool | None = None, department_id: int | None = None
) -> QuerySet[Experience]:
    experiences = (
        Experience.objects.filter(hotel=hotel)
        .select_related("hotel", "department")
        .prefetch_related(Prefetch("images", queryset=ExperienceImage.objects.order_by("position", "id")))
    )
    if is_active is not None:
        experiences = experiences.filter(is_active=is_active)
    if department_id is not None:
        experiences = experiences.filter(department_id=department_id)
    return experiences.order_by("display_order", "id")


def experience_public_list(*, hotel: Hotel) -> QuerySet[Experience]:
    """What guests may see: active experiences of active departments, each with its cover thumbnail
    (`cover_thumbnail`, a storage name or None) computed in the same query."""
    cover = ExperienceImage.objects.filter(experience=OuterRef("pk")).order_by("position", "id")
    return (
        Experience.objects.filter(hotel=hotel, is_active=True, department__is_active=True)
        .annotate(cover_thumbnail=Subquery(cover.values("thumbnail")[:1]))
        .order_by("display_order", "id")
    )


def experience_image_count(*, experience: Experience) -> int:
    return ExperienceImage.objects.filter(experience=experience).count()
