"""QR codes API [ADMIN]: list, create, change, and the printable PNG, SVG and A4 PDF sheet."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
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
from refuje.hotels.access import access_hotel
from refuje.hotels.models import Role

from . import rendering, selectors, services
from .access import access_qr_code
from .models import QRCode
from .serializers import (
    QRCodeCreateSerializer,
    QRCodeFilterSerializer,
    QRCodeSerializer,
    QRCodeUpdateSerializer,
    QRSheetQuerySerializer,
)

TAG = "qr-codes"
QR_PATH = OpenApiParameter("qr_code_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="QR code id.")
IDS_PARAM = OpenApiParameter(
    "ids",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    description="Only these codes: comma-separated ids (`3,7,12`), or the parameter repeated.",
)
# Browsers and printers fetch these on their own; the token in them is no secret to whoever holds the print.
IMAGE_CACHE_CONTROL = "private, max-age=300"


class JsonErrorsNegotiation(BaseContentNegotiation):
    """The file itself is built by hand; anything else (errors) is JSON whatever the client accepts,
    so `Accept: image/png` can never turn an error into a 406."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, str(renderer.media_type)


def file_response(content: bytes, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(False, filename) or "inline"
    response["Cache-Control"] = IMAGE_CACHE_CONTROL
    return response


def binary(media_type: str, description: str) -> dict[Any, Any]:
    return {(200, media_type): OpenApiResponse(OpenApiTypes.BINARY, description=description)}


class QRCodeCollectionView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="qr_codes_list",
        summary="QR codes of a hotel [ADMIN]",
        parameters=[HOTEL_PATH, *PAGE_PARAMS, QRCodeFilterSerializer],
        responses={
            200: paginated(QRCodeSerializer),
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, hotel: str) -> Response:
        found = access_hotel(actor_of(request), hotel, minimum=Role.ADMIN)
        filters = parse(QRCodeFilterSerializer, request.query_params.dict())
        codes = selectors.qr_code_list(
            hotel=found, is_active=filters.get("is_active"), target_type=filters.get("target_type")
        )
        return paginated_response(request, self, codes, QRCodeSerializer)

    @extend_schema(
        tags=[TAG],
        operation_id="qr_codes_create",
        summary="Create a QR code [ADMIN]",
        description=(
            "Give `target_type` and exactly its field: `room_number`, `location_label`, `department` or "
            "`experience` (of this hotel; anything else is a 400 on that field). The token is generated "
            "(192 random bits) and the target is fixed for the life of the code."
        ),
        parameters=[HOTEL_PATH],
        request=QRCodeCreateSerializer,
        responses={
            201: QRCodeSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
        },
    )
    def post(self, request: Request, hotel: str) -> Response:
        actor = actor_of(request)
        found = access_hotel(actor, hotel, minimum=Role.ADMIN)
        serializer = QRCodeCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        code = services.qr_code_create(
            actor=actor, hotel=found, ip=client_ip(request), **serializer.service_arguments()
        )
        return Response(QRCodeSerializer(code, context={"request": request}).data, status=status.HTTP_201_CREATED)


class QRCodeDetailView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="qr_codes_retrieve",
        summary="One QR code [ADMIN]",
        parameters=[HOTEL_PATH, QR_PATH],
        responses={200: QRCodeSerializer, 401: NOT_SIGNED_IN, 403: ROLE_TOO_LOW, 404: NOT_FOUND},
    )
    def get(self, request: Request, hotel: str, qr_code_id: int) -> Response:
        code = access_qr_code(actor_of(request), hotel, qr_code_id, minimum=Role.ADMIN)
        return Response(QRCodeSerializer(code, context={"request": request}).data)

    @extend_schema(
        tags=[TAG],
        operation_id="qr_codes_partial_update",
        summary="Rename, deactivate or reactivate a QR code [ADMIN]",
        description="A deactivated code answers 404 when scanned, exactly like an unknown one.",
        parameters=[HOTEL_PATH, QR_PATH],
        request=QRCodeUpdateSerializer,
        responses={
            200: QRCodeSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
        },
    )
    def patch(self, request: Request, hotel: str, qr_code_id: int) -> Response:
        actor = actor_of(request)
        code = access_qr_code(actor, hotel, qr_code_id, minimum=Role.ADMIN)
        data = parse(QRCodeUpdateSerializer, request.data, partial=True)
        updated = services.qr_code_update(actor=actor, code=code, data=data, ip=client_ip(request))
        return Response(QRCodeSerializer(updated, context={"request": request}).data)


def _image_filename(code: QRCode, extension: str) -> str:
    return f"qr-{code.hotel.slug}-{code.pk}.{extension}"


class QRCodePngView(APIView):
    content_negotiation_class = JsonErrorsNegotiation

    @extend_schema(
        tags=[TAG],
        operation_id="qr_codes_image_png",
        summary="The code as a PNG image [ADMIN]",
        parameters=[HOTEL_PATH, QR_PATH],
        responses={
            **binary("image/png", "The QR code (10 px per module, quiet zone included)."),
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, hotel: str, qr_code_id: int) -> HttpResponse:
        code = access_qr_code(actor_of(request), hotel, qr_code_id, minimum=Role.ADMIN)
        return file_response(
            rendering.qr_png(rendering.landing_url(code)),
            content_type="image/png",
            filename=_image_filename(code, "png"),
        )


class QRCodeSvgView(APIView):
    content_negotiation_class = JsonErrorsNegotiation

    @extend_schema(
        tags=[TAG],
        operation_id="qr_codes_image_svg",
        summary="The code as an SVG image [ADMIN]",
        parameters=[HOTEL_PATH, QR_PATH],
        responses={
            **binary("image/svg+xml", "The QR code as a vector image, for print at any size."),
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, hotel: str, qr_code_id: int) -> HttpResponse:
        code = access_qr_code(actor_of(request), hotel, qr_code_id, minimum=Role.ADMIN)
        return file_response(
            rendering.qr_svg(rendering.landing_url(code), title=code.label),
            content_type="image/svg+xml",
            filename=_image_filename(code, "svg"),
        )


class QRCodeSheetView(APIView):
    content_negotiation_class = JsonErrorsNegotiation

    @extend_schema(
        tags=[TAG],
        operation_id="qr_codes_sheet_pdf",
        summary="Printable A4 sheet of the hotel's active codes [ADMIN]",
        description=(
            f"{rendering.CODES_PER_PAGE} codes a page with their labels and targets, as many pages as "
            "needed. `ids` chooses a subset; an id that is not an active code of this hotel is a 400."
        ),
        parameters=[HOTEL_PATH, IDS_PARAM],
        responses={
            **binary("application/pdf", "A4 pages, one PDF."),
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, hotel: str) -> HttpResponse:
        found = access_hotel(actor_of(request), hotel, minimum=Role.ADMIN)
        raw_ids = request.query_params.getlist("ids")
        ids = parse(QRSheetQuerySerializer, {"ids": raw_ids}).get("ids") if raw_ids else None
        codes = selectors.qr_codes_for_sheet(hotel=found, ids=ids)
        return file_response(
            rendering.qr_sheet_pdf(hotel=found, codes=codes),
            content_type="application/pdf",
            filename=f"qr-codes-{found.slug}.pdf",
        )
