"""Session cookies and CSRF: flags per environment, CSRF on every cookie flow, native clients."""

from __future__ import annotations

import pytest
from django.conf import settings

from .test_auth_support import (
    LOGIN_URL,
    LOGOUT_URL,
    NATIVE,
    PASSWORD,
    PROFILE_URL,
    REFRESH_URL,
    access_cookie,
    browser_login,
    fetch_csrf,
    staff_with_password,
    unique_ip,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_client_address(api_client):
    api_client.defaults["REMOTE_ADDR"] = unique_ip()


def _login_response(client, user):
    token = fetch_csrf(client)
    response = client.post(
        LOGIN_URL, {"email": user.email, "password": PASSWORD}, format="json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 200, response.content
    return response


def _assert_flags(morsel, *, secure):
    assert morsel.value
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"
    assert morsel["path"] == "/"
    assert morsel["domain"] == ""  # host-only
    assert bool(morsel["secure"]) is secure
    assert int(morsel["max-age"]) > 0


def test_cookie_flags_in_development(api_client, settings):
    settings.AUTH_COOKIE_SECURE = False
    settings.AUTH_ACCESS_COOKIE = "refuje_access"
    settings.AUTH_REFRESH_COOKIE = "refuje_refresh"

    response = _login_response(api_client, staff_with_password())

    _assert_flags(response.cookies["refuje_access"], secure=False)
    _assert_flags(response.cookies["refuje_refresh"], secure=False)
    assert int(response.cookies["refuje_access"]["max-age"]) < int(response.cookies["refuje_refresh"]["max-age"])


def test_cookie_flags_in_production(api_client, settings):
    settings.AUTH_COOKIE_SECURE = True
    settings.AUTH_ACCESS_COOKIE = "__Host-refuje_access"
    settings.AUTH_REFRESH_COOKIE = "__Host-refuje_refresh"

    response = _login_response(api_client, staff_with_password())

    _assert_flags(response.cookies["__Host-refuje_access"], secure=True)
    _assert_flags(response.cookies["__Host-refuje_refresh"], secure=True)
    assert "refuje_access" not in response.cookies
    # The configured names are also the ones read back.
    assert api_client.get(PROFILE_URL).status_code == 200


def _signed_in_browser(client):
    user = staff_with_password()
    browser_login(client, user)
    return user


@pytest.mark.parametrize(
    ("method", "url", "body", "ok"),
    [
        ("post", LOGIN_URL, "credentials", 200),
        ("post", REFRESH_URL, {}, 200),
        ("post", LOGOUT_URL, {}, 204),
        ("patch", PROFILE_URL, {"full_name": "Noura"}, 200),
    ],
    ids=["login", "refresh", "logout", "profile-patch"],
)
def test_cookie_flows_require_the_csrf_token(api_client, method, url, body, ok):
    user = _signed_in_browser(api_client)
    token = api_client.cookies["csrftoken"].value
    if body == "credentials":
        body = {"email": user.email, "password": PASSWORD}

    refused = getattr(api_client, method)(url, body, format="json")
    wrong = getattr(api_client, method)(url, body, format="json", HTTP_X_CSRFTOKEN="x" * 32)
    accepted = getattr(api_client, method)(url, body, format="json", HTTP_X_CSRFTOKEN=token)

    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    assert refused.json()["detail"]
    assert wrong.status_code == 403
    assert accepted.status_code == ok, accepted.content


def test_a_foreign_origin_is_refused_even_with_the_token(api_client):
    _signed_in_browser(api_client)
    token = api_client.cookies["csrftoken"].value

    response = api_client.patch(
        PROFILE_URL, {"full_name": "X"}, format="json", HTTP_X_CSRFTOKEN=token, HTTP_ORIGIN="https://evil.example"
    )

    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"


def test_cookie_authenticated_safe_requests_need_no_token(api_client):
    _signed_in_browser(api_client)

    assert api_client.get(PROFILE_URL).status_code == 200


def test_native_clients_get_tokens_in_the_body_and_need_no_csrf(api_client):
    user = staff_with_password()

    login = api_client.post(LOGIN_URL, {"email": user.email, "password": PASSWORD}, format="json", **NATIVE)
    assert login.status_code == 200, login.content
    assert settings.AUTH_ACCESS_COOKIE not in login.cookies
    assert settings.AUTH_REFRESH_COOKIE not in login.cookies
    first = login.json()
    assert first["user"]["id"] == user.id

    refreshed = api_client.post(REFRESH_URL, {"refresh": first["refresh"]}, format="json", **NATIVE)
    assert refreshed.status_code == 200, refreshed.content
    second = refreshed.json()
    assert second["refresh"] != first["refresh"]
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {second['access']}"}
    assert api_client.patch(PROFILE_URL, {"full_name": "Native"}, format="json", **bearer).status_code == 200

    logout = api_client.post(LOGOUT_URL, {"refresh": second["refresh"]}, format="json", **NATIVE)
    assert logout.status_code == 204
    assert api_client.get(PROFILE_URL, **bearer).status_code == 401


def test_native_header_means_nothing_when_bearer_is_disabled(api_client, settings):
    settings.AUTH_BEARER_ENABLED = False
    user = staff_with_password()

    response = api_client.post(LOGIN_URL, {"email": user.email, "password": PASSWORD}, format="json", **NATIVE)

    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"


def test_native_requests_never_authenticate_with_cookies(api_client):
    # Native requests skip CSRF; that is only safe because cookies do not sign them in.
    _signed_in_browser(api_client)
    assert api_client.get(PROFILE_URL).status_code == 200

    response = api_client.patch(PROFILE_URL, {"full_name": "Forged"}, format="json", **NATIVE)

    assert response.status_code == 401


def test_native_refresh_ignores_the_refresh_cookie(api_client):
    _signed_in_browser(api_client)
    assert access_cookie(api_client)

    response = api_client.post(REFRESH_URL, {}, format="json", **NATIVE)

    assert response.status_code == 401
    assert response.json()["code"] == "session_invalid"
