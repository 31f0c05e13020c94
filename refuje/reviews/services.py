"""Review writes: a guest reviews their completed booking or request once; staff hide or publish.

Every write recomputes the ratings it affects (ratings.py) in its own transaction, and publishes an
event after commit. One review per author per item is decided by the database's unique indexes:
of two simultaneous submits one is stored and the other is a clean 409.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refuje.accounts.models import User
from refuje.bookings.models import Booking, BookingStatus
from refuje.common.errors import Conflict, NotFound
from refuje.compliance.services import audit_record
from refuje.concierge.models import RequestStatus, ServiceRequest

from .events import REVIEW_CREATED, REVIEW_HIDDEN, REVIEW_PUBLISHED, publish_review_event
from .models import MAX_MODERATION_REASON_LENGTH, MAX_RATING, MAX_TEXT_LENGTH, MIN_RATING, Review
from .ratings import ratings_recompute_for

HIDE = "hide"
PUBLISH = "publish"
MODERATION_ACTIONS = (HIDE, PUBLISH)


class AlreadyReviewed(Conflict):
    default_detail = _("You have already reviewed this.")
    default_code = "already_reviewed"


class NotCompleted(Conflict):
    default_detail = _("Only something that has been completed can be reviewed.")
    default_code = "not_completed"


def _field_error(field: str, message: Any, code: str, params: dict[str, Any] | None = None) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code, params=params)})


def _clean_rating(rating: int) -> int:
    if isinstance(rating, bool) or not isinstance(rating, int) or not MIN_RATING <= rating <= MAX_RATING:
        raise _field_error(
            "rating",
            _("Give a rating from %(minimum)s to %(maximum)s."),
            "invalid_rating",
            {"minimum": MIN_RATING, "maximum": MAX_RATING},
        )
    return rating


def _clean_text(value: str, *, field: str, maximum: int, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise _field_error(field, _("This field may not be blank."), "blank")
    if len(text) > maximum:
        raise _field_error(field, _("Use at most %(maximum)s characters."), "max_length", {"maximum": maximum})
    return text


def review_state(review: Review) -> dict[str, Any]:
    return {
        "rating": review.rating,
        "is_hidden": review.is_hidden,
        "moderation_reason": review.moderation_reason,
    }


# --- Create ---------------------------------------------------------------------------------


def review_create_for_request(*, author: User, request: ServiceRequest, rating: int, text: str = "") -> Review:
    """The guest who owns `request` reviews it, once it is COMPLETED; the review counts for the
    request's experience when it has one (and for the hotel's statistics either way)."""
    current = (
        ServiceRequest.objects.filter(pk=request.pk)
        .values("status", "hotel_id", "experience_id", "stay__guest_id")
        .first()
    )
    if current is None or current["stay__guest_id"] != author.pk:
        raise NotFound()
    if current["status"] != RequestStatus.COMPLETED:
        raise NotCompleted(_("Only a completed request can be reviewed."))
    return _review_create(
        author=author,
        hotel_id=current["hotel_id"],
        rating=rating,
        text=text,
        item={"request_id": request.pk},
        experience_id=current["experience_id"],
        staff_id=None,
    )


def review_create_for_booking(*, author: User, booking: Booking, rating: int, text: str = "") -> Review:
    """The booking's customer reviews it, once it is completed; the review counts for the booked
    experience and for the staff member who gave it."""
    current = (
        Booking.objects.filter(pk=booking.pk)
        .values("status", "hotel_id", "experience_id", "staff_id", "customer_id")
        .first()
    )
    if current is None or current["customer_id"] != author.pk:
        raise NotFound()
    if current["status"] != BookingStatus.COMPLETED:
        raise NotCompleted(_("Only a completed booking can be reviewed."))
    return _review_create(
        author=author,
        hotel_id=current["hotel_id"],
        rating=rating,
        text=text,
        item={"booking_id": booking.pk},
        experience_id=current["experience_id"],
        staff_id=current["staff_id"],
    )


def _review_create(
    *,
    author: User,
    hotel_id: int,
    rating: int,
    text: str,
    item: dict[str, int],
    experience_id: int | None,
    staff_id: int | None,
) -> Review:
    rating = _clean_rating(rating)
    text = _clean_text(text, field="text", maximum=MAX_TEXT_LENGTH)
    mine = Review.objects.filter(author=author, **item)
    with transaction.atomic():
        if mine.exists():
            raise AlreadyReviewed()
        review = Review(
            hotel_id=hotel_id,
            author=author,
            rating=rating,
            text=text,
            experience_id=experience_id,
            staff_id=staff_id,
            created_at=timezone.now(),
            **item,
        )
        try:
            with transaction.atomic():
                review.save(force_insert=True)
        except IntegrityError:
            # A simultaneous submit won the unique index; once it committed it is visible here.
            if mine.exists():
                raise AlreadyReviewed() from None
            raise
        ratings_recompute_for(review)
        publish_review_event(REVIEW_CREATED, review)
    return review


# --- Moderate -------------------------------------------------------------------------------


def review_moderate(*, actor: User, review: Review, action: str, reason: str = "", ip: str | None = None) -> Review:
    """Hide a review (a reason is required) or publish it again; the ratings follow in the same
    transaction and the change is audited. Repeating the current state changes nothing."""
    if action not in MODERATION_ACTIONS:
        raise _field_error("action", _("Choose hide or publish."), "invalid_choice")
    reason = _clean_text(reason, field="reason", maximum=MAX_MODERATION_REASON_LENGTH, required=action == HIDE)
    hide = action == HIDE
    with transaction.atomic():
        # Only the review row: a FOR UPDATE on the joined hotel would block every concurrent review
        # insert (its foreign-key check) while this waits for the rated rows, a deadlock.
        locked = (
            Review.objects.select_for_update(no_key=True, of=("self",))
            .select_related("hotel")
            .filter(pk=review.pk)
            .first()
        )
        if locked is None:
            raise NotFound()
        if locked.is_hidden == hide:
            return locked
        before = review_state(locked)
        locked.is_hidden = hide
        locked.moderated_by = actor if actor.pk else None
        locked.moderated_at = timezone.now()
        locked.moderation_reason = reason
        locked.save(update_fields=["is_hidden", "moderated_by", "moderated_at", "moderation_reason"])
        ratings_recompute_for(locked)
        audit_record(
            actor=actor,
            action=f"review.{action}",
            target=locked,
            hotel=locked.hotel,
            ip=ip,
            before=before,
            after=review_state(locked),
        )
        publish_review_event(REVIEW_HIDDEN if hide else REVIEW_PUBLISHED, locked)
    return locked
