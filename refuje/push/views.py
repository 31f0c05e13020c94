"""Web push API for any signed-in user: the VAPID public key and this browser's subscription."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from refuje.common.api import BAD_INPUT, NOT_SIGNED_IN, ApiErrorSerializer, actor_of, parse

from . import services
from .serializers import (
    SubscriptionDeleteSerializer,
    SubscriptionSerializer,
    SubscriptionWriteSerializer,
    VapidPublicKeySerializer,
)

TAG = "push"
NOT_CONFIGURED = OpenApiResponse(
    ApiErrorSerializer, description="Web push is not set up on this server (`push_not_configured`)."
)


class VapidPublicKeyView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="push_vapid_public_key",
        summary="The VAPID public key for PushManager.subscribe()",
        responses={200: VapidPublicKeySerializer, 401: NOT_SIGNED_IN, 404: NOT_CONFIGURED},
    )
    def get(self, request: Request) -> Response:
        actor_of(request)
        config = services.push_config_required()
        return Response(VapidPublicKeySerializer({"public_key": config.public_key}).data)


class SubscriptionView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="push_subscriptions_upsert",
        summary="Register this browser's push subscription",
        description=(
            "The body is `PushSubscription.toJSON()`. The endpoint identifies the browser: registering "
            "it again updates the keys (200), and an endpoint registered by another user moves to you. "
            "Only https push services on public hosts are accepted."
        ),
        request=SubscriptionWriteSerializer,
        responses={
            200: SubscriptionSerializer,
            201: SubscriptionSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            404: NOT_CONFIGURED,
        },
    )
    def post(self, request: Request) -> Response:
        actor = actor_of(request)
        services.push_config_required()
        data = parse(SubscriptionWriteSerializer, request.data)
        subscription, created = services.push_subscription_upsert(
            user=actor,
            endpoint=data["endpoint"],
            p256dh=data["keys"]["p256dh"],
            auth=data["keys"]["auth"],
            user_agent=str(request.headers.get("User-Agent", "")),
        )
        return Response(
            SubscriptionSerializer(subscription).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @extend_schema(
        tags=[TAG],
        operation_id="push_subscriptions_delete",
        summary="Remove one of your push subscriptions",
        description='Send `{"endpoint": "…"}` as the JSON body, or the `endpoint` query parameter.',
        parameters=[
            OpenApiParameter(
                "endpoint", str, description="The subscription's endpoint (instead of a JSON body).", required=False
            )
        ],
        responses={
            204: OpenApiResponse(description="Removed."),
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            404: OpenApiResponse(ApiErrorSerializer, description="No such subscription of yours (`not_found`)."),
        },
    )
    def delete(self, request: Request) -> Response:
        actor = actor_of(request)
        source = request.data if request.data else request.query_params
        data = parse(SubscriptionDeleteSerializer, source)
        services.push_subscription_delete(user=actor, endpoint=data["endpoint"])
        return Response(status=status.HTTP_204_NO_CONTENT)
