"""Hotel health API: is the escalation job alive, are the other periodic jobs, and what waits."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from refuje.common.api import HOTEL_PATH, NOT_FOUND, NOT_SIGNED_IN, ROLE_TOO_LOW, actor_of
from refuje.hotels.access import access_membership
from refuje.hotels.models import Role

from .health_selectors import hotel_health
from .health_serializers import HotelHealthSerializer


class HotelHealthView(APIView):
    @extend_schema(
        tags=["health"],
        operation_id="hotels_health_retrieve",
        summary="Job health and requests waiting unnoticed [VIEWER]",
        description=(
            "The escalation job's heartbeat (last run, age, healthy, duration, requests escalated, last error), "
            "the health of every other periodic job (stale when its last run is older than its period times "
            "JOB_HEALTH_STALE_FACTOR), and this hotel's NEW requests past their deadline or escalated. Below "
            "ADMIN the request numbers cover your departments only."
        ),
        parameters=[HOTEL_PATH],
        responses={200: HotelHealthSerializer, 401: NOT_SIGNED_IN, 403: ROLE_TOO_LOW, 404: NOT_FOUND},
    )
    def get(self, request: Request, hotel: str) -> Response:
        membership = access_membership(actor_of(request), hotel, minimum=Role.VIEWER)
        response = Response(HotelHealthSerializer(hotel_health(membership=membership)).data)
        response["Cache-Control"] = "no-store"
        return response
