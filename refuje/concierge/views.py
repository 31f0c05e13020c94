"""Concierge API: department service policies, the staff request board and the guest's own requests.

Each view parses input, fetches through an access helper, calls one service and renders.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from refuje.accounts.models import User
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
from refuje.hotels.access import access_department, access_hotel, access_membership
from refuje.hotels.models import Role
from refuje.stays.selectors import stay_current

from . import selectors, services
from .access import access_guest_request, access_staff_request
from .filters import ServiceRequestFilter
from .models import CreatedVia, RequestAction, ServiceRequest
from .serializers import (
    CancelSerializer,
    DepartmentPolicySerializer,
    DepartmentPolicyWriteSerializer,
    GuestRequestCreateSerializer,
    GuestRequestDetailSerializer,
    GuestRequestFilterSerializer,
    GuestRequestSerializer,
    IllegalTransitionSerializer,
    NoteSerializer,
    StaffActivitySerializer,
    StaffRequestCreateSerializer,
    StaffRequestDetailSerializer,
    StaffRequestSerializer,
    TransitionSerializer,
)

TAG = "requests"
DEPARTMENT_PATH = OpenApiParameter(
    "department_id", {"type": "integer", "minimum": 1}, OpenApiParameter.PATH, description="Department id."
)
REQUEST_PATH = OpenApiParameter(
    "request_id", {"type": "integer", "minimum": 1}, OpenApiParameter.PATH, description="Service request id."
)
ILLEGAL = OpenApiResponse(
    IllegalTransitionSerializer,
    description="Not possible in the request's current status (`illegal_transition`, with `allowed_actions`).",
)
NO_ACTIVE_STAY = OpenApiResponse(
    ApiErrorSerializer, description="No active stay of yours at that hotel (`no_active_stay`)."
)
TOO_LARGE = OpenApiResponse(ApiErrorSerializer, description="The photo is too large (`image_too_large`).")
REQUEST_NOT_FOUND = OpenApiResponse(
    ApiErrorSerializer,
    description="No such request, or not one you may see (another hotel's, department's or guest's).",
)
UPLOAD_PARSERS = [JSONParser, MultiPartParser, FormParser]


def _render(request: Request, serializer: type[Any], found: ServiceRequest, *, include_internal: bool) -> Any:
    detail = selectors.service_request_detail(request=found, include_internal=include_internal)
    return serializer(detail, context={"request": request}).data


# --- Department policy ----------------------------------------------------------------------


class DepartmentPolicyView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="hotels_departments_policy_retrieve",
        summary="A department's hours, response times and escalation contacts [VIEWER]",
        parameters=[HOTEL_PATH, DEPARTMENT_PATH],
        responses={200: DepartmentPolicySerializer, 401: NOT_SIGNED_IN, 404: NOT_FOUND},
    )
    def get(self, request: Request, hotel: str, department_id: int) -> Response:
        department = access_department(actor_of(request), hotel, department_id, minimum=Role.VIEWER)
        return Response(DepartmentPolicySerializer(selectors.department_policy(department)).data)

    @extend_schema(
        tags=[TAG],
        operation_id="hotels_departments_policy_update",
        summary="Replace a department's hours, response times and escalation contacts [ADMIN]",
        description=(
            "Windows are weekly, in the hotel's time zone; a window whose end is at or before its start "
            "runs past midnight. Overlapping windows, or overrides covering the same date, are a 400 on "
            "`windows`/`overrides`. Escalation contacts are membership ids of active members of this hotel."
        ),
        parameters=[HOTEL_PATH, DEPARTMENT_PATH],
        request=DepartmentPolicyWriteSerializer,
        responses={
            200: DepartmentPolicySerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
        },
    )
    def put(self, request: Request, hotel: str, department_id: int) -> Response:
        actor = actor_of(request)
        department = access_department(actor, hotel, department_id, minimum=Role.ADMIN)
        serializer = DepartmentPolicyWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        view = services.department_policy_set(
            actor=actor, department=department, ip=client_ip(request), **serializer.service_arguments()
        )
        return Response(DepartmentPolicySerializer(view).data)


# --- Staff ----------------------------------------------------------------------------------


class StaffRequestCollectionView(GenericAPIView[ServiceRequest]):
    # GenericAPIView only for django-filter's backend (and its OpenAPI parameters); OPTIONS
    # describes the create input.
    queryset = ServiceRequest.objects.none()
    serializer_class = StaffRequestCreateSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ServiceRequestFilter
    parser_classes = UPLOAD_PARSERS

    @extend_schema(
        tags=[TAG],
        operation_id="hotels_requests_list",
        summary="The hotel's requests, newest first [VIEWER; below ADMIN only your departments']",
        parameters=[HOTEL_PATH, *PAGE_PARAMS],
        filters=True,
        responses={
            200: paginated(StaffRequestSerializer),
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, hotel: str) -> Response:
        membership = access_membership(actor_of(request), hotel, minimum=Role.VIEWER)
        requests = self.filter_queryset(selectors.service_request_list_for_staff(membership=membership))
        return paginated_response(request, self, requests, StaffRequestSerializer)

    @extend_schema(
        tags=[TAG],
        operation_id="hotels_requests_create",
        summary="Create a request on a guest's behalf [STAFF]",
        description=(
            "For a call to reception: the guest is found by `stay` id or `phone` and needs an active stay "
            "at this hotel. Any active department of the hotel may be chosen. The guest sees the request in "
            "their own list. JSON, or multipart with a `photo`."
        ),
        parameters=[HOTEL_PATH],
        request={
            "application/json": StaffRequestCreateSerializer,
            "multipart/form-data": StaffRequestCreateSerializer,
        },
        responses={
            201: StaffRequestDetailSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
            413: TOO_LARGE,
        },
    )
    def post(self, request: Request, hotel: str) -> Response:
        actor = actor_of(request)
        found = access_hotel(actor, hotel, minimum=Role.STAFF)
        data = parse(StaffRequestCreateSerializer, request.data)
        created = services.service_request_create_for_guest(
            actor=actor,
            hotel=found,
            stay_id=data.get("stay"),
            phone=data.get("phone") or None,
            department_id=data.get("department"),
            experience_id=data.get("experience"),
            description=data["description"],
            priority=data["priority"],
            photo=data.get("photo"),
        )
        return Response(
            _render(request, StaffRequestDetailSerializer, created, include_internal=True),
            status=status.HTTP_201_CREATED,
        )


class StaffRequestDetailView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="hotels_requests_retrieve",
        summary="One request with its activities [VIEWER; below ADMIN only your departments']",
        parameters=[HOTEL_PATH, REQUEST_PATH],
        responses={200: StaffRequestDetailSerializer, 401: NOT_SIGNED_IN, 404: REQUEST_NOT_FOUND},
    )
    def get(self, request: Request, hotel: str, request_id: int) -> Response:
        _membership, found = access_staff_request(actor_of(request), hotel, request_id, minimum=Role.VIEWER)
        return Response(_render(request, StaffRequestDetailSerializer, found, include_internal=True))


Simple = Callable[..., ServiceRequest]
SIMPLE_ACTIONS: dict[str, Simple] = {
    RequestAction.ACKNOWLEDGE: services.service_request_acknowledge,
    RequestAction.START: services.service_request_start,
    RequestAction.COMPLETE: services.service_request_complete,
}


class StaffRequestTransitionView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="hotels_requests_transition",
        summary="Move a request through its lifecycle [STAFF]",
        description=(
            "acknowledge (NEW), confirm with optional `reason`/`scheduled_for` (ACKNOWLEDGED), decline with a "
            "required `reason` (ACKNOWLEDGED), start (ACKNOWLEDGED/CONFIRMED), complete (CONFIRMED/IN_PROGRESS). "
            "Repeating an action already applied is a no-op (200). A reason with an action that takes none, or "
            "a new reason on a repeat, is a 400: a reason needs a change of status."
        ),
        parameters=[HOTEL_PATH, REQUEST_PATH],
        request=TransitionSerializer,
        responses={
            200: StaffRequestDetailSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: REQUEST_NOT_FOUND,
            409: ILLEGAL,
        },
    )
    def post(self, request: Request, hotel: str, request_id: int) -> Response:
        actor = actor_of(request)
        _membership, found = access_staff_request(actor, hotel, request_id, minimum=Role.STAFF)
        data = parse(TransitionSerializer, request.data)
        _apply_staff_action(actor, found, data)
        return Response(_render(request, StaffRequestDetailSerializer, found, include_internal=True))


def _apply_staff_action(actor: User, found: ServiceRequest, data: dict[str, Any]) -> ServiceRequest:
    action = data["action"]
    if action == RequestAction.CONFIRM:
        return services.service_request_confirm(
            actor=actor, request=found, reason=data["reason"], scheduled_for=data.get("scheduled_for")
        )
    if action == RequestAction.DECLINE:
        return services.service_request_decline(actor=actor, request=found, reason=data["reason"])
    return SIMPLE_ACTIONS[action](actor=actor, request=found)


class StaffRequestNoteView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="hotels_requests_notes_create",
        summary="Add an internal note to a request [STAFF]",
        description="Recorded in the activity log without a status change; guests never see it.",
        parameters=[HOTEL_PATH, REQUEST_PATH],
        request=NoteSerializer,
        responses={
            201: StaffActivitySerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: REQUEST_NOT_FOUND,
        },
    )
    def post(self, request: Request, hotel: str, request_id: int) -> Response:
        actor = actor_of(request)
        _membership, found = access_staff_request(actor, hotel, request_id, minimum=Role.STAFF)
        data = parse(NoteSerializer, request.data)
        activity = services.service_request_add_note(actor=actor, request=found, note=data["note"])
        return Response(StaffActivitySerializer(activity).data, status=status.HTTP_201_CREATED)


# --- Guest ----------------------------------------------------------------------------------


class GuestRequestCollectionView(APIView):
    parser_classes = UPLOAD_PARSERS

    @extend_schema(
        tags=[TAG],
        operation_id="guest_requests_list",
        summary="My requests, newest first",
        parameters=[*PAGE_PARAMS, GuestRequestFilterSerializer],
        responses={200: paginated(GuestRequestSerializer), 400: BAD_INPUT, 401: NOT_SIGNED_IN},
    )
    def get(self, request: Request) -> Response:
        actor = actor_of(request)
        filters = parse(GuestRequestFilterSerializer, request.query_params.dict())
        requests = selectors.service_request_list_for_guest(
            guest=actor, hotel_slug=filters.get("hotel", ""), status=filters.get("status")
        )
        return paginated_response(request, self, requests, GuestRequestSerializer)

    @extend_schema(
        tags=[TAG],
        operation_id="guest_requests_create",
        summary="Send a request to the hotel I am staying at",
        description=(
            "Needs an active stay of yours at `hotel` (403 `no_active_stay` otherwise) and an active department "
            "or experience of that hotel. JSON, or multipart with a `photo` (JPEG, PNG or WebP; re-encoded "
            "without metadata). A bad photo is a 400 on `photo` and nothing is stored."
        ),
        request={
            "application/json": GuestRequestCreateSerializer,
            "multipart/form-data": GuestRequestCreateSerializer,
        },
        responses={
            201: GuestRequestDetailSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: NO_ACTIVE_STAY,
            413: TOO_LARGE,
        },
    )
    def post(self, request: Request) -> Response:
        actor = actor_of(request)
        data = parse(GuestRequestCreateSerializer, request.data)
        stay = stay_current(guest=actor, hotel_slug=data["hotel"])
        if stay is None:
            raise services.NoActiveStay()
        created = services.service_request_create(
            actor=actor,
            stay=stay,
            description=data["description"],
            created_via=CreatedVia.GUEST,
            department_id=data.get("department"),
            experience_id=data.get("experience"),
            photo=data.get("photo"),
        )
        return Response(
            _render(request, GuestRequestDetailSerializer, created, include_internal=False),
            status=status.HTTP_201_CREATED,
        )


class GuestRequestDetailView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="guest_requests_retrieve",
        summary="One of my requests with its timeline",
        parameters=[REQUEST_PATH],
        responses={200: GuestRequestDetailSerializer, 401: NOT_SIGNED_IN, 404: REQUEST_NOT_FOUND},
    )
    def get(self, request: Request, request_id: int) -> Response:
        found = access_guest_request(actor_of(request), request_id)
        return Response(_render(request, GuestRequestDetailSerializer, found, include_internal=False))


class GuestRequestCancelView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="guest_requests_cancel",
        summary="Cancel one of my requests",
        description="Possible while the request is NEW or ACKNOWLEDGED; cancelling twice is a no-op.",
        parameters=[REQUEST_PATH],
        request=CancelSerializer,
        responses={
            200: GuestRequestDetailSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            404: REQUEST_NOT_FOUND,
            409: ILLEGAL,
        },
    )
    def post(self, request: Request, request_id: int) -> Response:
        actor = actor_of(request)
        found = access_guest_request(actor, request_id)
        data = parse(CancelSerializer, request.data)
        services.service_request_cancel_by_guest(actor=actor, request=found, reason=data["reason"])
        return Response(_render(request, GuestRequestDetailSerializer, found, include_internal=False))
