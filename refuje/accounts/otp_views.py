"""OTP endpoints: send a code, sign in with it, or prove a phone while signed in."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from refuje.common.api import actor_of
from refuje.common.ratelimit import client_ip
from refuje.stays.serializers import OwnStaySerializer
from refuje.stays.services import stay_for_sign_in

from .fingerprint import DeviceSignal, device_signal, set_device_cookie
from .otp import OtpInvalid, otp_send, otp_sign_in, otp_verify_phone
from .otp_serializers import (
    OtpDeliveryFailedSerializer,
    OtpErrorSerializer,
    OtpRateLimitedSerializer,
    OtpSendResultSerializer,
    OtpSendSerializer,
    OtpSendValidationErrorSerializer,
    OtpSignedInSerializer,
    OtpVerifyErrorSerializer,
    OtpVerifySerializer,
    PhoneVerifySerializer,
)
from .permissions import CsrfProtected
from .serializers import UserSerializer
from .sessions import session_start, signed_in_response

_BAD_INPUT = OpenApiResponse(
    OtpSendValidationErrorSerializer,
    description=_('Invalid input: field errors such as {"phone": ["…"], "code": "invalid"}.'),
)
_CODE_REJECTED = OpenApiResponse(
    OtpVerifyErrorSerializer,
    description=_("Invalid input (field errors), or the code was refused (otp_invalid, otp_expired, …)."),
)
_CSRF_OR_ACCOUNT = OpenApiResponse(
    OtpErrorSerializer, description=_("CSRF check failed, or the account may not sign in.")
)
_RATE_LIMITED = OpenApiResponse(OtpRateLimitedSerializer, description=_("Too many attempts; see Retry-After."))


def _parse(serializer_class: type[Serializer[Any]], request: Request) -> dict[str, Any]:
    params = serializer_class(data=request.data)
    if params.is_valid():
        return dict(params.validated_data)
    errors = dict(params.errors)
    code_errors = errors.pop("code", None)
    if code_errors and not errors:
        # A field called "code" would collide with the error body's own "code" key.
        raise OtpInvalid(" ".join(str(message) for message in code_errors))
    raise ValidationError(errors)


def _request_language() -> str:
    return (translation.get_language() or "")[:2]


class OtpSendView(APIView):
    permission_classes = [CsrfProtected, AllowAny]
    device: DeviceSignal | None = None

    @extend_schema(
        operation_id="auth_otp_send",
        tags=["auth"],
        summary=_("Send a one-time code"),
        description=_(
            "Sends a 6-digit code by WhatsApp (SMS if WhatsApp fails). The answer is the same whether "
            "or not the number has an account. Purpose verify needs a signed-in user."
        ),
        request=OtpSendSerializer,
        responses={
            202: OtpSendResultSerializer,
            400: _BAD_INPUT,
            401: OpenApiResponse(OtpErrorSerializer, description=_("Purpose verify without signing in.")),
            403: OpenApiResponse(OtpErrorSerializer, description=_("CSRF check failed.")),
            429: _RATE_LIMITED,
            502: OpenApiResponse(OtpDeliveryFailedSerializer, description=_("No channel could deliver the code.")),
        },
    )
    def post(self, request: Request) -> Response:
        self.device = device_signal(request._request)
        data = _parse(OtpSendSerializer, request)
        result = otp_send(
            phone=data["phone"],
            purpose=data["purpose"],
            hotel=data.get("hotel") or None,
            ip=client_ip(request._request),
            device_fingerprint=self.device.fingerprint,
            language=_request_language(),
            actor=request.user if request.user.is_authenticated else None,
        )
        return Response(OtpSendResultSerializer(result).data, status=status.HTTP_202_ACCEPTED)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        # Also on refusals and failures: the next attempt from this browser is then recognised.
        if self.device is not None and self.device.is_new:
            set_device_cookie(response, self.device)
        return response


class OtpVerifyView(APIView):
    permission_classes = [CsrfProtected, AllowAny]

    @extend_schema(
        operation_id="auth_otp_verify",
        tags=["auth"],
        summary=_("Sign in with a one-time code"),
        description=_(
            "Accepts only codes sent with purpose auth. With a hotel, a guest signing in for the first "
            "time gets an account; staff need a membership in that hotel. Sets the session cookies."
        ),
        request=OtpVerifySerializer,
        responses={
            200: OtpSignedInSerializer,
            400: _CODE_REJECTED,
            403: _CSRF_OR_ACCOUNT,
            429: _RATE_LIMITED,
        },
    )
    def post(self, request: Request) -> Response:
        data = _parse(OtpVerifySerializer, request)
        result = otp_sign_in(
            phone=data["phone"],
            code=data["code"],
            hotel=data.get("hotel") or None,
            ip=client_ip(request._request),
            language=_request_language(),
        )
        hotel = data.get("hotel")
        stay = (
            stay_for_sign_in(guest=result.user, hotel=hotel, qr_token=data.get("qr_token", ""))
            if hotel is not None
            else None
        )
        return signed_in_response(
            request,
            user=result.user,
            pair=session_start(user=result.user),
            extra={"stay": OwnStaySerializer(stay).data if stay is not None else None},
        )


class PhoneVerifyView(APIView):
    permission_classes = [CsrfProtected, IsAuthenticated]

    @extend_schema(
        operation_id="auth_phone_verify",
        tags=["auth"],
        summary=_("Prove a phone number while signed in"),
        description=_(
            "Accepts only codes sent with purpose verify. Your own number is marked verified; a number "
            "no account uses becomes yours; another account's number is refused with 409."
        ),
        request=PhoneVerifySerializer,
        responses={
            200: UserSerializer,
            400: _CODE_REJECTED,
            401: OpenApiResponse(OtpErrorSerializer, description=_("Not signed in.")),
            403: _CSRF_OR_ACCOUNT,
            409: OpenApiResponse(OtpErrorSerializer, description=_("The number belongs to another account.")),
            429: _RATE_LIMITED,
        },
    )
    def post(self, request: Request) -> Response:
        data = _parse(PhoneVerifySerializer, request)
        user = otp_verify_phone(
            user=actor_of(request),
            phone=data["phone"],
            code=data["code"],
            ip=client_ip(request._request),
        )
        return Response(UserSerializer(user).data)
