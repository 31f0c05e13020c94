"""Bookings API: availability, staff schedules and time off, booking policies, the staff calendar
and transitions, and the customer's own bookings.

Each view parses input, fetches through an access helper, calls one service and renders.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
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
from refuje.common.errors import NotFound
from refuje.experiences.access import access_experience, as_id
from refuje.hotels.access import access_membership
from refuje.hotels.models import Hotel, Role

from . import selectors, services
from .access import access_customer_booking, access_schedule_member, access_staff_booking, access_time_off
from .availability import in_zone
from .cancellation import cancellation_quote
from .lifecycle import BookingAction
from .models import Booking
from .serializers import (
    AvailabilityQuerySerializer,
    AvailabilitySerializer,
    BookingCancelSerializer,
    BookingCreatedSerializer,
    BookingCreateSerializer,
    BookingIllegalTransitionSerializer,
    BookingPolicySerializer,
    BookingPolicyWriteSerializer,
    BookingSerializer,
    BookingTransitionSerializer,
    CalendarQuerySerializer,
    CancelledSerializer,
    QuoteSerializer,
    ScheduleSerializer,
    ScheduleWriteSerializer,
    SlotTakenSerializer,
    StaffBookingSerializer,
    TimeOffSerializer,
    TimeOffWriteSerializer,
    money,
)

TAG = "bookings"
EXPERIENCE_PATH = OpenApiParameter(
    "experience_id", {"type": "integer", "minimum": 1}, OpenApiParameter.PATH, description="Experience id."
)
MEMBER_PATH = OpenApiParameter(
    "member_id", {"type": "integer", "minimum": 1}, OpenApiParameter.PATH, description="Membership id."
)
TIME_OFF_PATH = OpenApiParameter(
    "time_off_id", {"type": "integer", "minimum": 1}, OpenApiParameter.PATH, description="Time-off id."
)
BOOKING_PATH = OpenApiParameter(
    "booking_id", {"type": "integer", "minimum": 1}, OpenApiParameter.PATH, description="Booking id."
)
SLOT_TAKEN = OpenApiResponse(
    SlotTakenSerializer, description="The time is taken or not bookable; `next_slots` lists free ones."
)
ILLEGAL = OpenApiResponse(
    BookingIllegalTransitionSerializer,
    description="Not possible in the booking's current status or time (`illegal_transition`, `not_started`, "
    "`booking_started`), with `allowed_actions`.",
)
BOOKING_NOT_FOUND = OpenApiResponse(
    ApiErrorSerializer,
    description="No such booking, or not one you may see (another hotel's, staff member's or guest's).",
)
PHONE_NOT_VERIFIED = OpenApiResponse(ApiErrorSerializer, description="Verify your phone first (`phone_not_verified`).")


def _range(data: dict[str, Any], hotel: Hotel, *, default_days: int) -> tuple[datetime, datetime]:
    """`from`/`to` as aware instants (naive ones read in the hotel's zone), at most the configured span."""
    zone = hotel.tz
    start = in_zone(data["from"], zone) if data.get("from") is not None else timezone.now()
    end = in_zone(data["to"], zone) if data.get("to") is not None else start + timedelta(days=default_days)
    if end <= start:
        raise serializers.ValidationError({"to": [_("`to` must be after `from`.")]})
    if end - start > timedelta(days=settings.BOOKING_AVAILABILITY_MAX_DAYS):
        raise serializers.ValidationError(
            {"to": [_("Ask for at most %(days)s days at a time.") % {"days": settings.BOOKING_AVAILABILITY_MAX_DAYS}]}
        )
    return start, end


# --- Public availability --------------------------------------------------------------------


class AvailabilityView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=[TAG],
        operation_id="public_experiences_availability",
        summary="Free slots of an experience, in the hotel's time zone",
        description=(
            "Slots whose start lies in [`from`, `to`) (default: the next 7 days; at most "
            "BOOKING_AVAILABILITY_MAX_DAYS days), grouped by start with the staff members free then. Times without "
            "an offset, and bare dates, are read in the hotel's time zone. Minimum notice and maximum advance "
            "of the experience's booking policy apply."
        ),
        parameters=[HOTEL_PATH, EXPERIENCE_PATH, AvailabilityQuerySerializer],
        responses={200: AvailabilitySerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def get(self, request: Request, hotel: str, experience_id: int) -> Response:
        experience = selectors.public_experience(hotel, as_id(experience_id))
        if experience is None:
            raise NotFound()
        data = parse(AvailabilityQuerySerializer, request.query_params.dict())
        start, end = _range(data, experience.hotel, default_days=7)
        found = selectors.availability(
            experience=experience, start=start, end=end, now=timezone.now(), staff_id=data.get("staff")
        )
        response = Response(AvailabilitySerializer(found).data)
        response["Cache-Control"] = "no-store"
        return response


# --- Booking policy -------------------------------------------------------------------------


class BookingPolicyView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="hotels_experiences_booking_policy_retrieve",
        summary="An experience's booking and cancellation policy [VIEWER]",
        parameters=[HOTEL_PATH, EXPERIENCE_PATH],
        responses={200: BookingPolicySerializer, 401: NOT_SIGNED_IN, 404: NOT_FOUND},
    )
    def get(self, request: Request, hotel: str, experience_id: int) -> Response:
        experience = access_experience(actor_of(request), hotel, experience_id, minimum=Role.VIEWER)
        return Response(BookingPolicySerializer(selectors.booking_policy(experience)).data)

    @extend_schema(
        tags=[TAG],
        operation_id="hotels_experiences_booking_policy_update",
        summary="Replace an experience's booking and cancellation policy [ADMIN]",
        description="Existing bookings keep the buffers and price they were made with.",
        parameters=[HOTEL_PATH, EXPERIENCE_PATH],
        request=BookingPolicyWriteSerializer,
        responses={200: BookingPolicySerializer, 400: BAD_INPUT, 401: NOT_SIGNED_IN, 403: ROLE_TOO_LOW, 404: NOT_FOUND},
    )
    def put(self, request: Request, hotel: str, experience_id: int) -> Response:
        actor = actor_of(request)
        experience = access_experience(actor, hotel, experience_id, minimum=Role.ADMIN)
        data = parse(BookingPolicyWriteSerializer, request.data)
        policy = services.booking_policy_set(actor=actor, experience=experience, ip=client_ip(request), **data)
        return Response(BookingPolicySerializer(policy).data)


# --- Staff schedules and time off -----------------------------------------------------------


class StaffScheduleView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="hotels_staff_schedule_retrieve",
        summary="A staff member's weekly hours and breaks [ADMIN; STAFF: their own]",
        parameters=[HOTEL_PATH, MEMBER_PATH],
        responses={200: ScheduleSerializer, 401: NOT_SIGNED_IN, 403: ROLE_TOO_LOW, 404: NOT_FOUND},
    )
    def get(self, request: Request, hotel: str, member_id: int) -> Response:
        _membership, member = access_schedule_member(actor_of(request), hotel, member_id, write=False)
        return Response(ScheduleSerializer(selectors.staff_schedule(member)).data)

    @extend_schema(
        tags=[TAG],
        operation_id="hotels_staff_schedule_update",
        summary="Replace a staff member's weekly hours and breaks [ADMIN]",
        description=(
            "Hours are weekly, in the hotel's time zone; an end at or before the start runs past midnight. "
            "Overlapping working hours (or overlapping breaks) are a 400. Existing bookings stay."
        ),
        parameters=[HOTEL_PATH, MEMBER_PATH],
        request=ScheduleWriteSerializer,
        responses={200: ScheduleSerializer, 400: BAD_INPUT, 401: NOT_SIGNED_IN, 403: ROLE_TOO_LOW, 404: NOT_FOUND},
    )
    def put(self, request: Request, hotel: str, member_id: int) -> Response:
        actor = actor_of(request)
        _membership, member = access_schedule_member(actor, hotel, member_id, write=True)
        data = parse(ScheduleWriteSerializer, request.data)
        view = services.staff_schedule_set(
            actor=actor,
            membership=member,
            work=list(data.get("work", ())),
            breaks=list(data.get("breaks", ())),
            ip=client_ip(request),
        )
        return Response(ScheduleSerializer(view).data)


