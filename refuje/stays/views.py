"""Stays API: the front desk registers and ends stays; a guest reads their current stay or checks in by QR."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
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
from refuje.hotels.access import access_hotel
from refuje.hotels.models import Role
from refuje.qrcodes.selectors import qr_code_for_scan

from . import selectors, services
from .access import access_stay
from .serializers import (
    CurrentStayQuerySerializer,
    GuestStaySerializer,
    HotelConciergeSettingsSerializer,
    HotelConciergeSettingsUpdateSerializer,
    OwnStaySerializer,
    SelfCheckInResultSerializer,
    SelfCheckInSerializer,
    StayFilterSerializer,
    StayRegisterSerializer,
    StayUpdateSerializer,
)

TAG = "stays"
STAY_PATH = OpenApiParameter("stay_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Stay id.")
STAY_ALREADY_ACTIVE = OpenApiResponse(
    ApiErrorSerializer,
    description="The guest already has an active stay at this hotel (`stay_already_active`, with `stay_id`).",
)
STAY_NOT_ACTIVE = OpenApiResponse(
    ApiErrorSerializer, description="The stay has ended and cannot change any more (`stay_not_active`)."
)


class StayCollectionView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="stays_list",
        summary="Stays of a hotel, newest first [STAFF]",
        parameters=[HOTEL_PATH, *PAGE_PARAMS, StayFilterSerializer],
        responses={
            200: paginated(GuestStaySerializer),
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, hotel: str) -> Response:
        found = access_hotel(actor_of(request), hotel, minimum=Role.STAFF)
        filters = parse(StayFilterSerializer, request.query_params.dict())
        stays = selectors.stay_list(
            hotel=found, status=filters.get("status"), room=filters.get("room", ""), search=filters.get("search", "")
        )
        return paginated_response(request, self, stays, GuestStaySerializer)

    @extend_schema(
        tags=[TAG],
        operation_id="stays_register",
        summary="Register a guest's stay by phone [STAFF]",
        description=(
            "Creates the guest's account on their first visit, or links the existing account with that phone. "
            "The stay is active at once; a guest has at most one active stay per hotel."
        ),
        parameters=[HOTEL_PATH],
        request=StayRegisterSerializer,
        responses={
            201: GuestStaySerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
            409: STAY_ALREADY_ACTIVE,
        },
    )
    def post(self, request: Request, hotel: str) -> Response:
        actor = actor_of(request)
        found = access_hotel(actor, hotel, minimum=Role.STAFF)
        data = parse(StayRegisterSerializer, request.data)
        stay = services.stay_register(actor=actor, hotel=found, ip=client_ip(request), **data)
        return Response(GuestStaySerializer(stay).data, status=status.HTTP_201_CREATED)


class StayDetailView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="stays_retrieve",
        summary="One stay [STAFF]",
        parameters=[HOTEL_PATH, STAY_PATH],
        responses={200: GuestStaySerializer, 401: NOT_SIGNED_IN, 403: ROLE_TOO_LOW, 404: NOT_FOUND},
    )
    def get(self, request: Request, hotel: str, stay_id: int) -> Response:
        stay = access_stay(actor_of(request), hotel, stay_id, minimum=Role.STAFF)
        return Response(GuestStaySerializer(stay).data)

    @extend_schema(
        tags=[TAG],
        operation_id="stays_partial_update",
        summary="Change a stay's room or dates, or end it [STAFF]",
        description=(
            "`status: CHECKED_OUT` checks the guest out, `CANCELLED` withdraws a registration made in error. "
            "Repeating what is already true changes nothing; an ended stay cannot change (409)."
        ),
        parameters=[HOTEL_PATH, STAY_PATH],
        request=StayUpdateSerializer,
        responses={
            200: GuestStaySerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
            409: STAY_NOT_ACTIVE,
        },
    )
    def patch(self, request: Request, hotel: str, stay_id: int) -> Response:
        actor = actor_of(request)
        stay = access_stay(actor, hotel, stay_id, minimum=Role.STAFF)
        data = parse(StayUpdateSerializer, request.data, partial=True)
        new_status = data.pop("status", None)
        updated = services.stay_update(actor=actor, stay=stay, data=data, status=new_status, ip=client_ip(request))
        return Response(GuestStaySerializer(updated).data)


class HotelConciergeSettingsView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="hotels_concierge_settings_retrieve",
        summary="The hotel's concierge settings (self check-in) [VIEWER]",
        parameters=[HOTEL_PATH],
        responses={200: HotelConciergeSettingsSerializer, 401: NOT_SIGNED_IN, 404: NOT_FOUND},
    )
    def get(self, request: Request, hotel: str) -> Response:
        found = access_hotel(actor_of(request), hotel, minimum=Role.VIEWER)
        return Response(HotelConciergeSettingsSerializer(selectors.hotel_concierge_settings(hotel=found)).data)

    @extend_schema(
        tags=[TAG],
        operation_id="hotels_concierge_settings_partial_update",
        summary="Change the hotel's concierge settings [ADMIN]",
        parameters=[HOTEL_PATH],
        request=HotelConciergeSettingsUpdateSerializer,
        responses={
            200: HotelConciergeSettingsSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
        },
    )
    def patch(self, request: Request, hotel: str) -> Response:
        actor = actor_of(request)
        found = access_hotel(actor, hotel, minimum=Role.ADMIN)
        data = parse(HotelConciergeSettingsUpdateSerializer, request.data, partial=True)
        updated = services.hotel_concierge_settings_update(actor=actor, hotel=found, data=data, ip=client_ip(request))
        return Response(HotelConciergeSettingsSerializer(updated).data)


# --- Guest ----------------------------------------------------------------------------------


class GuestCurrentStayView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="guest_stays_current",
        summary="My active stay at a hotel",
        parameters=[CurrentStayQuerySerializer],
        responses={
            200: OwnStaySerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            404: OpenApiResponse(ApiErrorSerializer, description="No active stay of yours at that hotel."),
        },
    )
    def get(self, request: Request) -> Response:
        actor = actor_of(request)
        query = parse(CurrentStayQuerySerializer, request.query_params.dict())
        stay = selectors.stay_current(guest=actor, hotel_slug=query["hotel"])
        if stay is None:
            raise NotFound()
        return Response(OwnStaySerializer(stay).data)


class GuestSelfCheckInView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="guest_stays_self_check_in",
        summary="Check in to the room of a scanned QR code",
        description=(
            "Only where the hotel allows self check-in. Idempotent: an existing active stay at the hotel is "
            "returned unchanged (200); a new one is 201. The front desk can review and end it."
        ),
        request=SelfCheckInSerializer,
        responses={
            200: SelfCheckInResultSerializer,
            201: SelfCheckInResultSerializer,
            400: OpenApiResponse(
                ApiErrorSerializer, description="Bad input, or the code is not a room's (`qr_not_a_room`)."
            ),
            401: NOT_SIGNED_IN,
            403: OpenApiResponse(
                ApiErrorSerializer, description="The hotel does not offer self check-in (`self_check_in_disabled`)."
            ),
            404: OpenApiResponse(ApiErrorSerializer, description="Unknown or inactive QR code."),
        },
    )
    def post(self, request: Request) -> Response:
        actor = actor_of(request)
        data = parse(SelfCheckInSerializer, request.data)
        code = qr_code_for_scan(token=data["qr_token"])
        if code is None:
            raise NotFound()
        result = services.stay_self_check_in(guest=actor, qr_code=code)
        return Response(
            SelfCheckInResultSerializer({"created": result.created, "stay": result.stay}).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )
