"""Input and output shapes of the OTP endpoints."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.fields import empty

from refuje.common.api import ApiErrorSerializer
from refuje.hotels.models import Hotel
from refuje.stays.serializers import OwnStaySerializer

from .models import OtpPurpose
from .otp import CODE_DIGITS, OtpSendResult
from .phone import normalize_phone
from .serializers import SignedInSerializer

# Codes are typed on phones: accept Arabic-Indic digits and stray spaces or dashes.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_CODE_SEPARATORS = re.compile(r"[\s\-\u200e\u200f]")


class PhoneField(serializers.CharField):
    """Any way people write a phone number in; E.164 out, or a clear error on this field."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("help_text", _("Phone number in any common format, e.g. +966501234567 or 0501234567."))
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        try:
            return normalize_phone(text)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc


class OtpCodeField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("help_text", _("The 6-digit code that was sent."))
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        text = _CODE_SEPARATORS.sub("", super().to_internal_value(data).translate(_DIGITS))
        if not re.fullmatch(rf"[0-9]{{{CODE_DIGITS}}}", text):
            raise serializers.ValidationError(
                _("Enter the %(digits)d-digit code.") % {"digits": CODE_DIGITS}, code="invalid"
            )
        return text


class HotelSlugField(serializers.SlugField):
    """An active hotel by slug (as in its QR code link); the Hotel object, or None when absent."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("max_length", 60)
        kwargs.setdefault("help_text", _("Slug of the hotel the guest is signing in at."))
        super().__init__(**kwargs)

    def run_validation(self, data: Any = empty) -> Hotel | None:
        # The slug's own validators run first, so nothing malformed ever reaches the query.
        slug = super().run_validation(data)
        if not slug:
            return None
        hotel = Hotel.objects.filter(slug=slug, is_active=True).first()
        if hotel is None:
            raise serializers.ValidationError(
                _("We do not know this hotel. Scan the QR code in your room again."), code="unknown_hotel"
            )
        return hotel

    def to_representation(self, value: Any) -> str:
        return str(getattr(value, "slug", value))


class OtpSendSerializer(serializers.Serializer[dict[str, Any]]):
    phone = PhoneField()
    purpose = serializers.ChoiceField(
        choices=OtpPurpose.choices,
        help_text=_(
            "auth: sign in (with a hotel, a new guest gets an account); verify: prove a phone while signed in."
        ),
    )
    hotel = HotelSlugField()


class OtpSendResultSerializer(serializers.Serializer[OtpSendResult]):
    channel = serializers.ChoiceField(choices=["whatsapp", "sms", "console"], help_text=_("Where the code was sent."))
    expires_in = serializers.IntegerField(help_text=_("Seconds until the code expires."))
    resend_in = serializers.IntegerField(help_text=_("Seconds until another code may be requested."))


class OtpVerifySerializer(serializers.Serializer[dict[str, Any]]):
    phone = PhoneField()
    code = OtpCodeField()
    hotel = HotelSlugField()
    qr_token = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text=_("The room QR code the guest scanned; checks them in when the hotel allows self check-in."),
    )


class PhoneVerifySerializer(serializers.Serializer[dict[str, Any]]):
    phone = PhoneField()
    code = OtpCodeField()


class OtpSignedInSerializer(SignedInSerializer):
    stay = OwnStaySerializer(allow_null=True, help_text=_("The guest's current stay at the hotel, if any."))


# --- documented error shapes ----------------------------------------------------------------


def _messages() -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(), required=False)


OtpErrorSerializer = ApiErrorSerializer


class OtpRateLimitedSerializer(OtpErrorSerializer):
    retry_after = serializers.IntegerField(help_text=_("Seconds to wait; also in the Retry-After header."))


class OtpDeliveryFailedSerializer(OtpErrorSerializer):
    resend_in = serializers.IntegerField(required=False, help_text=_("Seconds until another code may be requested."))


class OtpSendValidationErrorSerializer(serializers.Serializer[dict[str, Any]]):
    phone = _messages()
    purpose = _messages()
    hotel = _messages()
    non_field_errors = _messages()
    detail = serializers.CharField(required=False)
    code = serializers.CharField(help_text=_("invalid for field errors."))


class OtpVerifyErrorSerializer(serializers.Serializer[dict[str, Any]]):
    phone = _messages()
    hotel = _messages()
    non_field_errors = _messages()
    detail = serializers.CharField(required=False)
    code = serializers.CharField(
        help_text=_("invalid for field errors; otp_invalid, otp_expired or otp_attempts_exceeded for a refused code.")
    )
