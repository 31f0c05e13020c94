"""JWTCookieAuthentication: stale cookies, Bearer tokens, deactivation and revoked sessions."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from refuje.accounts.models import RefreshTokenFamily, User
from refuje.accounts.sessions import session_start
from refuje.common.testing.factories import UserFactory

from .test_auth_support import (
    CSRF_URL,
    PROFILE_URL,
    access_cookie,
    access_token,
    browser_login,
    claims,
    expired_copy,
    staff_with_password,
)

pytestmark = pytest.mark.django_db


def _bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _resigned(raw: str, key: str) -> str:
    payload = claims(raw)
    return jwt.encode(payload, key, algorithm="HS256")


def _stale_access_tokens() -> dict[str, str]:
    """Access cookies a browser may still hold, each of which must be ignored."""
    user = UserFactory.create()
    live = session_start(user=user).access
    revoked = session_start(user=user).access
    RefreshTokenFamily.objects.filter(user=user).exclude(pk=claims(live)["fam"]).update(
        revoked_at=timezone.now(), revoked_reason="logout"
    )
    without_family = AccessToken.for_user(user)
    return {
        "garbage": "not-a-jwt",
        "expired": expired_copy(live),
        "foreign-signature": _resigned(live, "another-deployments-key-" + "y" * 40),
        "refresh-as-access": session_start(user=user).refresh,
        "revoked-family": revoked,
        "no-family": str(without_family),
    }


STALE_KINDS = ["garbage", "expired", "foreign-signature", "refresh-as-access", "revoked-family", "no-family"]


@pytest.mark.parametrize("kind", STALE_KINDS)
def test_a_stale_access_cookie_is_ignored_by_public_endpoints(api_client, kind):
    api_client.cookies[settings.AUTH_ACCESS_COOKIE] = _stale_access_tokens()[kind]

    public = api_client.get(CSRF_URL)
    protected = api_client.get(PROFILE_URL)

    assert public.status_code == 200
    assert protected.status_code == 401
    assert protected.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("kind", STALE_KINDS)
def test_a_stale_bearer_token_is_refused(api_client, kind):
    response = api_client.get(PROFILE_URL, **_bearer(_stale_access_tokens()[kind]))

    assert response.status_code == 401
    assert response.json()["code"] in {"token_invalid", "token_revoked"}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_bearer_token_authenticates_and_needs_no_csrf(api_client):
    user = UserFactory.create()
    pair = session_start(user=user)

    response = api_client.patch(PROFILE_URL, {"full_name": "Bearer Person"}, format="json", **_bearer(pair.access))

    assert response.status_code == 200, response.content
    assert response.json()["full_name"] == "Bearer Person"


def test_bearer_tokens_are_ignored_when_disabled(api_client, settings):
    settings.AUTH_BEARER_ENABLED = False
    pair = session_start(user=UserFactory.create())

    response = api_client.get(PROFILE_URL, **_bearer(pair.access))

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b"])
def test_a_malformed_bearer_header_is_refused(api_client, header):
    response = api_client.get(PROFILE_URL, HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


def test_deactivation_cuts_cookie_access_on_the_next_request(api_client):
    user = staff_with_password()
    browser_login(api_client, user)
    assert api_client.get(PROFILE_URL).status_code == 200

    User.objects.filter(pk=user.pk).update(is_active=False)

    assert api_client.get(PROFILE_URL).status_code == 401


def test_deactivation_cuts_bearer_access_on_the_next_request(api_client):
    user = UserFactory.create()
    pair = session_start(user=user)
    assert api_client.get(PROFILE_URL, **_bearer(pair.access)).status_code == 200

    User.objects.filter(pk=user.pk).update(is_active=False)
    response = api_client.get(PROFILE_URL, **_bearer(pair.access))

    assert response.status_code == 401
    assert response.json()["code"] == "account_disabled"


def test_an_access_token_is_bound_to_its_own_family(api_client):
    # A token naming one person but another person's session is not honoured, even if signed.
    owner, other = UserFactory.create(), UserFactory.create()
    token = access_token(session_start(user=owner).access)
    token["user_id"] = str(other.pk)
    token.set_exp(from_time=timezone.now(), lifetime=timedelta(minutes=5))

    response = api_client.get(PROFILE_URL, **_bearer(str(token)))

    assert response.status_code == 401


def test_a_stale_cookie_does_not_block_a_new_sign_in(api_client):
    user = staff_with_password()
    api_client.cookies[settings.AUTH_ACCESS_COOKIE] = "not-a-jwt"

    browser_login(api_client, user)

    assert access_cookie(api_client) != "not-a-jwt"
    assert api_client.get(PROFILE_URL).json()["id"] == user.id
