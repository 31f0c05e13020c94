"""Issuing, rotating and revoking the JWT pair that signs a person in.

Every sign-in starts a token family; each refresh rotates within it. Presenting a refresh token
that was already rotated means it was copied (or two refreshes raced): the whole family is
revoked, including its access tokens, and the person signs in again. Clients therefore run one
refresh at a time.

How tokens reach a client (one helper, `signed_in_response`, used by every sign-in path):
- browsers get them only as HttpOnly cookies;
- native clients send `X-Refuje-Client: native` (honoured only when `AUTH_BEARER_ENABLED`) and
  get `access`/`refresh` in the JSON body and no cookies; they refresh and log out with
  `{"refresh": "..."}` in the body and call the API with `Authorization: Bearer <access>`.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenBackendExpiredToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from refuje.common.errors import ApiError
from refuje.compliance.services import audit_record

from .authentication import is_native_client, token_user_id
from .models import RefreshTokenFamily, User
from .serializers import signed_in_payload


class SessionInvalid(ApiError):
    status_code = 401
    default_detail = _("Your session has ended. Please sign in again.")
    default_code = "session_invalid"


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def _pair_for(user: User, family: RefreshTokenFamily) -> TokenPair:
    refresh = RefreshToken.for_user(user)
    # The access token copies this claim, so revoking the family cuts access tokens too.
    refresh["fam"] = str(family.pk)
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def session_start(*, user: User) -> TokenPair:
    if not user.is_active:
        raise SessionInvalid(_("This account is disabled."), code="account_disabled")
    family = RefreshTokenFamily.objects.create(user=user)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return _pair_for(user, family)


@dataclass(frozen=True)
class _Refresh:
    token: RefreshToken
    jti: str
    family_id: uuid.UUID
    user_id: int | None


def _decode_refresh(raw: str, *, allow_expired: bool = False) -> _Refresh | None:
    """A refresh token whose signature we issued, or None. Blacklist and family are checked later."""
    try:
        # Signature (and expiry) first: nothing read from an unsigned token may be trusted.
        payload = token_backend.decode(raw, verify=True)  # type: ignore[arg-type]
    except TokenBackendExpiredToken:
        if not allow_expired:
            return None
        # PyJWT checks the signature before the expiry, so this token is ours, only old.
        payload = token_backend.decode(raw, verify=False)  # type: ignore[arg-type]
    except TokenBackendError:
        return None
    if payload.get(api_settings.TOKEN_TYPE_CLAIM) != "refresh":
        return None
    jti = payload.get(api_settings.JTI_CLAIM)
    if not isinstance(jti, str) or not jti:
        return None
    try:
        family_id = uuid.UUID(str(payload.get("fam", "")))
        token = RefreshToken(raw, verify=False)  # type: ignore[arg-type]
    except (ValueError, TokenError):
        return None
    return _Refresh(token=token, jti=jti, family_id=family_id, user_id=token_user_id(payload))


def session_rotate(*, raw_refresh: str) -> tuple[User, TokenPair]:
    """Exchange a refresh token for a new pair; the old one is blacklisted.

    The family row lock serialises concurrent refreshes of one token: the first rotates, the
    second then finds the token blacklisted and is treated as reuse.
    """
    refresh = _decode_refresh(raw_refresh)
    if refresh is None:
        raise SessionInvalid()
    failure: SessionInvalid | None = None
    with transaction.atomic():
        family = (
            RefreshTokenFamily.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=refresh.family_id)
            .first()
        )
        if family is None or family.revoked_at is not None or family.user_id != refresh.user_id:
            raise SessionInvalid()
        user = family.user
        if BlacklistedToken.objects.filter(token__jti=refresh.jti).exists():
            _revoke(family, "reuse")
            audit_record(actor=user, action="auth.refresh_reuse", target=family)
            failure = SessionInvalid(
                _("This sign-in was used from somewhere else and has been ended. Please sign in again."),
                code="token_reused",
            )
        elif not user.is_active:
            _revoke(family, "inactive")
            failure = SessionInvalid(_("This account is disabled."), code="account_disabled")
        else:
            refresh.token.blacklist()
            pair = _pair_for(user, family)
    # Raised after the block so the revocation above is committed, not rolled back.
    if failure is not None:
        raise failure
    return user, pair


def session_end(*, raw_refresh: str | None) -> None:
    """Log out: blacklist the refresh token and revoke its family. Unknown or bad input is a no-op."""
    if not raw_refresh:
        return
    # An expired refresh token still names a family whose access tokens may be alive.
    refresh = _decode_refresh(raw_refresh, allow_expired=True)
    if refresh is None:
        return
    with transaction.atomic():
        family = RefreshTokenFamily.objects.select_for_update().filter(pk=refresh.family_id).first()
        if family is None or family.user_id != refresh.user_id:
            return
        if family.revoked_at is None:
            _revoke(family, "logout")
        with contextlib.suppress(TokenError):
            refresh.token.blacklist()


def sessions_revoke_all(*, user: User, reason: str) -> int:
    return RefreshTokenFamily.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason
    )


def _revoke(family: RefreshTokenFamily, reason: str) -> None:
    family.revoked_at = timezone.now()
    family.revoked_reason = reason
    family.save(update_fields=["revoked_at", "revoked_reason"])


# --- HTTP side --------------------------------------------------------------------------------


def set_session_cookies(response: Response, pair: TokenPair) -> None:
    jwt = settings.SIMPLE_JWT
    for name, value, lifetime in (
        (settings.AUTH_ACCESS_COOKIE, pair.access, jwt["ACCESS_TOKEN_LIFETIME"]),
        (settings.AUTH_REFRESH_COOKIE, pair.refresh, jwt["REFRESH_TOKEN_LIFETIME"]),
    ):
        response.set_cookie(
            name,
            value,
            max_age=int(lifetime.total_seconds()),
            # Browsers drop `__Host-` cookies that are not Secure; never emit one that way.
            secure=settings.AUTH_COOKIE_SECURE or name.startswith("__Host-"),
            httponly=True,
            samesite=settings.AUTH_COOKIE_SAMESITE,
            path="/",
        )


def clear_session_cookies(response: Response) -> None:
    for name in (settings.AUTH_ACCESS_COOKIE, settings.AUTH_REFRESH_COOKIE):
        response.delete_cookie(name, path="/", samesite=settings.AUTH_COOKIE_SAMESITE)


def signed_in_response(
    request: Request | HttpRequest,
    *,
    user: User,
    pair: TokenPair,
    status: int = 200,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    """The answer to every successful sign-in or refresh: who is signed in, plus the tokens.

    Browsers get the tokens as HttpOnly cookies; native clients (`X-Refuje-Client: native`) get
    them as `access`/`refresh` in the body instead. `extra` adds fields to the body (e.g. `stay`).
    """
    body = {**signed_in_payload(user), **(extra or {})}
    if is_native_client(request):
        body["access"] = pair.access
        body["refresh"] = pair.refresh
        return Response(body, status=status)
    response = Response(body, status=status)
    set_session_cookies(response, pair)
    return response