class StaffTimeOffCollectionView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="hotels_staff_time_off_list",
        summary="A staff member's time off that has not ended yet [ADMIN; STAFF: their own]",
        parameters=[HOTEL_PATH, MEMBER_PATH, *PAGE_PARAMS],
        responses={
            200: paginated(TimeOffSerializer),
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, hotel: str, member_id: int) -> Response:
        _membership, member = access_schedule_member(actor_of(request), hotel, member_id, write=False)
        found = selectors.staff_time_off_list(member, upcoming_from=timezone.now()).select_related("membership__hotel")
        return paginated_response(request, self, found, TimeOffSerializer)

    @extend_schema(
        tags=[TAG],
        operation_id="hotels_staff_time_off_create",
        summary="Record time off for a staff member [ADMIN]",
        description="No slots are offered during time off. Bookings already made in it stay.",
        parameters=[HOTEL_PATH, MEMBER_PATH],
        request=TimeOffWriteSerializer,
        responses={201: TimeOffSerializer, 400: BAD_INPUT, 401: NOT_SIGNED_IN, 403: ROLE_TOO_LOW, 404: NOT_FOUND},
    )
    def post(self, request: Request, hotel: str, member_id: int) -> Response:
        actor = actor_of(request)
        _membership, member = access_schedule_member(actor, hotel, member_id, write=True)
        data = parse(TimeOffWriteSerializer, request.data)
        zone = member.hotel.tz
        created = services.staff_time_off_create(
            actor=actor,
            membership=member,
            start=in_zone(data["start"], zone),
            end=in_zone(data["end"], zone),
            reason=data["reason"],
            ip=client_ip(request),
        )
        created.membership = member
        return Response(TimeOffSerializer(created).data, status=status.HTTP_201_CREATED)


