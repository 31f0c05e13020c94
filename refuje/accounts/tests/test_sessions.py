"""Refresh rotation, reuse detection, logout and their effect on access tokens."""

from __future__ import annotations

import threading

import jwt
import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from refuje.accounts.models import RefreshTokenFamily, User
from refuje.accounts.sessions import session_start
from refuje.common.testing.factories import UserFactory
from refuje.compliance.models import AuditEvent

from .test_auth_support import (
    LOGOUT_URL,
    PROFILE_URL,
    REFRESH_URL,
    access_cookie,
    browser_login,
    claims,
    fetch_csrf,
    refresh_cookie,
    refresh_token,
    staff_with_password,
    unique_ip,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_client_address(api_client):
    api_client.defaults["REMOTE_ADDR"] = unique_ip()


def _refresh(client, csrf, raw=None):
    if raw is not None:
        client.cookies[settings.AUTH_REFRESH_COOKIE] = raw
    return client.post(REFRESH_URL, {}, format="json", HTTP_X_CSRFTOKEN=csrf)


def _profile_status(client, raw_access):
    client.cookies[settings.AUTH_ACCESS_COOKIE] = raw_access
    return client.get(PROFILE_URL).status_code


def _family_of(raw_refresh):
    return RefreshTokenFamily.objects.get(pk=claims(raw_refresh)["fam"])


def test_refresh_rotates_the_pair_and_blacklists_the_old_refresh_token(api_client):
    user = staff_with_password()
    csrf = browser_login(api_client, user)
    old_access, old_refresh = access_cookie(api_client), refresh_cookie(api_client)

    response = _refresh(api_client, csrf)

    assert response.status_code == 200, response.content
    assert response.json()["user"]["id"] == user.id
    assert response["Cache-Control"] == "no-store"
    new_access, new_refresh = access_cookie(api_client), refresh_cookie(api_client)
    assert new_refresh != old_refresh
    assert new_access != old_access
    assert BlacklistedToken.objects.filter(token__jti=claims(old_refresh)["jti"]).exists()
    assert _family_of(new_refresh) == _family_of(old_refresh)
    assert _profile_status(api_client, new_access) == 200


def test_reusing_a_rotated_refresh_token_ends_the_whole_session(api_client):
    user = staff_with_password()
    csrf = browser_login(api_client, user)
    stolen = refresh_cookie(api_client)
    assert _refresh(api_client, csrf).status_code == 200
    current_access, current_refresh = access_cookie(api_client), refresh_cookie(api_client)

    replay = _refresh(api_client, csrf, raw=stolen)

    assert replay.status_code == 401
    assert replay.json()["code"] == "token_reused"
    assert replay.cookies[settings.AUTH_REFRESH_COOKIE].value == ""  # cleared
    family = _family_of(current_refresh)
    assert family.revoked_at is not None
    assert family.revoked_reason == "reuse"
    assert AuditEvent.objects.filter(action="auth.refresh_reuse", actor=user).exists()
    # The newer refresh token and the family's access token stop working too.
    assert _refresh(api_client, csrf, raw=current_refresh).status_code == 401
    assert _profile_status(api_client, current_access) == 401


def test_reuse_leaves_the_persons_other_sessions_alone(api_client):
    user = UserFactory.create()
    other_session = session_start(user=user)
    csrf = fetch_csrf(api_client)
    stolen = session_start(user=user).refresh
    assert _refresh(api_client, csrf, raw=stolen).status_code == 200

    assert _refresh(api_client, csrf, raw=stolen).status_code == 401

    assert _family_of(other_session.refresh).revoked_at is None
    assert _profile_status(api_client, other_session.access) == 200


def test_refresh_is_refused_after_deactivation_and_the_session_stays_ended(api_client):
    user = staff_with_password()
    csrf = browser_login(api_client, user)
    refresh = refresh_cookie(api_client)
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = _refresh(api_client, csrf, raw=refresh)

    assert response.status_code == 401
    assert response.json()["code"] == "account_disabled"
    assert _family_of(refresh).revoked_reason == "inactive"
    User.objects.filter(pk=user.pk).update(is_active=True)
    assert _refresh(api_client, csrf, raw=refresh).status_code == 401


@pytest.mark.parametrize("forgery", ["foreign-key", "alg-none"])
def test_a_forged_refresh_token_is_refused_and_harms_nobody(api_client, forgery):
    user = UserFactory.create()
    genuine = session_start(user=user)
    payload = claims(genuine.refresh)
    payload["jti"] = "f" * 32  # never issued, so never blacklisted
    if forgery == "foreign-key":
        forged = jwt.encode(payload, "another-deployments-key-" + "z" * 40, algorithm="HS256")
    else:
        forged = jwt.encode(payload, "", algorithm="none")
    csrf = fetch_csrf(api_client)

    response = _refresh(api_client, csrf, raw=forged)

    assert response.status_code == 401
    assert response.json()["code"] == "session_invalid"
    assert _family_of(genuine.refresh).revoked_at is None
    assert _refresh(api_client, csrf, raw=genuine.refresh).status_code == 200


@pytest.mark.parametrize("raw", [None, "", "not-a-jwt"], ids=["no-cookie", "empty", "garbage"])
def test_refresh_without_a_usable_token_is_401(api_client, raw):
    csrf = fetch_csrf(api_client)
    if raw is not None:
        api_client.cookies[settings.AUTH_REFRESH_COOKIE] = raw

    response = api_client.post(REFRESH_URL, {}, format="json", HTTP_X_CSRFTOKEN=csrf)

    assert response.status_code == 401
    assert response.json()["code"] == "session_invalid"


def test_logout_cuts_access_immediately(api_client):
    user = staff_with_password()
    csrf = browser_login(api_client, user)
    access, refresh = access_cookie(api_client), refresh_cookie(api_client)

    response = api_client.post(LOGOUT_URL, {}, format="json", HTTP_X_CSRFTOKEN=csrf)

    assert response.status_code == 204
    for name in (settings.AUTH_ACCESS_COOKIE, settings.AUTH_REFRESH_COOKIE):
        assert response.cookies[name].value == ""
        assert int(response.cookies[name]["max-age"]) == 0
    assert response["Cache-Control"] == "no-store"
    assert BlacklistedToken.objects.filter(token__jti=claims(refresh)["jti"]).exists()
    assert _family_of(refresh).revoked_reason == "logout"
    # The browser forgot the cookies; a copy of them must not work either.
    assert _profile_status(api_client, access) == 401
    assert _refresh(api_client, csrf, raw=refresh).status_code == 401


def test_logout_with_an_expired_refresh_token_still_ends_the_session(api_client, settings):
    user = UserFactory.create()
    pair = session_start(user=user)
    token = refresh_token(pair.refresh)
    token.set_exp(lifetime=-settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"])
    csrf = fetch_csrf(api_client)
    api_client.cookies[settings.AUTH_REFRESH_COOKIE] = str(token)

    assert api_client.post(LOGOUT_URL, {}, format="json", HTTP_X_CSRFTOKEN=csrf).status_code == 204

    assert _family_of(pair.refresh).revoked_at is not None
    assert _profile_status(api_client, pair.access) == 401


@pytest.mark.parametrize("cookie", [None, "not-a-jwt"], ids=["no-cookies", "garbage"])
def test_logout_is_idempotent_and_needs_no_session(api_client, cookie):
    csrf = fetch_csrf(api_client)
    if cookie is not None:
        api_client.cookies[settings.AUTH_REFRESH_COOKIE] = cookie

    first = api_client.post(LOGOUT_URL, {}, format="json", HTTP_X_CSRFTOKEN=csrf)
    second = api_client.post(LOGOUT_URL, {}, format="json", HTTP_X_CSRFTOKEN=csrf)

    assert (first.status_code, second.status_code) == (204, 204)


def test_logging_out_twice_with_the_same_token_is_fine(api_client):
    user = staff_with_password()
    csrf = browser_login(api_client, user)
    refresh = refresh_cookie(api_client)

    assert api_client.post(LOGOUT_URL, {}, format="json", HTTP_X_CSRFTOKEN=csrf).status_code == 204
    api_client.cookies[settings.AUTH_REFRESH_COOKIE] = refresh
    assert api_client.post(LOGOUT_URL, {}, format="json", HTTP_X_CSRFTOKEN=csrf).status_code == 204


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_let_exactly_one_through():
    rounds = 5
    for _ in range(rounds):
        pair = session_start(user=UserFactory.create())
        barrier = threading.Barrier(2)
        statuses: list[int] = []
        lock = threading.Lock()

        def refresh_once(raw=pair.refresh, barrier=barrier, statuses=statuses, lock=lock):
            try:
                client = Client()  # CSRF is covered elsewhere; this is about the race
                client.cookies[settings.AUTH_REFRESH_COOKIE] = raw
                barrier.wait(timeout=10)
                status = client.post(REFRESH_URL, content_type="application/json").status_code
                with lock:
                    statuses.append(status)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=refresh_once) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert sorted(statuses) == [200, 401]
        jti = claims(pair.refresh)["jti"]
        assert BlacklistedToken.objects.filter(token__jti=jti).count() == 1
