"""auth/profile/: read and change one's own name, e-mail and language."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from refuje.accounts.models import User
from refuje.accounts.sessions import session_start
from refuje.common.testing.factories import UserFactory
from refuje.compliance.models import AuditEvent

from .test_auth_support import PROFILE_URL, browser_login, staff_with_password, unique_email, unique_ip

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_client_address(api_client):
    api_client.defaults["REMOTE_ADDR"] = unique_ip()


@pytest.fixture
def signed_in(api_client):
    # A fresh address per test: sign-in attempts are counted per e-mail address.
    user = staff_with_password(email=unique_email("me"), full_name="Old Name", preferred_language="ar")
    csrf = browser_login(api_client, user)
    return api_client, csrf, user


def _patch(signed_in, body, **extra):
    client, csrf, _ = signed_in
    return client.patch(PROFILE_URL, body, format="json", HTTP_X_CSRFTOKEN=csrf, **extra)


def test_profile_needs_a_sign_in(api_client):
    assert api_client.get(PROFILE_URL).status_code == 401


def test_profile_shows_the_signed_in_person(signed_in):
    client, _, user = signed_in

    body = client.get(PROFILE_URL).json()

    assert body["id"] == user.id
    assert body["phone_number"] == user.phone_number
    assert body["email"] == user.email
    assert body["full_name"] == "Old Name"


def test_profile_changes_are_saved_normalised_and_audited(signed_in):
    _, _, user = signed_in
    previous_email = user.email

    response = _patch(
        signed_in, {"full_name": "  Noura Al-Harbi ", "email": " Noura@Example.COM ", "preferred_language": "en"}
    )

    assert response.status_code == 200, response.content
    assert response.json()["email"] == "noura@example.com"
    user.refresh_from_db()
    assert (user.full_name, user.email, user.preferred_language) == ("Noura Al-Harbi", "noura@example.com", "en")
    event = AuditEvent.objects.get(action="account.profile_update", actor=user)
    assert (event.before or {}).get("email") == previous_email
    assert (event.after or {}).get("email") == "noura@example.com"


def test_a_partial_change_leaves_the_other_fields(signed_in):
    _, _, user = signed_in
    email = user.email

    assert _patch(signed_in, {"preferred_language": "en"}).status_code == 200

    user.refresh_from_db()
    assert (user.full_name, user.email, user.preferred_language) == ("Old Name", email, "en")


@pytest.mark.parametrize("blank", ["", "   ", None], ids=["empty", "spaces", "null"])
def test_a_blank_email_removes_it(signed_in, blank):
    _, _, user = signed_in

    response = _patch(signed_in, {"email": blank})

    assert response.status_code == 200, response.content
    assert response.json()["email"] is None
    user.refresh_from_db()
    assert user.email is None


def test_an_email_used_by_someone_else_is_a_field_error(signed_in):
    _, _, user = signed_in
    email = user.email
    UserFactory.create(email="taken@example.com")

    response = _patch(signed_in, {"email": "Taken@EXAMPLE.com", "full_name": "Changed"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["email"]
    user.refresh_from_db()
    assert (user.email, user.full_name) == (email, "Old Name")


def test_keeping_ones_own_email_in_another_case_is_fine(signed_in):
    _, _, user = signed_in

    assert _patch(signed_in, {"email": user.email.upper()}).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"preferred_language": "fr"}, "preferred_language"),
        ({"full_name": "x" * 151}, "full_name"),
    ],
)
def test_invalid_values_are_field_errors(signed_in, body, field):
    response = _patch(signed_in, body, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json()[field]


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_an_email_claimed_concurrently_is_a_field_error_not_a_server_error():
    """The pre-check cannot see an uncommitted claim; the unique index then decides."""
    rival = UserFactory.create()
    me = UserFactory.create(email="mine@example.com")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {session_start(user=me).access}")
    responses: list = []
    errors: list[Exception] = []

    def change_my_email():
        try:
            responses.append(client.patch(PROFILE_URL, {"email": "contested@example.com"}, format="json"))
        except Exception as exc:  # surfaced below: a crash here is exactly the failure we test for
            errors.append(exc)
        finally:
            connections.close_all()

    worker = threading.Thread(target=change_my_email)
    with transaction.atomic():
        User.objects.filter(pk=rival.pk).update(email="contested@example.com")
        worker.start()
        _wait_until_blocked_on_a_lock()
    worker.join(timeout=30)

    assert not errors, errors
    (response,) = responses
    assert response.status_code == 400
    assert response.json()["email"]
    me.refresh_from_db()
    assert me.email == "mine@example.com"


def _wait_until_blocked_on_a_lock(timeout: float = 10.0) -> None:
    """Wait until another session of this database waits for a lock (our uncommitted row)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            # Inside a transaction PostgreSQL keeps serving its first snapshot of the activity view.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the profile change never reached the unique index")
