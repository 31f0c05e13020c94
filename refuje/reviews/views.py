"""Reviews API: guests review their completed requests and bookings, staff moderate, anyone reads an
experience's published reviews.

Each view parses input, fetches through an access helper, calls one service and renders.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from refuje.common.api import (
    BAD_INPUT,
    HOTEL_PATH,
    NOT_FOUND,
    NOT_SIGNED_IN,
    PAGE_PARAMS,
    ROLE_TOO_LOW,
    ApiErrorSerializer,
    actor_of,
    client_ip,
    paginated,
    paginated_response,
    parse,
)
from refuje.common.pagination import PageNumberPagination
from refuje.concierge.access import access_guest_request
from refuje.hotels.access import access_hotel
from refuje.hotels.models import Role

from . import selectors, services
from .access import access_customer_booking, access_review, public_experience
from .serializers import (
    ModerateSerializer,
    OwnReviewSerializer,
    PublicReviewPageSerializer,
    PublicReviewSerializer,
    RatingSummarySerializer,
    ReviewCreateSerializer,
    StaffReviewFilterSerializer,
    StaffReviewSerializer,
)

TAG = "reviews"


def _id_path(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, {"type": "integer", "minimum": 1}, OpenApiParameter.PATH, description=description)


REQUEST_PATH = _id_path("request_id", "Service request id.")
BOOKING_PATH = _id_path("booking_id", "Booking id.")
REVIEW_PATH = _id_path("review_id", "Review id.")
EXPERIENCE_PATH = _id_path("experience_id", "Experience id.")
CONFLICT = OpenApiResponse(
    ApiErrorSerializer,
    description="Not completed yet (`not_completed`), or already reviewed by you (`already_reviewed`).",
)


def _not_yours(item: str) -> OpenApiResponse:
    return OpenApiResponse(ApiErrorSerializer, description=f"No such {item}, or not yours (`not_found`).")


# --- Guest ----------------------------------------------------------------------------------


class RequestReviewView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="guest_requests_review_create",
        summary="Review one of my completed requests (once)",
        description=(
            "Counts for the request's experience when it has one. A request that is not COMPLETED is a 409 "
            "`not_completed`; a second review a 409 `already_reviewed`."
        ),
        parameters=[REQUEST_PATH],
        request=ReviewCreateSerializer,
        responses={
            201: OwnReviewSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            404: _not_yours("request"),
            409: CONFLICT,
        },
    )
    def post(self, request: Request, request_id: int) -> Response:
        actor = actor_of(request)
        found = access_guest_request(actor, request_id)
        data = parse(ReviewCreateSerializer, request.data)
        review = services.review_create_for_request(
            author=actor, request=found, rating=data["rating"], text=data["text"]
        )
        return Response(OwnReviewSerializer(review).data, status=status.HTTP_201_CREATED)


class BookingReviewView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="bookings_review_create",
        summary="Review one of my completed bookings (once)",
        description=(
            "Counts for the booked experience and for the staff member. A booking that is not completed is a "
            "409 `not_completed`; a second review a 409 `already_reviewed`."
        ),
        parameters=[BOOKING_PATH],
        request=ReviewCreateSerializer,
        responses={
            201: OwnReviewSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            404: _not_yours("booking"),
            409: CONFLICT,
        },
    )
    def post(self, request: Request, booking_id: int) -> Response:
        actor = actor_of(request)
        found = access_customer_booking(actor, booking_id)
        data = parse(ReviewCreateSerializer, request.data)
        review = services.review_create_for_booking(
            author=actor, booking=found, rating=data["rating"], text=data["text"]
        )
        return Response(OwnReviewSerializer(review).data, status=status.HTTP_201_CREATED)


# --- Staff ----------------------------------------------------------------------------------


class StaffReviewListView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="hotels_reviews_list",
        summary="The hotel's reviews, newest first, hidden ones included [VIEWER]",
        parameters=[HOTEL_PATH, *PAGE_PARAMS, StaffReviewFilterSerializer],
        responses={200: paginated(StaffReviewSerializer), 400: BAD_INPUT, 401: NOT_SIGNED_IN, 404: NOT_FOUND},
    )
    def get(self, request: Request, hotel: str) -> Response:
        found = access_hotel(actor_of(request), hotel, minimum=Role.VIEWER)
        filters = parse(StaffReviewFilterSerializer, request.query_params.dict())
        reviews = selectors.review_list_for_staff(
            hotel=found,
            hidden=filters.get("hidden"),
            rating=filters.get("rating"),
            experience_id=filters.get("experience"),
            staff_id=filters.get("staff"),
        )
        return paginated_response(request, self, reviews, StaffReviewSerializer)


class StaffReviewModerateView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="hotels_reviews_moderate",
        summary="Hide or publish a review [ADMIN]",
        description=(
            "`hide` needs a `reason`. A hidden review leaves the public list and the ratings at once; `publish` "
            "brings it back. Repeating the current state changes nothing. Audited."
        ),
        parameters=[HOTEL_PATH, REVIEW_PATH],
        request=ModerateSerializer,
        responses={
            200: StaffReviewSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
        },
    )
    def post(self, request: Request, hotel: str, review_id: int) -> Response:
        actor = actor_of(request)
        found = access_review(actor, hotel, review_id, minimum=Role.ADMIN)
        data = parse(ModerateSerializer, request.data)
        review = services.review_moderate(
            actor=actor, review=found, action=data["action"], reason=data["reason"], ip=client_ip(request)
        )
        shown = selectors.review_list_for_staff(hotel=review.hotel).get(pk=review.pk)
        return Response(StaffReviewSerializer(shown).data)


# --- Public ---------------------------------------------------------------------------------


class PublicExperienceReviewsView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=[TAG],
        operation_id="public_experience_reviews_list",
        summary="An experience's published reviews, newest first, with its rating summary",
        description=(
            "The summary (average, count, number of each rating 1–5) covers every published review. Reviewers "
            "appear by first name and initial only. Inactive or unknown experiences are a 404."
        ),
        parameters=[
            OpenApiParameter("hotel", OpenApiTypes.STR, OpenApiParameter.PATH, description="Hotel slug."),
            EXPERIENCE_PATH,
            *PAGE_PARAMS,
        ],
        responses={200: PublicReviewPageSerializer, 404: OpenApiResponse(ApiErrorSerializer, description="Unknown.")},
    )
    def get(self, request: Request, hotel: str, experience_id: int) -> Response:
        experience = public_experience(hotel, experience_id)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(selectors.review_public_list(experience=experience), request, view=self)
        response = paginator.get_paginated_response(PublicReviewSerializer(page, many=True).data)
        summary = selectors.experience_rating_summary(experience=experience)
        response.data["summary"] = RatingSummarySerializer(summary).data
        return response