class StaffTimeOffDetailView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="hotels_staff_time_off_destroy",
        summary="Remove a period of time off [ADMIN]",
        parameters=[HOTEL_PATH, MEMBER_PATH, TIME_OFF_PATH],
        request=None,
        responses={204: None, 401: NOT_SIGNED_IN, 403: ROLE_TOO_LOW, 404: NOT_FOUND},
    )
    def delete(self, request: Request, hotel: str, member_id: int, time_off_id: int) -> Response:
        actor = actor_of(request)
        found = access_time_off(actor, hotel, member_id, time_off_id)
        services.staff_time_off_delete(actor=actor, time_off=found, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Staff calendar and transitions ---------------------------------------------------------


class StaffBookingCollectionView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="hotels_bookings_list",
        summary="The bookings calendar [STAFF: your own bookings; ADMIN: all]",
        description="Bookings overlapping [`from`, `to`) (default: the next 7 days), by start.",
        parameters=[HOTEL_PATH, CalendarQuerySerializer, *PAGE_PARAMS],
        responses={
            200: paginated(StaffBookingSerializer),
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, hotel: str) -> Response:
        membership = access_membership(actor_of(request), hotel, minimum=Role.STAFF)
        query = request.query_params
        data = parse(CalendarQuerySerializer, {**query.dict(), "status": query.getlist("status")})
        start, end = _range(data, membership.hotel, default_days=7)
        found = selectors.booking_calendar(
            membership=membership, start=start, end=end, staff_id=data.get("staff"), statuses=data.get("status", ())
        )
        return paginated_response(request, self, found, StaffBookingSerializer)


class StaffBookingTransitionView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="hotels_bookings_transition",
        summary="Complete, mark as no-show or cancel a booking [STAFF: your own; ADMIN: all]",
        description=(
            "complete and no_show (CONFIRMED, once it has started): a no-show keeps the no-show fee and refunds "
            "the rest; cancel (PENDING_PAYMENT/CONFIRMED, any time) refunds in full. Repeating an applied action "
            "is a no-op (200)."
        ),
        parameters=[HOTEL_PATH, BOOKING_PATH],
        request=BookingTransitionSerializer,
        responses={
            200: StaffBookingSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: BOOKING_NOT_FOUND,
            409: ILLEGAL,
        },
    )
    def post(self, request: Request, hotel: str, booking_id: int) -> Response:
        actor = actor_of(request)
        _membership, found = access_staff_booking(actor, hotel, booking_id, minimum=Role.STAFF)
        data = parse(BookingTransitionSerializer, request.data)
        action = data["action"]
        result: Booking
        if action == BookingAction.COMPLETE:
            result = services.booking_complete(actor=actor, booking=found)
        elif action == BookingAction.NO_SHOW:
            result = services.booking_mark_no_show(actor=actor, booking=found, reason=data["reason"])
        else:
            result, _quote = services.booking_cancel(actor=actor, booking=found, by_staff=True, reason=data["reason"])
        _membership, fresh = access_staff_booking(actor, hotel, result.pk, minimum=Role.STAFF)
        return Response(StaffBookingSerializer(fresh).data)


