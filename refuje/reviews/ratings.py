"""Ratings kept on experiences and staff memberships, always recomputed from the published reviews.

A recompute locks the rated row first and only then aggregates, inside the transaction that changed
the reviews. Every writer changes its review before it takes the lock, so under READ COMMITTED the
last writer through the lock aggregates every committed change plus its own: two reviews written at
once can never leave a count of one (an increment, or an aggregate without the lock, could).

Locks are always taken in the same order (experience, then staff membership) so that writers touching
both never deadlock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum

from refuje.experiences.models import Experience
from refuje.hotels.models import HotelMembership

from .models import Review

logger = logging.getLogger(__name__)

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def rating_average(total: int, count: int) -> Decimal:
    """The mean rating to two decimals (half up), 0.00 without ratings."""
    if not count:
        return ZERO
    return (Decimal(total) / Decimal(count)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Rating:
    average: Decimal
    count: int


def published_rating(reviews: QuerySet[Review]) -> Rating:
    row = reviews.filter(is_hidden=False).order_by().aggregate(total=Sum("rating"), count=Count("pk"))
    return Rating(average=rating_average(row["total"] or 0, row["count"]), count=row["count"])


def _recompute(
    model: type[Experience] | type[HotelMembership], pk: int, **reviews: int
) -> tuple[Rating, Rating] | None:
    """Lock the row, aggregate its published reviews, store the result: (before, after)."""
    with transaction.atomic():
        locked = model.objects.select_for_update(no_key=True).filter(pk=pk).first()
        if locked is None:
            return None
        before = Rating(average=locked.rating_average, count=locked.rating_count)
        after = published_rating(Review.objects.filter(**reviews))
        if after != before:
            locked.rating_average = after.average
            locked.rating_count = after.count
            locked.save(update_fields=["rating_average", "rating_count"])
        return before, after


def experience_rating_recompute(*, experience_id: int) -> tuple[Rating, Rating] | None:
    """Lock the experience and set its rating from its published reviews, inside the caller's
    transaction (the one that changed the reviews). (before, after), or None if it is gone."""
    return _recompute(Experience, experience_id, experience_id=experience_id)


def staff_rating_recompute(*, membership_id: int) -> tuple[Rating, Rating] | None:
    """Lock the membership and set its rating from the published reviews of its bookings."""
    return _recompute(HotelMembership, membership_id, staff_id=membership_id)


def ratings_recompute_for(review: Review) -> None:
    """Recompute everything `review` counts for, experience first (the one lock order)."""
    if review.experience_id is not None:
        experience_rating_recompute(experience_id=review.experience_id)
    if review.staff_id is not None:
        staff_rating_recompute(membership_id=review.staff_id)


# --- Reconcile ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drift:
    kind: str  # "experience" | "staff"
    id: int
    stored: Rating
    actual: Rating


@dataclass
class ReconcileReport:
    checked_experiences: int = 0
    checked_staff: int = 0
    drift: list[Drift] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "checked_experiences": self.checked_experiences,
            "checked_staff": self.checked_staff,
            "fixed": len(self.drift),
        }


def _with_published(queryset: QuerySet[Any]) -> QuerySet[Any]:
    published = Q(reviews__is_hidden=False)
    return queryset.annotate(
        published_total=Sum("reviews__rating", filter=published), published_count=Count("reviews", filter=published)
    ).order_by("pk")


def _reconcile(
    kind: str,
    queryset: QuerySet[Any],
    recompute: Callable[[int], tuple[Rating, Rating] | None],
    report: ReconcileReport,
) -> int:
    checked = 0
    rows = _with_published(queryset).values_list(
        "pk", "rating_average", "rating_count", "published_total", "published_count"
    )
    for pk, stored_average, stored_count, total, count in rows.iterator(chunk_size=500):
        checked += 1
        if stored_average == rating_average(total or 0, count) and stored_count == count:
            continue
        # Decided again under the row lock: a review written since the scan is not drift.
        result = recompute(pk)
        if result is None or result[0] == result[1]:
            continue
        before, after = result
        report.drift.append(Drift(kind=kind, id=pk, stored=before, actual=after))
        logger.warning(
            "Rating drift fixed on %s %s: stored %s over %s, actual %s over %s",
            kind,
            pk,
            before.average,
            before.count,
            after.average,
            after.count,
        )
    return checked


def ratings_reconcile() -> ReconcileReport:
    """Compare every stored rating with its published reviews and fix (and report) any drift."""
    report = ReconcileReport()
    report.checked_experiences = _reconcile(
        "experience",
        Experience.objects.all(),
        lambda pk: experience_rating_recompute(experience_id=pk),
        report,
    )
    report.checked_staff = _reconcile(
        "staff",
        HotelMembership.objects.all(),
        lambda pk: staff_rating_recompute(membership_id=pk),
        report,
    )
    return report
