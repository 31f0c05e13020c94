"""Reads of reviews: the staff moderation list, an experience's public reviews and its summary."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from refuje.experiences.models import Experience
from refuje.hotels.models import Hotel

from .models import RATINGS, Review
from .ratings import rating_average


def review_list_for_staff(
    *,
    hotel: Hotel,
    hidden: bool | None = None,
    rating: int | None = None,
    experience_id: int | None = None,
    staff_id: int | None = None,
) -> QuerySet[Review]:
    reviews = Review.objects.filter(hotel=hotel).select_related("author", "experience", "staff__user", "moderated_by")
    if hidden is not None:
        reviews = reviews.filter(is_hidden=hidden)
    if rating is not None:
        reviews = reviews.filter(rating=rating)
    if experience_id is not None:
        reviews = reviews.filter(experience_id=experience_id)
    if staff_id is not None:
        reviews = reviews.filter(staff_id=staff_id)
    return reviews.order_by("-created_at", "-id")


def review_public_list(*, experience: Experience) -> QuerySet[Review]:
    """The experience's published reviews, newest first."""
    return (
        Review.objects.filter(experience=experience, is_hidden=False)
        .select_related("author")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class RatingSummary:
    average: Decimal | None
    count: int
    distribution: dict[str, int]


def rating_summary(reviews: QuerySet[Review]) -> RatingSummary:
    """Average, count and how many of each star, of the published `reviews`, in one query."""
    row = (
        reviews.filter(is_hidden=False)
        .order_by()
        .aggregate(
            total=Sum("rating"),
            count=Count("pk"),
            **{f"stars_{stars}": Count("pk", filter=Q(rating=stars)) for stars in RATINGS},
        )
    )
    count = row["count"]
    return RatingSummary(
        average=rating_average(row["total"] or 0, count) if count else None,
        count=count,
        distribution={str(stars): row[f"stars_{stars}"] for stars in RATINGS},
    )


def experience_rating_summary(*, experience: Experience) -> RatingSummary:
    return rating_summary(Review.objects.filter(experience=experience))


def public_author_name(full_name: str) -> str:
    """What the public sees of a reviewer: the first name and the initial of the last, or "Guest"."""
    parts = full_name.split()
    if not parts:
        return _("Guest")
    if len(parts) == 1:
        return parts[0]
    return f"{parts[0]} {parts[-1][0]}."
