"""Shared helpers for the session/auth tests (no tests here)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import jwt
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from refuje.accounts.models import User
from refuje.common.testing.factories import UserFactory

PASSWORD = "Tide-Lantern-4827"
CSRF_URL = "/api/v1/auth/csrf/"
LOGIN_URL = "/api/v1/auth/login/"
TOKEN_URL = "/api/v1/auth/token/"
REFRESH_URL = "/api/v1/auth/refresh/"
LOGOUT_URL = "/api/v1/auth/logout/"
PROFILE_URL = "/api/v1/auth/profile/"
NATIVE = {"HTTP_X_REFUJE_CLIENT": "native"}

_emails = itertools.count()
_ips = itertools.count(1)


def unique_email(prefix: str = "staff") -> str:
    return f"{prefix}.{next(_emails)}@example.com"


def unique_ip() -> str:
    """A distinct client address per test, so login attempt counters never leak between tests."""
    n = next(_ips)
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def staff_with_password(**kwargs) -> User:
    kwargs.setdefault("email", unique_email())
    return UserFactory.create(password=PASSWORD, **kwargs)


def fetch_csrf(client: APIClient) -> str:
    """What a browser does first: GET auth/csrf/ and keep the token for X-CSRFToken."""
    response = client.get(CSRF_URL)
    assert response.status_code == 200
    return response.json()["csrf_token"]


def browser_login(client: APIClient, user: User, password: str = PASSWORD) -> str:
    """Sign `client` in like a browser; returns the CSRF token for later unsafe requests."""
    token = fetch_csrf(client)
    response = client.post(
        LOGIN_URL, {"email": user.email, "password": password}, format="json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 200, response.content
    return token


def cookie(client: APIClient, name: str) -> str:
    return client.cookies[name].value


def access_cookie(client: APIClient) -> str:
    return cookie(client, settings.AUTH_ACCESS_COOKIE)


def refresh_cookie(client: APIClient) -> str:
    return cookie(client, settings.AUTH_REFRESH_COOKIE)


def claims(raw: str) -> dict:
    """The payload of a token we issued (no checks: tests read what the server wrote)."""
    return jwt.decode(raw, options={"verify_signature": False})


def access_token(raw: str) -> AccessToken:
    return AccessToken(raw)  # type: ignore[arg-type]  # the stubs omit the encoded-string form


def refresh_token(raw: str) -> RefreshToken:
    return RefreshToken(raw, verify=False)  # type: ignore[arg-type]


def expired_copy(raw_access: str) -> str:
    """The same access token (same family, same user, validly signed) but already expired."""
    token = access_token(raw_access)
    token.set_exp(from_time=timezone.now() - timedelta(hours=1), lifetime=timedelta(minutes=5))
    return str(token)
