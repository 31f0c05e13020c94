"""API authentication: JWT in HttpOnly cookies (browsers) or a Bearer header (native clients).

Browsers: the access token travels in an HttpOnly cookie, so every cookie-authenticated unsafe
request must pass Django's CSRF check (origin + token), exactly like DRF's SessionAuthentication.
A stale, invalid or revoked access cookie is ignored (the request is anonymous), so public
endpoints keep working for a browser holding an old cookie; protected endpoints then answer 401.

Native clients (when `AUTH_BEARER_ENABLED`): `Authorization: Bearer <access>`, no CSRF because a
browser never attaches that header on its own. Requests that declare themselves native with
`X-Refuje-Client: native` never authenticate with cookies, so skipping CSRF for them is safe.

Every access token belongs to a refresh-token family; revoking the family (logout, reuse of a
rotated refresh token, deactivation) cuts its access tokens on their next request.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, Token

# Nothing that imports rest_framework.views (refuje.common.errors, drf-spectacular) may be
# imported here: DRF loads this module while rest_framework.views is still initialising.
from .models import RefreshTokenFamily, User

logger = logging.getLogger(__name__)

NATIVE_CLIENT_HEADER = "X-Refuje-Client"
NATIVE_CLIENT_VALUE = "native"


class CsrfFailed(exceptions.PermissionDenied):
    default_detail = _("The security check for this request failed. Reload the page and try again.")
    default_code = "csrf_failed"


class TokenRejected(exceptions.AuthenticationFailed):
    default_detail = _("Your sign-in is no longer valid. Please sign in again.")
    default_code = "token_invalid"


class AccountDisabled(exceptions.AuthenticationFailed):
    default_detail = _("This account is disabled.")
    default_code = "account_disabled"


def is_native_client(request: Request | HttpRequest) -> bool:
    """A native client asked for tokens in bodies and Bearer auth instead of cookies."""
    if not settings.AUTH_BEARER_ENABLED:
        return False
    return str(request.headers.get(NATIVE_CLIENT_HEADER, "")).strip().lower() == NATIVE_CLIENT_VALUE


def _unused_get_response(request: HttpRequest) -> HttpResponse:
    return HttpResponse()


def enforce_csrf(request: Request | HttpRequest) -> None:
    """Run Django's CSRF check (origin + token); a failure is a translated 403 `csrf_failed`.

    Native requests are exempt: a cross-site page cannot send the custom header without a CORS
    preflight, and cookies never authenticate them.
    """
    if is_native_client(request):
        return
    django_request = request._request if isinstance(request, Request) else request
    check = authentication.CSRFCheck(_unused_get_response)
    # process_request reads the CSRF cookie into request.META before the view-level check.
    check.process_request(django_request)
    reason = check.process_view(django_request, None, (), {})  # type: ignore[arg-type]
    if reason:
        # Django's reason is an English hint for developers: logged, not shown.
        logger.info("CSRF check failed for %s: %s", django_request.path, reason)
        raise CsrfFailed()


def _family_id(token: Token) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(token.get("fam", "")))
    except ValueError:
        return None


def token_user_id(payload: dict[str, Any]) -> int | None:
    """The account id a token names (simplejwt writes it as a string)."""
    try:
        return int(str(payload.get(api_settings.USER_ID_CLAIM)))
    except ValueError:
        return None


def _user_for_access_token(raw: bytes | str) -> tuple[User, Token]:
    """The live, active user behind an access token, or TokenRejected / AccountDisabled."""
    try:
        validated = AccessToken(raw)  # type: ignore[arg-type]
    except TokenError as exc:
        raise TokenRejected() from exc
    family_id = _family_id(validated)
    user_id = token_user_id(validated.payload)
    if family_id is None or user_id is None:
        raise TokenRejected()
    # One query answers "family live?" and "which user?"; the user id must match the family's.
    family = (
        RefreshTokenFamily.objects.select_related("user")
        .filter(pk=family_id, user_id=user_id, revoked_at__isnull=True)
        .first()
    )
    if family is None:
        raise TokenRejected(code="token_revoked")
    if not family.user.is_active:
        raise AccountDisabled()
    return family.user, validated


class JWTCookieAuthentication(JWTAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Token] | None:
        if settings.AUTH_BEARER_ENABLED:
            raw_bearer = self._bearer_token(request)
            if raw_bearer is not None:
                return _user_for_access_token(raw_bearer)
        if is_native_client(request):
            return None
        raw_cookie = request.COOKIES.get(settings.AUTH_ACCESS_COOKIE)
        if not raw_cookie:
            return None
        try:
            user, validated = _user_for_access_token(raw_cookie)
        except exceptions.AuthenticationFailed:
            return None
        enforce_csrf(request)
        return user, validated

    def _bearer_token(self, request: Request) -> bytes | None:
        header = self.get_header(request)
        if not header:
            return None
        parts = header.split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2:
            raise TokenRejected()
        return parts[1]

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class CsrfSessionAuthentication(authentication.SessionAuthentication):
    """Django session (web pages) for the API, CSRF enforced as DRF does."""


def is_active_user(user: User | Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))
