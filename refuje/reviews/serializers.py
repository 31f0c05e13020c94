"""Input parsers and output shapes of the reviews API. No business rules here: those are services."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from refuje.accounts.models import User
from refuje.experiences.models import Experience

from .models import MAX_MODERATION_REASON_LENGTH, MAX_RATING, MAX_TEXT_LENGTH, MIN_RATING, RATINGS, Review
from .selectors import RatingSummary, public_author_name
from .services import MODERATION_ACTIONS

MAX_ID = 2**63 - 1

# --- Input ----------------------------------------------------------------------------------


class ReviewCreateSerializer(serializers.Serializer[Any]):
    rating = serializers.IntegerField(
        min_value=MIN_RATING, max_value=MAX_RATING, help_text="1 (poor) to 5 (excellent)."
    )
    text = serializers.CharField(
        max_length=MAX_TEXT_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text="What you want to say (optional, at most 2000 characters).",
    )


class ModerateSerializer(serializers.Serializer[Any]):
    action = serializers.ChoiceField(choices=[(action, action) for action in MODERATION_ACTIONS])
    reason = serializers.CharField(
        max_length=MAX_MODERATION_REASON_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why: required to hide, optional to publish.",
    )


class StaffReviewFilterSerializer(serializers.Serializer[Any]):
    hidden = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Only hidden / published."
    )
    rating = serializers.IntegerField(min_value=MIN_RATING, max_value=MAX_RATING, required=False)
    experience = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, help_text="Experience id.")
    staff = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text="Membership id of the staff member reviewed."
    )


# --- Output ---------------------------------------------------------------------------------


class OwnReviewSerializer(serializers.ModelSerializer[Review]):
    """A review as its author sees it."""

    class Meta:
        model = Review
        fields = ["id", "booking", "request", "rating", "text", "is_hidden", "created_at"]
        read_only_fields = fields


class ReviewAuthorSerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ["id", "full_name"]
        read_only_fields = fields


class ReviewExperienceSerializer(serializers.ModelSerializer[Experience]):
    title = serializers.CharField(read_only=True)

    class Meta:
        model = Experience
        fields = ["id", "title", "title_ar", "title_en"]
        read_only_fields = fields


class ReviewStaffSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(help_text="Membership id.")
    full_name = serializers.CharField(source="user.full_name")


class StaffReviewSerializer(serializers.ModelSerializer[Review]):
    """A review on the hotel's moderation list."""

    author = ReviewAuthorSerializer(read_only=True)
    experience = ReviewExperienceSerializer(read_only=True, allow_null=True)
    staff = ReviewStaffSerializer(read_only=True, allow_null=True)
    moderated_by = ReviewAuthorSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Review
        fields = [
            "id",
            "booking",
            "request",
            "experience",
            "staff",
            "author",
            "rating",
            "text",
            "is_hidden",
            "moderated_by",
            "moderated_at",
            "moderation_reason",
            "created_at",
        ]
        read_only_fields = fields


class PublicReviewSerializer(serializers.ModelSerializer[Review]):
    """What anyone may read: no personal data beyond a first name and an initial."""

    author_name = serializers.SerializerMethodField(help_text="First name and initial, e.g. “Sara A.”.")

    class Meta:
        model = Review
        fields = ["id", "rating", "text", "author_name", "created_at"]
        read_only_fields = fields

    def get_author_name(self, review: Review) -> str:
        return public_author_name(review.author.full_name)


RatingDistributionSerializer: type[serializers.Serializer[Any]] = type(
    "RatingDistributionSerializer",
    (serializers.Serializer,),
    {str(stars): serializers.IntegerField(min_value=0) for stars in RATINGS},
)


class RatingSummarySerializer(serializers.Serializer[RatingSummary]):
    average = serializers.DecimalField(
        max_digits=3, decimal_places=2, coerce_to_string=False, allow_null=True, help_text="null without reviews."
    )
    count = serializers.IntegerField(min_value=0)
    distribution = RatingDistributionSerializer(help_text="Number of published reviews with each rating, 1–5.")


class PublicReviewPageSerializer(serializers.Serializer[Any]):
    """The schema of the public page: the usual page envelope plus the summary."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PublicReviewSerializer(many=True)
    summary = RatingSummarySerializer()
