"""Hotels, members and departments API: parse, fetch through an access helper, call a service, render."""

from __future__ import annotations

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
    actor_of,
    client_ip,
    paginated,
    paginated_response,
    parse,
)
from refuje.common.api import ApiErrorSerializer as HotelApiErrorSerializer

from . import selectors, services
from .access import (
    access_department,
    access_hotel,
    access_member,
    access_membership,
    access_platform_operator,
)
from .models import Role
from .serializers import (
    DepartmentFilterSerializer,
    DepartmentSerializer,
    DepartmentWriteSerializer,
    HotelCreateSerializer,
    HotelSerializer,
    HotelUpdateSerializer,
    MemberFilterSerializer,
    MemberInviteSerializer,
    MemberSerializer,
    MemberUpdateSerializer,
)

TAG = "hotels"
MEMBER_PATH = OpenApiParameter(
    "member_id", {"type": "integer", "minimum": 1}, OpenApiParameter.PATH, description="Membership id."
)
DEPARTMENT_PATH = OpenApiParameter(
    "department_id", {"type": "integer", "minimum": 1}, OpenApiParameter.PATH, description="Department id."
)


# --- Hotels ---------------------------------------------------------------------------------


class HotelCollectionView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="hotels_list",
        summary="Hotels I work in (platform operators: all hotels)",
        parameters=PAGE_PARAMS,
        responses={200: paginated(HotelSerializer), 401: NOT_SIGNED_IN},
    )
    def get(self, request: Request) -> Response:
        hotels = selectors.hotel_list_for(user=actor_of(request))
        return paginated_response(request, self, hotels, HotelSerializer)

    @extend_schema(
        tags=[TAG],
        operation_id="hotels_create",
        summary="Create a hotel [platform operator]",
        description="Optionally names the first super admin by phone (created or promoted like an invite).",
        request=HotelCreateSerializer,
        responses={
            201: HotelSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: OpenApiResponse(
                HotelApiErrorSerializer, description="Not a platform operator (`platform_operator_required`)."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        actor = access_platform_operator(actor_of(request))
        data = parse(HotelCreateSerializer, request.data)
        invitee = data.pop("first_superadmin", None)
        hotel = services.hotel_create(
            actor=actor,
            first_superadmin=services.Invitee(**invitee) if invitee else None,
            ip=client_ip(request),
            **data,
        )
        hotel.my_role = Role.SUPERADMIN  # type: ignore[attr-defined]
        return Response(HotelSerializer(hotel, context={"request": request}).data, status=status.HTTP_201_CREATED)


class HotelDetailView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="hotels_retrieve",
        summary="A hotel I work in [VIEWER]",
        parameters=[HOTEL_PATH],
        responses={200: HotelSerializer, 401: NOT_SIGNED_IN, 404: NOT_FOUND},
    )
    def get(self, request: Request, hotel: str) -> Response:
        membership = access_membership(actor_of(request), hotel, minimum=Role.VIEWER)
        found = membership.hotel
        found.my_role = membership.role  # type: ignore[attr-defined]
        return Response(HotelSerializer(found, context={"request": request}).data)

    @extend_schema(
        tags=[TAG],
        operation_id="hotels_partial_update",
        summary="Change a hotel's settings [ADMIN]",
        description="Any subset of the fields. The slug cannot change (printed QR codes carry it).",
        parameters=[HOTEL_PATH],
        request=HotelUpdateSerializer,
        responses={
            200: HotelSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
        },
    )
    def patch(self, request: Request, hotel: str) -> Response:
        actor = actor_of(request)
        membership = access_membership(actor, hotel, minimum=Role.ADMIN)
        data = parse(HotelUpdateSerializer, request.data, partial=True)
        updated = services.hotel_update(actor=actor, hotel=membership.hotel, data=data, ip=client_ip(request))
        updated.my_role = membership.role  # type: ignore[attr-defined]
        return Response(HotelSerializer(updated, context={"request": request}).data)


# --- Members --------------------------------------------------------------------------------


class MemberCollectionView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="hotels_members_list",
        summary="Members of a hotel [ADMIN]",
        parameters=[HOTEL_PATH, *PAGE_PARAMS, MemberFilterSerializer],
        responses={
            200: paginated(MemberSerializer),
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, hotel: str) -> Response:
        found = access_hotel(actor_of(request), hotel, minimum=Role.ADMIN)
        filters = parse(MemberFilterSerializer, request.query_params.dict())
        members = selectors.member_list(
            hotel=found,
            role=filters.get("role"),
            is_active=filters.get("is_active"),
            department_id=filters.get("department"),
            search=filters.get("search", ""),
        )
        return paginated_response(request, self, members, MemberSerializer)

    @extend_schema(
        tags=[TAG],
        operation_id="hotels_members_invite",
        summary="Invite a member by phone [ADMIN]",
        description=(
            "Creates a staff account (no usable password) for a new phone, promotes an existing guest to "
            "staff (filling in a missing e-mail/name), or adds an existing staff account from another hotel. "
            "A removed member is reactivated. Only a super admin grants ADMIN or SUPERADMIN."
        ),
        parameters=[HOTEL_PATH],
        request=MemberInviteSerializer,
        responses={
            201: MemberSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
        },
    )
    def post(self, request: Request, hotel: str) -> Response:
        actor = actor_of(request)
        found = access_hotel(actor, hotel, minimum=Role.ADMIN)
        data = parse(MemberInviteSerializer, request.data)
        membership = services.member_invite(
            actor=actor,
            hotel=found,
            invitee=services.Invitee(phone=data["phone"], email=data.get("email"), full_name=data["full_name"]),
            role=data["role"],
            department_ids=data.get("departments", ()),
            ip=client_ip(request),
        )
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)


class MemberDetailView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="hotels_members_retrieve",
        summary="One member [ADMIN]",
        parameters=[HOTEL_PATH, MEMBER_PATH],
        responses={200: MemberSerializer, 401: NOT_SIGNED_IN, 403: ROLE_TOO_LOW, 404: NOT_FOUND},
    )
    def get(self, request: Request, hotel: str, member_id: int) -> Response:
        membership = access_member(actor_of(request), hotel, member_id, minimum=Role.ADMIN)
        return Response(MemberSerializer(membership).data)

    @extend_schema(
        tags=[TAG],
        operation_id="hotels_members_partial_update",
        summary="Change a member's role, departments or active flag [ADMIN]",
        description=(
            "Only a super admin grants or changes ADMIN/SUPERADMIN or edits an admin's membership. "
            "The hotel's last active super admin cannot be demoted or deactivated (409 `last_superadmin`)."
        ),
        parameters=[HOTEL_PATH, MEMBER_PATH],
        request=MemberUpdateSerializer,
        responses={
            200: MemberSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
            409: OpenApiResponse(HotelApiErrorSerializer, description="Last active super admin (`last_superadmin`)."),
        },
    )
    def patch(self, request: Request, hotel: str, member_id: int) -> Response:
        actor = actor_of(request)
        membership = access_member(actor, hotel, member_id, minimum=Role.ADMIN)
        data = parse(MemberUpdateSerializer, request.data, partial=True)
        updated = services.member_update(
            actor=actor,
            membership=membership,
            role=data.get("role"),
            department_ids=data.get("departments"),
            is_active=data.get("is_active"),
            ip=client_ip(request),
        )
        return Response(MemberSerializer(updated).data)

    @extend_schema(
        tags=[TAG],
        operation_id="hotels_members_deactivate",
        summary="Remove a member from this hotel [ADMIN]",
        description=(
            "Deactivates the membership (kept for history; inviting the phone again reactivates it). "
            "The person's account, sessions and other hotels are not touched."
        ),
        parameters=[HOTEL_PATH, MEMBER_PATH],
        request=None,
        responses={
            204: OpenApiResponse(description="Deactivated."),
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
            409: OpenApiResponse(HotelApiErrorSerializer, description="Last active super admin (`last_superadmin`)."),
        },
    )
    def delete(self, request: Request, hotel: str, member_id: int) -> Response:
        actor = actor_of(request)
        membership = access_member(actor, hotel, member_id, minimum=Role.ADMIN)
        services.member_deactivate(actor=actor, membership=membership, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Departments ----------------------------------------------------------------------------


class DepartmentCollectionView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="hotels_departments_list",
        summary="Departments of a hotel [VIEWER]",
        parameters=[HOTEL_PATH, *PAGE_PARAMS, DepartmentFilterSerializer],
        responses={200: paginated(DepartmentSerializer), 400: BAD_INPUT, 401: NOT_SIGNED_IN, 404: NOT_FOUND},
    )
    def get(self, request: Request, hotel: str) -> Response:
        found = access_hotel(actor_of(request), hotel, minimum=Role.VIEWER)
        filters = parse(DepartmentFilterSerializer, request.query_params.dict())
        departments = selectors.department_list(hotel=found, is_active=filters.get("is_active"))
        return paginated_response(request, self, departments, DepartmentSerializer)

    @extend_schema(
        tags=[TAG],
        operation_id="hotels_departments_create",
        summary="Create a department [ADMIN]",
        description="Arabic and English names are required and unique within the hotel (case-insensitive).",
        parameters=[HOTEL_PATH],
        request=DepartmentWriteSerializer,
        responses={
            201: DepartmentSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
        },
    )
    def post(self, request: Request, hotel: str) -> Response:
        actor = actor_of(request)
        found = access_hotel(actor, hotel, minimum=Role.ADMIN)
        data = parse(DepartmentWriteSerializer, request.data)
        department = services.department_create(actor=actor, hotel=found, ip=client_ip(request), **data)
        return Response(DepartmentSerializer(department).data, status=status.HTTP_201_CREATED)