# --- The customer's bookings ----------------------------------------------------------------


class BookingCollectionView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="bookings_list",
        summary="My bookings, latest start first",
        parameters=[*PAGE_PARAMS],
        responses={200: paginated(BookingSerializer), 400: BAD_INPUT, 401: NOT_SIGNED_IN},
    )
    def get(self, request: Request) -> Response:
        actor = actor_of(request)
        return paginated_response(request, self, selectors.booking_list_for_customer(customer=actor), BookingSerializer)

    @extend_schema(
        tags=[TAG],
        operation_id="bookings_create",
        summary="Book an experience",
        description=(
            "Any signed-in user with a verified phone. `start` must be a slot from the availability endpoint; "
            "without `staff` the first staff member free then is chosen. A free experience is confirmed at "
            "once (`payment` null); otherwise the slot is held for BOOKING_PAYMENT_HOLD_MINUTES while the "
            "customer pays with the returned Moyasar form data. A guest with an active stay at the hotel gets "
            "it linked. 409 `slot_taken`/`slot_unavailable` with `next_slots` when the time cannot be booked."
        ),
        request=BookingCreateSerializer,
        responses={
            201: BookingCreatedSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: PHONE_NOT_VERIFIED,
            409: SLOT_TAKEN,
        },
    )
    def post(self, request: Request) -> Response:
        actor = actor_of(request)
        data = parse(BookingCreateSerializer, request.data)
        created = services.booking_create(
            actor=actor, experience_id=data["experience"], start=data["start"], staff_id=data.get("staff")
        )
        booking = access_customer_booking(actor, created.booking.pk)
        return Response(
            BookingCreatedSerializer({"booking": booking, "payment": created.payment}).data,
            status=status.HTTP_201_CREATED,
        )


class BookingDetailView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="bookings_retrieve",
        summary="One of my bookings",
        parameters=[BOOKING_PATH],
        responses={200: BookingSerializer, 401: NOT_SIGNED_IN, 404: BOOKING_NOT_FOUND},
    )
    def get(self, request: Request, booking_id: int) -> Response:
        return Response(BookingSerializer(access_customer_booking(actor_of(request), booking_id)).data)


class BookingQuoteView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="bookings_cancellation_quote",
        summary="What cancelling one of my bookings now would refund",
        parameters=[BOOKING_PATH],
        responses={200: QuoteSerializer, 401: NOT_SIGNED_IN, 404: BOOKING_NOT_FOUND},
    )
    def get(self, request: Request, booking_id: int) -> Response:
        booking = access_customer_booking(actor_of(request), booking_id)
        quote = cancellation_quote(booking, now=timezone.now(), by_staff=False)
        response = Response(QuoteSerializer(quote, context={"booking": booking}).data)
        response["Cache-Control"] = "no-store"
        return response


class BookingCancelView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="bookings_cancel",
        summary="Cancel one of my bookings",
        description=(
            "Applies the experience's cancellation policy (see the quote) and refunds through the payment "
            "provider. Possible until the booking starts; cancelling twice is a no-op."
        ),
        parameters=[BOOKING_PATH],
        request=BookingCancelSerializer,
        responses={200: CancelledSerializer, 400: BAD_INPUT, 401: NOT_SIGNED_IN, 404: BOOKING_NOT_FOUND, 409: ILLEGAL},
    )
    def post(self, request: Request, booking_id: int) -> Response:
        actor = actor_of(request)
        booking = access_customer_booking(actor, booking_id)
        data = parse(BookingCancelSerializer, request.data)
        _cancelled, quote = services.booking_cancel(actor=actor, booking=booking, by_staff=False, reason=data["reason"])
        fresh = access_customer_booking(actor, booking_id)
        return Response(
            CancelledSerializer(
                {
                    "booking": fresh,
                    "refund": money(quote.refund_minor, fresh.currency),
                    "fee": money(quote.fee_minor, fresh.currency),
                }
            ).data
        )
