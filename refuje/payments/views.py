"""Payments API: the payer's verify after the redirect, admin capture/refund/void, Moyasar webhooks.

Each view parses input, fetches through an access helper, calls one service and renders.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from refuje.common.api import (
    BAD_INPUT,
    HOTEL_PATH,
    NOT_FOUND,
    NOT_SIGNED_IN,
    ROLE_TOO_LOW,
    ApiErrorSerializer,
    actor_of,
    client_ip,
    parse,
)
from refuje.common.errors import ApiError, UpstreamFailed
from refuje.hotels.models import Role

from . import services
from .access import access_customer_payment, access_hotel_payment
from .models import Refund, RefundStatus
from .serializers import (
    CaptureInputSerializer,
    MoyasarWebhookSerializer,
    PaymentSerializer,
    RefundInputSerializer,
    RefundSerializer,
    VerifyInputSerializer,
    VoidInputSerializer,
    WebhookResultSerializer,
)

TAG = "payments"
PAYMENT_PATH = OpenApiParameter(
    "payment_id", {"type": "integer", "minimum": 1}, OpenApiParameter.PATH, description="Payment id."
)
CONFLICT = OpenApiResponse(
    ApiErrorSerializer,
    description=(
        "Not possible in the payment's state (`payment_not_capturable`, `payment_not_refundable`, "
        "`refund_exceeds_paid`, `payment_not_voidable`) or refused by Moyasar (`gateway_rejected`)."
    ),
)
UPSTREAM = OpenApiResponse(ApiErrorSerializer, description="Moyasar did not answer (`payment_provider_failed`).")


def _refund_response(refund: Refund) -> Response:
    refund = services.refund_raise_if_failed(refund)
    refund.payment.refresh_from_db()
    code = status.HTTP_202_ACCEPTED if refund.status == RefundStatus.PENDING else status.HTTP_200_OK
    return Response(RefundSerializer(refund).data, status=code)


class PaymentVerifyView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="payments_verify",
        summary="After the payment form's redirect: check the payment at Moyasar and apply it [the payer]",
        description=(
            "The server fetches the payment from Moyasar and accepts it only when it is this payment, "
            "with this amount and currency (otherwise 409 `payment_mismatch`, and the payment is flagged). "
            "The redirect's own query parameters are never trusted. `moyasar_id` is the `id` from the "
            "callback URL, when there is one. Only the paying customer may call this."
        ),
        parameters=[PAYMENT_PATH],
        request=VerifyInputSerializer,
        responses={
            200: PaymentSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            404: NOT_FOUND,
            409: OpenApiResponse(ApiErrorSerializer, description="`payment_mismatch` or `payment_not_found`."),
            502: UPSTREAM,
        },
    )
    def post(self, request: Request, payment_id: int) -> Response:
        payment = access_customer_payment(actor_of(request), payment_id)
        data = parse(VerifyInputSerializer, request.data)
        verified = services.payment_verify(payment=payment, moyasar_id=data.get("moyasar_id") or "")
        return Response(PaymentSerializer(verified).data)


class PaymentCaptureView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="hotels_payments_capture",
        summary="Capture an authorised payment [ADMIN]",
        description="Charges the authorisation (all of it, or `amount_minor`; the rest is released). Audited.",
        parameters=[HOTEL_PATH, PAYMENT_PATH],
        request=CaptureInputSerializer,
        responses={
            200: PaymentSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
            409: CONFLICT,
            502: UPSTREAM,
        },
    )
    def post(self, request: Request, hotel: str, payment_id: int) -> Response:
        actor = actor_of(request)
        payment = access_hotel_payment(actor, hotel, payment_id, minimum=Role.ADMIN)
        data = parse(CaptureInputSerializer, request.data)
        captured = services.payment_capture(
            payment=payment, actor=actor, amount_minor=data.get("amount_minor"), ip=client_ip(request)
        )
        return Response(PaymentSerializer(captured).data)


class PaymentRefundView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="hotels_payments_refund",
        summary="Refund part or all of a payment [ADMIN]",
        description=(
            "Refunds `amount_minor` (or everything that is left). Refunds of a payment never add up to "
            "more than was paid. 200 when Moyasar confirmed it; 202 when Moyasar did not answer in time: "
            "the refund stays `pending` and a job settles it. Audited."
        ),
        parameters=[HOTEL_PATH, PAYMENT_PATH],
        request=RefundInputSerializer,
        responses={
            200: RefundSerializer,
            202: RefundSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )
    def post(self, request: Request, hotel: str, payment_id: int) -> Response:
        actor = actor_of(request)
        payment = access_hotel_payment(actor, hotel, payment_id, minimum=Role.ADMIN)
        data = parse(RefundInputSerializer, request.data)
        refund = services.payment_refund(
            payment=payment,
            actor=actor,
            amount_minor=data.get("amount_minor"),
            reason=data["reason"],
            ip=client_ip(request),
        )
        return _refund_response(refund)


class PaymentVoidView(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="hotels_payments_void",
        summary="Void an authorisation, or a charge not yet settled [ADMIN]",
        description="200 when Moyasar confirmed it; 202 when it did not answer in time (a job settles it). Audited.",
        parameters=[HOTEL_PATH, PAYMENT_PATH],
        request=VoidInputSerializer,
        responses={
            200: RefundSerializer,
            202: RefundSerializer,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: ROLE_TOO_LOW,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )
    def post(self, request: Request, hotel: str, payment_id: int) -> Response:
        actor = actor_of(request)
        payment = access_hotel_payment(actor, hotel, payment_id, minimum=Role.ADMIN)
        data = parse(VoidInputSerializer, request.data)
        refund = services.payment_void(
            payment=payment, actor=actor, reason=data.get("reason", ""), ip=client_ip(request)
        )
        return _refund_response(refund)


class WebhookForbidden(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = _("The webhook secret is missing or wrong.")
    default_code = "webhook_forbidden"


class UpstreamUnavailable(ApiError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The payment provider could not be reached. Please deliver the event again later.")
    default_code = "payment_provider_failed"


class MoyasarWebhookView(APIView):
    # Called by Moyasar, not a browser: authenticated by the shared secret in the body, no cookies.
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]

    @extend_schema(
        tags=[TAG],
        operation_id="webhooks_moyasar",
        summary="Moyasar webhook",
        description=(
            "The body's `secret_token` must equal MOYASAR_WEBHOOK_SECRET (compared in constant time); "
            "403 when it is unset or wrong, and nothing is stored. Events are stored by their id, so "
            "repeats are harmless; the payment is then fetched from Moyasar and applied."
        ),
        request=MoyasarWebhookSerializer,
        responses={
            200: WebhookResultSerializer,
            400: BAD_INPUT,
            403: OpenApiResponse(ApiErrorSerializer, description="Secret missing or wrong (`webhook_forbidden`)."),
            503: OpenApiResponse(ApiErrorSerializer, description="Moyasar could not be reached; retry later."),
        },
    )
    def post(self, request: Request) -> Response:
        try:
            body = request.data
        except exceptions.ParseError:
            body = None
        token = body.get("secret_token") if isinstance(body, dict) else None
        if not services.webhook_secret_matches(token):
            raise WebhookForbidden()
        assert isinstance(body, dict)  # noqa: S101 - a matching token came from a dict
        data = parse(MoyasarWebhookSerializer, body)
        try:
            event = services.moyasar_webhook_handle(
                event_id=data["id"],
                event_type=data["type"],
                object_id=data["data"]["id"],
                live=data.get("live"),
                payload={key: value for key, value in data.items() if key != "secret_token"},
            )
        except UpstreamFailed as exc:
            # Moyasar retries a non-2xx delivery; 503 says "later", the event stays stored and unprocessed.
            raise UpstreamUnavailable() from exc
        return Response({"outcome": event.outcome})
