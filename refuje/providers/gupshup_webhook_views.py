"""The Gupshup callback endpoint: check the shared secret, parse, apply, answer 204 at once."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from refuje.common.api import ApiErrorSerializer
from refuje.common.errors import ApiError

from .gupshup_webhook import bearer_token, gupshup_callback_handle, webhook_secret_matches

logger = logging.getLogger(__name__)

TAG = "webhooks"


class WebhookForbidden(ApiError):
    status_code = 403
    default_detail = _("The webhook secret is missing or wrong.")
    default_code = "webhook_forbidden"


class WebhookBodyInvalid(ApiError):
    default_detail = _("The webhook body is not JSON.")
    default_code = "webhook_body_invalid"


class WebhookBodyTooLarge(ApiError):
    status_code = 413
    default_detail = _("The webhook body is too large.")
    default_code = "webhook_body_too_large"


DESCRIPTION = (
    "Delivery reports of our WhatsApp messages (v2 `message-event` envelope or the Meta-style v3 body). "
    "The shared secret GUPSHUP_WEBHOOK_SECRET comes as `Authorization: Bearer <secret>` (Partner API "
    "subscription headers) or as the last path segment (`/webhooks/gupshup/<secret>/`); 403 when it is not "
    "configured or does not match. A failed one-time-code message triggers the SMS fallback; other reports "
    "update the notification deliveries. Any JSON body is acknowledged with an empty 204."
)
RESPONSES = {
    204: OpenApiResponse(description="Accepted (also for events we do not act on)."),
    400: OpenApiResponse(ApiErrorSerializer, description="The body is not JSON (`webhook_body_invalid`)."),
    403: OpenApiResponse(ApiErrorSerializer, description="No secret configured, or a wrong one (`webhook_forbidden`)."),
    413: OpenApiResponse(ApiErrorSerializer, description="The body is too large (`webhook_body_too_large`)."),
}
TOKEN_PATH = OpenApiParameter(
    "token", {"type": "string", "maxLength": 200}, OpenApiParameter.PATH, description="The shared webhook secret."
)


class _GupshupWebhookBase(APIView):
    # Gupshup signs in with the shared secret only: no sessions, no cookies, so no CSRF either.
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def _handle(self, request: Request, supplied: str) -> Response:
        if not webhook_secret_matches(supplied):
            raise WebhookForbidden()
        try:
            raw = request.body
        except RequestDataTooBig as exc:
            raise WebhookBodyTooLarge() from exc
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise WebhookBodyInvalid() from exc
        outcomes = gupshup_callback_handle(body)
        if outcomes:
            logger.debug("gupshup callback: %s", outcomes)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GupshupWebhookView(_GupshupWebhookBase):
    @extend_schema(
        tags=[TAG],
        operation_id="webhooks_gupshup_create",
        summary="Gupshup delivery reports (secret in the Authorization header)",
        description=DESCRIPTION,
        request=OpenApiTypes.OBJECT,
        responses=RESPONSES,
    )
    def post(self, request: Request) -> Response:
        return self._handle(request, bearer_token(request.headers.get("Authorization", "")))


class GupshupTokenWebhookView(_GupshupWebhookBase):
    @extend_schema(
        tags=[TAG],
        operation_id="webhooks_gupshup_token_create",
        summary="Gupshup delivery reports (secret in the callback URL)",
        description=DESCRIPTION,
        parameters=[TOKEN_PATH],
        request=OpenApiTypes.OBJECT,
        responses=RESPONSES,
    )
    def post(self, request: Request, token: str) -> Response:
        return self._handle(request, token)
