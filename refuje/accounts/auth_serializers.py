"""Input and documented output shapes of the session endpoints (auth/csrf, login, refresh, logout, profile)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from refuje.common.api import ApiErrorSerializer

from .models import Language
from .serializers import SignedInSerializer


class CsrfTokenSerializer(serializers.Serializer[dict[str, Any]]):
    csrf_token = serializers.CharField(help_text="Echo this in the X-CSRFToken header of unsafe requests.")


class PasswordLoginSerializer(serializers.Serializer[dict[str, Any]]):
    email = serializers.EmailField(max_length=254)
    # Bounded so a huge body cannot make the password hasher the bottleneck.
    password = serializers.CharField(max_length=1024, trim_whitespace=False, write_only=True)


class RefreshTokenInputSerializer(serializers.Serializer[dict[str, Any]]):
    refresh = serializers.CharField(
        required=False,
        max_length=4096,
        help_text="Native clients only (with X-Refuje-Client: native). Browsers send the refresh cookie.",
    )


class SignedInResponseSerializer(SignedInSerializer):
    access = serializers.CharField(required=False, help_text="Native clients only: the Bearer access token.")
    refresh = serializers.CharField(required=False, help_text="Native clients only: the refresh token.")


class ProfileUpdateSerializer(serializers.Serializer[dict[str, Any]]):
    full_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    email = serializers.EmailField(
        max_length=254, required=False, allow_blank=True, allow_null=True, help_text="Blank or null removes it."
    )
    preferred_language = serializers.ChoiceField(choices=Language.choices, required=False)


# --- Documented error bodies ------------------------------------------------------------------


SessionErrorSerializer = ApiErrorSerializer


class RateLimitedErrorSerializer(SessionErrorSerializer):
    retry_after = serializers.IntegerField(help_text="Seconds to wait; also in the Retry-After header.")


class LoginValidationErrorSerializer(serializers.Serializer[dict[str, Any]]):
    email = serializers.ListField(child=serializers.CharField(), required=False)
    password = serializers.ListField(child=serializers.CharField(), required=False)
    detail = serializers.CharField(required=False)
    code = serializers.CharField()


class RefreshValidationErrorSerializer(serializers.Serializer[dict[str, Any]]):
    refresh = serializers.ListField(child=serializers.CharField(), required=False)
    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)
    detail = serializers.CharField(required=False)
    code = serializers.CharField()


class ProfileValidationErrorSerializer(serializers.Serializer[dict[str, Any]]):
    full_name = serializers.ListField(child=serializers.CharField(), required=False)
    email = serializers.ListField(child=serializers.CharField(), required=False)
    preferred_language = serializers.ListField(child=serializers.CharField(), required=False)
    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)
    detail = serializers.CharField(required=False)
    code = serializers.CharField()
