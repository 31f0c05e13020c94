"""Endpoints anyone may call: what a QR code opens, and a hotel's public catalogue.

Authentication stays the API default, which ignores a stale or revoked access cookie, so a
guest whose old sign-in expired still reaches these pages.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from refuje.common.api import ApiErrorSerializer
from refuje.common.errors import NotFound
from refuje.experiences.selectors import experience_public_list
from refuje.qrcodes.services import qr_code_register_scan

from . import selectors
from .serializers import PublicHotelSerializer, PublicQRCodeSerializer

TAG = "public"
NOT_FOUND = OpenApiResponse(ApiErrorSerializer, description="Unknown or inactive (`not_found`).")
LANGUAGE_HEADER = OpenApiParameter(
    "Accept-Language",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="`ar` or `en`: the language of the `name`/`title`/`description` fields.",
)


class PublicQRCodeView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=[TAG],
        operation_id="public_qr_resolve",
        summary="What a scanned QR code opens: hotel branding and the target",
        description=(
            "Counts the scan. Unknown codes, inactive codes and codes whose hotel, department or "
            "experience is inactive all answer the same 404."
        ),
        parameters=[
            OpenApiParameter("token", OpenApiTypes.STR, OpenApiParameter.PATH, description="The code's token."),
            LANGUAGE_HEADER,
        ],
        responses={200: PublicQRCodeSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, token: str) -> Response:
        code = qr_code_register_scan(token=token)
        response = Response(PublicQRCodeSerializer(code, context={"request": request}).data)
        # Every scan must reach us to be counted; no cache may answer in our place.
        response["Cache-Control"] = "no-store"
        return response


class PublicHotelView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=[TAG],
        operation_id="public_hotel_retrieve",
        summary="A hotel's branding, languages, active departments and active experiences",
        parameters=[
            OpenApiParameter("hotel", OpenApiTypes.STR, OpenApiParameter.PATH, description="Hotel slug."),
            LANGUAGE_HEADER,
        ],
        responses={200: PublicHotelSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, hotel: str) -> Response:
        found = selectors.public_hotel(slug=hotel)
        if found is None:
            raise NotFound()
        context = {
            "request": request,
            "departments": list(selectors.public_department_list(hotel=found)),
            "experiences": list(experience_public_list(hotel=found)),
        }
        return Response(PublicHotelSerializer(found, context=context).data)
