"""Issuing, rotating and revoking the JWT pair that signs a person in.

Every sign-in starts a token family; each refresh rotates within it. Presenting a refresh token
that was already rotated means it was copied: the whole family is revoked.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from refuje.common.errors import ApiError

from .models import RefreshTokenFamily, User


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
    refresh["fam"] = str(family.pk)
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def session_start(*, user: User) -> TokenPair:
    family = RefreshTokenFamily.objects.create(user=user)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return _pair_for(user, family)


def session_rotate(*, raw_refresh: str) -> tuple[User, TokenPair]:
    try:
        token = RefreshToken(raw_refresh, verify=False)  # type: ignore[arg-type]
    except TokenError as exc:
        raise SessionInvalid() from exc
    family_id = token.get("fam")
    if not family_id:
        raise SessionInvalid()
    with transaction.atomic():
        family = RefreshTokenFamily.objects.select_for_update().select_related("user").filter(pk=family_id).first()
        if family is None or family.revoked_at is not None:
            raise SessionInvalid()
        if BlacklistedToken.objects.filter(token__jti=token.get("jti")).exists():
            _revoke(family, "reuse")
            raise SessionInvalid(code="token_reused")
        try:
            token.verify()
        except TokenError as exc:
            raise SessionInvalid() from exc
        user = family.user
        if not user.is_active:
            _revoke(family, "inactive")
            raise SessionInvalid(_("This account is disabled."), code="account_disabled")
        token.blacklist()
        return user, _pair_for(user, family)


def session_end(*, raw_refresh: str | None) -> None:
    if not raw_refresh:
        return
    try:
        token = RefreshToken(raw_refresh, verify=False)  # type: ignore[arg-type]
    except TokenError:
        return
    with transaction.atomic():
        family = RefreshTokenFamily.objects.select_for_update().filter(pk=token.get("fam")).first()
        if family is not None and family.revoked_at is None:
            _revoke(family, "logout")
        with contextlib.suppress(TokenError):
            token.blacklist()


def sessions_revoke_all(*, user: User, reason: str) -> int:
    return RefreshTokenFamily.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason
    )


def _revoke(family: RefreshTokenFamily, reason: str) -> None:
    family.revoked_at = timezone.now()
    family.revoked_reason = reason
    family.save(update_fields=["revoked_at", "revoked_reason"])


def set_session_cookies(response: Response, pair: TokenPair) -> None:
    jwt = settings.SIMPLE_JWT
    common = {
        "secure": settings.AUTH_COOKIE_SECURE,
        "httponly": True,
        "samesite": settings.AUTH_COOKIE_SAMESITE,
        "path": "/",
    }
    response.set_cookie(
        settings.AUTH_ACCESS_COOKIE, pair.access, max_age=int(jwt["ACCESS_TOKEN_LIFETIME"].total_seconds()), **common
    )
    response.set_cookie(
        settings.AUTH_REFRESH_COOKIE, pair.refresh, max_age=int(jwt["REFRESH_TOKEN_LIFETIME"].total_seconds()), **common
    )


def clear_session_cookies(response: Response) -> None:
    for name in (settings.AUTH_ACCESS_COOKIE, settings.AUTH_REFRESH_COOKIE):
        response.delete_cookie(name, path="/", samesite=settings.AUTH_COOKIE_SAMESITE)
