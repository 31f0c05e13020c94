"""API authentication: JWT in HttpOnly cookies (browsers) or a Bearer header (native clients).

Cookie-authenticated unsafe requests must pass Django's CSRF check, exactly like DRF's
SessionAuthentication. A stale or invalid access cookie is ignored (the request is anonymous),
so public endpoints keep working for a browser holding an old cookie.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from rest_framework_simplejwt.tokens import Token

from .models import RefreshTokenFamily, User


def _unused_get_response(request: HttpRequest) -> HttpResponse:
    return HttpResponse()


class _CsrfCheck(authentication.CSRFCheck):
    def _reject(self, request: HttpRequest, reason: str) -> str:
        return reason


def enforce_csrf(request: Request | HttpRequest) -> None:
    """Run Django's CSRF check (origin + token) and raise a 403 with a clear reason."""
    django_request = request._request if isinstance(request, Request) else request
    check = _CsrfCheck(_unused_get_response)
    check.process_request(django_request)
    reason = check.process_view(django_request, None, (), {})  # type: ignore[arg-type]
    if reason:
        raise exceptions.PermissionDenied(
            detail=exceptions.PermissionDenied.default_detail if settings.DEBUG is False else f"CSRF Failed: {reason}",
            code="csrf_failed",
        )


def family_is_revoked(token: Token) -> bool:
    family_id = token.get("fam")
    if not family_id:
        return True
    return RefreshTokenFamily.objects.filter(pk=family_id, revoked_at__isnull=False).exists()


class JWTCookieAuthentication(JWTAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Token] | None:
        header = self.get_header(request)
        if header is not None and settings.AUTH_BEARER_ENABLED:
            raw = self.get_raw_token(header)
            if raw is None:
                return None
            validated = self.get_validated_token(raw)
            if family_is_revoked(validated):
                raise InvalidToken({"detail": "Token revoked", "code": "token_revoked"})
            return self.get_user(validated), validated

        raw_cookie = request.COOKIES.get(settings.AUTH_ACCESS_COOKIE)
        if not raw_cookie:
            return None
        try:
            validated = self.get_validated_token(raw_cookie.encode())
            user = self.get_user(validated)
        except (InvalidToken, TokenError, AuthenticationFailed):
            return None
        if family_is_revoked(validated):
            return None
        enforce_csrf(request)
        return user, validated

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class CsrfSessionAuthentication(authentication.SessionAuthentication):
    """Django session (web pages) for the API, CSRF enforced as DRF does."""


def is_active_user(user: User | Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))
