"""Reviews of completed bookings and service requests, and their moderation.

One review per author per item is a database guarantee (two partial unique indexes), so a double
submit can never store two. A review rates exactly one item; the experience (and, for bookings, the
staff member) it counts for is copied onto the row when it is written, so ratings are recomputed
from one table with one aggregate.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refuje.bookings.models import Booking
from refuje.concierge.models import ServiceRequest
from refuje.experiences.models import Experience
from refuje.hotels.models import Hotel, HotelMembership

MIN_RATING = 1
MAX_RATING = 5
RATINGS = tuple(range(MIN_RATING, MAX_RATING + 1))
MAX_TEXT_LENGTH = 2000
MAX_MODERATION_REASON_LENGTH = 500


class Review(models.Model):
    hotel = models.ForeignKey(Hotel, on_delete=models.CASCADE, related_name="reviews")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews")
    # Exactly one of these two is set (checked by the database).
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, null=True, blank=True, related_name="reviews")
    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, null=True, blank=True, related_name="reviews")
    # What the review counts for, copied from the booking or request when it is written: the
    # booking's experience and staff member, or the request's experience when it has one.
    experience = models.ForeignKey(Experience, on_delete=models.CASCADE, null=True, blank=True, related_name="reviews")
    staff = models.ForeignKey(HotelMembership, on_delete=models.SET_NULL, null=True, blank=True, related_name="reviews")
    rating = models.PositiveSmallIntegerField(
        _("rating"), validators=[MinValueValidator(MIN_RATING), MaxValueValidator(MAX_RATING)]
    )
    text = models.CharField(_("text"), max_length=MAX_TEXT_LENGTH, blank=True)
    is_hidden = models.BooleanField(_("hidden"), default=False)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    moderated_at = models.DateTimeField(_("moderated at"), null=True, blank=True)
    moderation_reason = models.CharField(_("moderation reason"), max_length=MAX_MODERATION_REASON_LENGTH, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(booking__isnull=False, request__isnull=True)
                | Q(booking__isnull=True, request__isnull=False),
                name="reviews_review_exactly_one_item",
            ),
            models.CheckConstraint(
                condition=Q(rating__gte=MIN_RATING, rating__lte=MAX_RATING), name="reviews_review_rating_range"
            ),
            models.CheckConstraint(
                condition=Q(staff__isnull=True) | Q(booking__isnull=False),
                name="reviews_review_staff_only_for_bookings",
            ),
            models.UniqueConstraint(
                fields=["author", "booking"],
                condition=Q(booking__isnull=False),
                name="reviews_review_one_per_author_booking",
                violation_error_code="already_reviewed",
            ),
            models.UniqueConstraint(
                fields=["author", "request"],
                condition=Q(request__isnull=False),
                name="reviews_review_one_per_author_request",
                violation_error_code="already_reviewed",
            ),
        ]
        indexes = [
            # The public list of an experience's published reviews, newest first.
            models.Index(
                fields=["experience", "-created_at"], condition=Q(is_hidden=False), name="reviews_experience_published"
            ),
            models.Index(fields=["hotel", "-created_at"], name="reviews_hotel_created"),
            models.Index(fields=["staff"], condition=Q(is_hidden=False), name="reviews_staff_published"),
        ]

    def __str__(self) -> str:
        item = f"booking {self.booking_id}" if self.booking_id else f"request {self.request_id}"
        return f"review #{self.pk} of {item}: {self.rating}/{MAX_RATING}"