class DepartmentDetailView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="hotels_departments_retrieve",
        summary="One department [VIEWER]",
        parameters=[HOTEL_PATH, DEPARTMENT_PATH],
        responses={200: DepartmentSerializer, 401: NOT_SIGNED_IN, 404: NOT_FOUND},
    )
    def get(self, request: Request, hotel: str, department_id: int) -> Response:
        department = access_department(actor_of(request), hotel, department_id, minimum=Role.VIEWER)
        return Response(DepartmentSerializer(department).data)

    @extend_schema(
        tags=[TAG],
        operation_id="hotels_departments_partial_update",
        summary="Change a department [ADMIN]",
        parameters=[HOTEL_PATH, DEPARTMENT_PATH],
        request=DepartmentWriteSerializer,
        responses={
            200: DepartmentSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
        },
    )
    def patch(self, request: Request, hotel: str, department_id: int) -> Response:
        actor = actor_of(request)
        department = access_department(actor, hotel, department_id, minimum=Role.ADMIN)
        data = parse(DepartmentWriteSerializer, request.data, partial=True)
        updated = services.department_update(actor=actor, department=department, data=data, ip=client_ip(request))
        return Response(DepartmentSerializer(updated).data)

    @extend_schema(
        tags=[TAG],
        operation_id="hotels_departments_destroy",
        summary="Delete a department, or deactivate it if anything refers to it [ADMIN]",
        description=(
            "An unused department is deleted (204). A department that members, requests, experiences or "
            "QR codes refer to is deactivated instead and returned (200, `is_active: false`), so history "
            "keeps its department."
        ),
        parameters=[HOTEL_PATH, DEPARTMENT_PATH],
        request=None,
        responses={
            200: DepartmentSerializer,
            204: OpenApiResponse(description="Deleted."),
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
        },
    )
    def delete(self, request: Request, hotel: str, department_id: int) -> Response:
        actor = actor_of(request)
        department = access_department(actor, hotel, department_id, minimum=Role.ADMIN)
        kept = services.department_delete(actor=actor, department=department, ip=client_ip(request))
        if kept is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(DepartmentSerializer(kept).data)
