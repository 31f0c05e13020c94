"""Statistics API: parse the period, fetch the membership, read the numbers, render."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from refuje.common.api import HOTEL_PATH, NOT_FOUND, NOT_SIGNED_IN, ROLE_TOO_LOW, actor_of, parse
from refuje.hotels.access import access_membership
from refuje.hotels.models import Role

from . import selectors
from .serializers import HotelStatsSerializer, StatsQuerySerializer

TAG = "stats"
BOUNDARY_HELP = (
    "An ISO 8601 date (`2025-01-31`) or date and time (`2025-01-31T08:00`, optionally with an offset). "
    "Without an offset it is read in the hotel's time zone."
)
PERIOD_PARAMS = [
    OpenApiParameter(
        "from",
        str,
        description=f"Start of the period (default: 30 days before `to`). {BOUNDARY_HELP}",
    ),
    OpenApiParameter(
        "to",
        str,
        description=f"End of the period (default: now); a date includes that whole day. {BOUNDARY_HELP}",
    ),
]
BAD_PERIOD = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description=(
        'A bad period: `from`/`to` not ISO dates (field errors `{"from": [...], "code": "invalid"}`), '
        'or `{"detail", "code"}` with `from` after `to` '
        "(`period_reversed`), longer than 366 days (`period_too_long`) or out of range (`period_out_of_range`)."
    ),
)


class HotelStatsView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="hotels_stats_retrieve",
        summary="Request statistics of a period [STAFF; below ADMIN only your departments']",
        description=(
            "Counts of the requests created in the period by status and by department, time to acknowledge and "
            "to complete (median and 90th percentile, seconds), SLA breach rate, escalations, the after-hours "
            "share, requests per hour of the day on the hotel's clock, and the ratings of the published reviews."
        ),
        parameters=[HOTEL_PATH, *PERIOD_PARAMS],
        responses={
            200: HotelStatsSerializer,
            400: BAD_PERIOD,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, hotel: str) -> Response:
        # Membership first: another hotel's slug is a 404 whatever the query says.
        membership = access_membership(actor_of(request), hotel, minimum=Role.STAFF)
        query = parse(StatsQuerySerializer, request.query_params.dict())
        period = selectors.stats_period(hotel=membership.hotel, start=query.get("from"), end=query.get("to"))
        stats = selectors.hotel_stats(membership=membership, period=period)
        return Response(HotelStatsSerializer(stats).data)
