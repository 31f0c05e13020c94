"""Notifications API (any signed-in user, own notifications only: someone else's is a 404)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from refuje.common.api import (
    BAD_INPUT,
    NOT_SIGNED_IN,
    PAGE_PARAMS,
    ApiErrorSerializer,
    actor_of,
    paginated,
    paginated_response,
    parse,
)

from . import selectors, services
from .serializers import (
    NotificationFilterSerializer,
    NotificationSerializer,
    PreferenceSerializer,
    PreferenceUpdateSerializer,
    ReadAllSerializer,
    UnreadCountSerializer,
)

TAG = "notifications"
NOTIFICATION_PATH = OpenApiParameter(
    "notification_id", {"type": "integer", "minimum": 1}, OpenApiParameter.PATH, description="Notification id."
)
NOTIFICATION_NOT_FOUND = OpenApiResponse(
    ApiErrorSerializer, description="No such notification of yours (`not_found`), whoever else it belongs to."
)


class NotificationListView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="notifications_list",
        summary="My notifications, newest first",
        parameters=[*PAGE_PARAMS, NotificationFilterSerializer],
        responses={200: paginated(NotificationSerializer), 400: BAD_INPUT, 401: NOT_SIGNED_IN},
    )
    def get(self, request: Request) -> Response:
        actor = actor_of(request)
        filters = parse(NotificationFilterSerializer, request.query_params.dict())
        notifications = selectors.notification_list(recipient=actor, unread=filters.get("unread"))
        return paginated_response(request, self, notifications, NotificationSerializer)


class UnreadCountView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="notifications_unread_count",
        summary="How many of my notifications are unread",
        responses={200: UnreadCountSerializer, 401: NOT_SIGNED_IN},
    )
    def get(self, request: Request) -> Response:
        return Response({"count": selectors.unread_count(recipient=actor_of(request))})


class NotificationReadView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="notifications_read",
        summary="Mark one of my notifications read",
        description="Marking it again keeps the first read time.",
        parameters=[NOTIFICATION_PATH],
        request=None,
        responses={200: NotificationSerializer, 401: NOT_SIGNED_IN, 404: NOTIFICATION_NOT_FOUND},
    )
    def post(self, request: Request, notification_id: int) -> Response:
        found = services.notification_mark_read(recipient=actor_of(request), notification_id=notification_id)
        found = selectors.notification_list(recipient=found.recipient).get(pk=found.pk)
        return Response(NotificationSerializer(found).data)


class ReadAllView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="notifications_read_all",
        summary="Mark all my notifications read",
        request=None,
        responses={200: ReadAllSerializer, 401: NOT_SIGNED_IN},
    )
    def post(self, request: Request) -> Response:
        return Response({"updated": services.notification_mark_all_read(recipient=actor_of(request))})


class PreferenceView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="notifications_preferences_retrieve",
        summary="My notification channels and muted kinds",
        description=(
            "In-app notifications are always kept. Staff alerts (new, still waiting, overdue requests) "
            "can't be muted; staff without a working push subscription get them by WhatsApp or SMS."
        ),
        responses={200: PreferenceSerializer, 401: NOT_SIGNED_IN},
    )
    def get(self, request: Request) -> Response:
        return Response(PreferenceSerializer(selectors.preference_of(actor_of(request))).data)

    @extend_schema(
        tags=[TAG],
        operation_id="notifications_preferences_update",
        summary="Change my notification channels and muted kinds",
        request=PreferenceUpdateSerializer,
        responses={200: PreferenceSerializer, 400: BAD_INPUT, 401: NOT_SIGNED_IN},
    )
    def patch(self, request: Request) -> Response:
        actor = actor_of(request)
        changes = parse(PreferenceUpdateSerializer, request.data, partial=True)
        preference = services.preference_update(user=actor, changes=changes)
        return Response(PreferenceSerializer(preference).data)
