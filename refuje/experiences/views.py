"""Experiences API: parse, fetch through an access helper, call a service, render."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
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
from refuje.hotels.access import access_hotel
from refuje.hotels.models import Role

from . import selectors, services
from .access import access_experience, access_experience_image
from .serializers import (
    ExperienceFilterSerializer,
    ExperienceImageSerializer,
    ExperienceImageUploadSerializer,
    ExperienceSerializer,
    ExperienceWriteSerializer,
)

TAG = "experiences"
EXPERIENCE_PATH = OpenApiParameter(
    "experience_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Experience id."
)
IMAGE_PATH = OpenApiParameter("image_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Image id.")
DEPARTMENT_400 = (
    " A department of another hotel, or an unknown one, is a 400 field error on `department` (`foreign_department`)."
)


def _write_arguments(request: Request, *, partial: bool) -> dict[str, Any]:
    serializer = ExperienceWriteSerializer(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.service_arguments()


class ExperienceCollectionView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="experiences_list",
        summary="Experiences of a hotel [VIEWER]",
        parameters=[HOTEL_PATH, *PAGE_PARAMS, ExperienceFilterSerializer],
        responses={200: paginated(ExperienceSerializer), 400: BAD_INPUT, 401: NOT_SIGNED_IN, 404: NOT_FOUND},
    )
    def get(self, request: Request, hotel: str) -> Response:
        found = access_hotel(actor_of(request), hotel, minimum=Role.VIEWER)
        filters = parse(ExperienceFilterSerializer, request.query_params.dict())
        experiences = selectors.experience_list(
            hotel=found, is_active=filters.get("is_active"), department_id=filters.get("department")
        )
        return paginated_response(request, self, experiences, ExperienceSerializer)

    @extend_schema(
        tags=[TAG],
        operation_id="experiences_create",
        summary="Create an experience [ADMIN]",
        description="Price in integer minor units; the currency defaults to the hotel's." + DEPARTMENT_400,
        parameters=[HOTEL_PATH],
        request=ExperienceWriteSerializer,
        responses={
            201: ExperienceSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
        },
    )
    def post(self, request: Request, hotel: str) -> Response:
        actor = actor_of(request)
        found = access_hotel(actor, hotel, minimum=Role.ADMIN)
        arguments = _write_arguments(request, partial=False)
        experience = services.experience_create(actor=actor, hotel=found, ip=client_ip(request), **arguments)
        return Response(
            ExperienceSerializer(experience, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class ExperienceDetailView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="experiences_retrieve",
        summary="One experience [VIEWER]",
        parameters=[HOTEL_PATH, EXPERIENCE_PATH],
        responses={200: ExperienceSerializer, 401: NOT_SIGNED_IN, 404: NOT_FOUND},
    )
    def get(self, request: Request, hotel: str, experience_id: int) -> Response:
        experience = access_experience(actor_of(request), hotel, experience_id, minimum=Role.VIEWER)
        return Response(ExperienceSerializer(experience, context={"request": request}).data)

    @extend_schema(
        tags=[TAG],
        operation_id="experiences_partial_update",
        summary="Change an experience [ADMIN]",
        description="Any subset of the fields; `price.currency` left out keeps the current currency." + DEPARTMENT_400,
        parameters=[HOTEL_PATH, EXPERIENCE_PATH],
        request=ExperienceWriteSerializer,
        responses={
            200: ExperienceSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
        },
    )
    def patch(self, request: Request, hotel: str, experience_id: int) -> Response:
        actor = actor_of(request)
        experience = access_experience(actor, hotel, experience_id, minimum=Role.ADMIN)
        arguments = _write_arguments(request, partial=True)
        updated = services.experience_update(actor=actor, experience=experience, data=arguments, ip=client_ip(request))
        return Response(ExperienceSerializer(updated, context={"request": request}).data)

    @extend_schema(
        tags=[TAG],
        operation_id="experiences_deactivate",
        summary="Remove an experience from the catalogue [ADMIN]",
        description=(
            "Deactivates the experience (bookings, requests, reviews and printed QR codes keep referring "
            "to it); guests no longer see it. PATCH `is_active: true` restores it."
        ),
        parameters=[HOTEL_PATH, EXPERIENCE_PATH],
        request=None,
        responses={
            204: OpenApiResponse(description="Deactivated."),
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
        },
    )
    def delete(self, request: Request, hotel: str, experience_id: int) -> Response:
        actor = actor_of(request)
        experience = access_experience(actor, hotel, experience_id, minimum=Role.ADMIN)
        services.experience_deactivate(actor=actor, experience=experience, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExperienceImageCollectionView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        tags=[TAG],
        operation_id="experiences_images_create",
        summary="Add an image to an experience [ADMIN]",
        description=(
            "Multipart upload. JPEG, PNG or WebP by content; re-encoded without metadata, resized, with a "
            "thumbnail. Unusable files are a 400 on `image` and nothing is stored."
        ),
        parameters=[HOTEL_PATH, EXPERIENCE_PATH],
        request=ExperienceImageUploadSerializer,
        responses={
            201: ExperienceImageSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
            409: OpenApiResponse(ApiErrorSerializer, description="The experience has its maximum of images."),
            413: OpenApiResponse(ApiErrorSerializer, description="The file is too large (`image_too_large`)."),
            415: OpenApiResponse(ApiErrorSerializer, description="Not a multipart or form request."),
        },
    )
    def post(self, request: Request, hotel: str, experience_id: int) -> Response:
        actor = actor_of(request)
        experience = access_experience(actor, hotel, experience_id, minimum=Role.ADMIN)
        data = parse(ExperienceImageUploadSerializer, request.data)
        image = services.experience_image_add(
            actor=actor,
            experience=experience,
            prepared=data["image"],
            alt_ar=data["alt_ar"],
            alt_en=data["alt_en"],
            ip=client_ip(request),
        )
        return Response(
            ExperienceImageSerializer(image, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class ExperienceImageDetailView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="experiences_images_destroy",
        summary="Remove an image from an experience [ADMIN]",
        description="The row goes at once; the stored files are deleted when the change is committed.",
        parameters=[HOTEL_PATH, EXPERIENCE_PATH, IMAGE_PATH],
        request=None,
        responses={
            204: OpenApiResponse(description="Removed."),
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
        },
    )
    def delete(self, request: Request, hotel: str, experience_id: int, image_id: int) -> Response:
        actor = actor_of(request)
        image = access_experience_image(actor, hotel, experience_id, image_id, minimum=Role.ADMIN)
        services.experience_image_remove(actor=actor, image=image, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
