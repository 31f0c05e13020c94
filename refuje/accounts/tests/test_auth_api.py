"""auth/csrf/, staff password sign-in, the retired token endpoint and translated errors."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from refuje.accounts.models import User
from refuje.common.testing.factories import GuestFactory, HotelFactory, MembershipFactory
from refuje.compliance.models import AuditEvent

from .test_auth_support import (
    CSRF_URL,
    LOGIN_URL,
    PASSWORD,
    PROFILE_URL,
    TOKEN_URL,
    fetch_csrf,
    staff_with_password,
    unique_email,
    unique_ip,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_client_address(api_client):
    api_client.defaults["REMOTE_ADDR"] = unique_ip()


def _login(client, email, password=PASSWORD, **extra):
    token = fetch_csrf(client)
    return client.post(
        LOGIN_URL, {"email": email, "password": password}, format="json", HTTP_X_CSRFTOKEN=token, **extra
    )


def test_csrf_endpoint_sets_the_cookie_and_returns_the_token(api_client):
    response = api_client.get(CSRF_URL)

    assert response.status_code == 200
    assert response.cookies["csrftoken"].value
    assert response.json()["csrf_token"]
    assert response["Cache-Control"] == "no-store"


def test_password_sign_in_sets_session_cookies_and_describes_the_user(api_client):
    user = staff_with_password()
    membership = MembershipFactory.create(user=user, hotel=HotelFactory.create())

    response = _login(api_client, user.email)

    assert response.status_code == 200
    body = response.json()
    assert body["user"]["id"] == user.id
    assert body["user"]["phone_number"] == user.phone_number
    assert [m["hotel"] for m in body["memberships"]] == [membership.hotel.slug]
    assert "access" not in body
    assert "refresh" not in body
    assert response["Cache-Control"] == "no-store"
    assert response.cookies[settings.AUTH_ACCESS_COOKIE].value
    assert response.cookies[settings.AUTH_REFRESH_COOKIE].value
    assert api_client.get(PROFILE_URL).json()["id"] == user.id
    assert AuditEvent.objects.filter(action="auth.password_sign_in", actor=user).count() == 1


def test_email_lookup_ignores_case(api_client):
    user = staff_with_password()
    # Stored with mixed case, as older rows may be; the address typed differs in case too.
    User.objects.filter(pk=user.pk).update(email="Staff.Mixed@Example.COM")

    response = _login(api_client, "staff.mixed@EXAMPLE.com")

    assert response.status_code == 200
    assert response.json()["user"]["id"] == user.id


@pytest.mark.parametrize(
    "body",
    [{"email": "", "password": PASSWORD}, {"password": PASSWORD}, {"email": None, "password": PASSWORD}],
    ids=["blank", "missing", "null"],
)
def test_blank_or_missing_email_is_a_field_error(api_client, body):
    token = fetch_csrf(api_client)

    response = api_client.post(LOGIN_URL, body, format="json", HTTP_X_CSRFTOKEN=token)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["email"]


def _refusal(response):
    assert response.status_code == 400, response.content
    assert "access" not in response.cookies
    assert settings.AUTH_ACCESS_COOKIE not in response.cookies
    body = response.json()
    return body["code"], body["detail"]


def test_every_refusal_looks_the_same(api_client):
    staff = staff_with_password()
    disabled = staff_with_password(is_active=False)
    guest = GuestFactory.create(email=unique_email("guest"), password=PASSWORD)

    refusals = {
        "wrong password": _refusal(_login(api_client, staff.email, "not-the-password")),
        "unknown email": _refusal(_login(api_client, unique_email("nobody"))),
        "disabled account": _refusal(_login(api_client, disabled.email)),
        "guest account": _refusal(_login(api_client, guest.email)),
    }

    assert set(refusals.values()) == {refusals["wrong password"]}
    assert refusals["wrong password"][0] == "invalid_credentials"


def test_legacy_duplicate_emails_never_cause_a_server_error(api_client):
    # The case-insensitive unique index makes duplicates impossible today; drop it inside this
    # test's transaction (rolled back afterwards) to reproduce rows that predate it.
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX accounts_user_email_unique_ci")
    first = staff_with_password(email="twin@example.com")
    second = staff_with_password(email="placeholder@example.com")
    User.objects.filter(pk=second.pk).update(email="Twin@Example.com")

    response = _login(api_client, "twin@example.com")

    assert response.status_code == 200
    assert response.json()["user"]["id"] in {first.id, second.id}


def test_attempts_are_limited_per_email_across_addresses(api_client, settings):
    settings.AUTH_LOGIN_ATTEMPTS_PER_EMAIL = 3
    user = staff_with_password()

    statuses = []
    for _ in range(3):
        api_client.defaults["REMOTE_ADDR"] = unique_ip()
        statuses.append(_login(api_client, user.email, "wrong-password").status_code)
    api_client.defaults["REMOTE_ADDR"] = unique_ip()
    limited = _login(api_client, user.email)  # even the right password waits

    assert statuses == [400, 400, 400]
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert int(limited["Retry-After"]) >= 1


def test_attempts_are_limited_per_address(api_client, settings):
    settings.AUTH_LOGIN_ATTEMPTS_PER_IP = 2

    first = _login(api_client, unique_email()).status_code
    second = _login(api_client, unique_email()).status_code
    third = _login(api_client, unique_email())

    assert [first, second] == [400, 400]
    assert third.status_code == 429
    assert third.json()["code"] == "rate_limited"


@pytest.mark.parametrize(
    ("body", "content_type", "extra"),
    [
        ({}, "application/json", {}),
        ({"phone_number": "+966501234567", "password": PASSWORD}, "application/json", {}),
        ("{not json", "application/json", {}),
        ({}, "application/json", {"HTTP_AUTHORIZATION": "Bearer not-a-token"}),
    ],
    ids=["empty", "credentials", "malformed", "bad-bearer"],
)
def test_retired_token_endpoint_is_gone_for_any_input(api_client, body, content_type, extra):
    data = body if isinstance(body, str) else __import__("json").dumps(body)

    response = api_client.post(TOKEN_URL, data, content_type=content_type, **extra)

    assert response.status_code == 410
    assert response.json()["code"] == "endpoint_retired"
    assert response.json()["detail"]


@pytest.mark.parametrize("language", ["en", "ar"])
def test_errors_are_answered_in_the_request_language(api_client, language):
    user = staff_with_password()
    token = fetch_csrf(api_client)

    response = api_client.post(
        LOGIN_URL,
        {"email": user.email, "password": "wrong-password"},
        format="json",
        HTTP_X_CSRFTOKEN=token,
        HTTP_ACCEPT_LANGUAGE=language,
    )
    missing_csrf = api_client.post(LOGIN_URL, {}, format="json", HTTP_ACCEPT_LANGUAGE=language)

    assert response["Content-Language"] == language
    assert response.json()["code"] == "invalid_credentials"
    assert response.json()["detail"].strip()
    assert missing_csrf.json()["code"] == "csrf_failed"
    assert missing_csrf.json()["detail"].strip()
