"""The push API: the VAPID public key, registering and removing this browser's subscription."""

from __future__ import annotations

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from refuje.common.testing.factories import UserFactory
from refuje.push.models import PushSubscription
from refuje.push.services import push_subscription_upsert
from refuje.push.vapid import generate_key_pair

from .conftest import b64url, browser_keys, make_subscription, subscription_body

pytestmark = pytest.mark.django_db

KEY_URL = "/api/v1/push/vapid-public-key/"
SUBS_URL = "/api/v1/push/subscriptions/"


def post(client, body, language="en"):
    return client.post(SUBS_URL, body, format="json", HTTP_ACCEPT_LANGUAGE=language)


# --- VAPID public key ----------------------------------------------------------------------


def test_public_key_is_the_configured_one(vapid, user, client_for):
    response = client_for(user).get(KEY_URL)
    assert response.status_code == 200
    assert response.json() == {"public_key": vapid.public_key}


def test_public_key_needs_sign_in(vapid, client_for):
    response = client_for(None).get(KEY_URL)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("language", ["en", "ar"])
def test_unconfigured_push_is_a_clear_error_in_the_readers_language(settings, user, client_for, language):
    settings.VAPID_PUBLIC_KEY = ""
    settings.VAPID_PRIVATE_KEY = ""
    response = client_for(user).get(KEY_URL, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 404
    with translation.override(language):
        expected = gettext("Web push is not set up on this server.")
    assert response.json() == {"detail": expected, "code": "push_not_configured"}
    # Subscribing is refused the same way, and nothing is stored.
    response = post(client_for(user), subscription_body(), language)
    assert response.status_code == 404
    assert response.json()["code"] == "push_not_configured"
    assert not PushSubscription.objects.exists()


def test_misconfigured_push_is_not_offered(settings, user, client_for, vapid):
    settings.VAPID_PUBLIC_KEY = generate_key_pair().public_key  # not the private key's
    response = client_for(user).get(KEY_URL)
    assert response.status_code == 404
    assert response.json()["code"] == "push_not_configured"


# --- Subscribe -----------------------------------------------------------------------------


def test_subscribing_stores_the_browsers_subscription(vapid, user, client_for):
    body = subscription_body()
    response = client_for(user).post(SUBS_URL, body, format="json", HTTP_USER_AGENT="Firefox/140")
    assert response.status_code == 201
    stored = PushSubscription.objects.get()
    assert response.json()["id"] == stored.pk
    assert response.json()["endpoint"] == body["endpoint"]
    assert (stored.user, stored.endpoint, stored.user_agent) == (user, body["endpoint"], "Firefox/140")
    assert (stored.p256dh, stored.auth) == (body["keys"]["p256dh"], body["keys"]["auth"])  # type: ignore[index]


def test_padded_keys_are_stored_without_padding(vapid, user, client_for):
    body = subscription_body()
    keys = body["keys"]
    padded = {"p256dh": keys["p256dh"] + "=", "auth": keys["auth"] + "=="}  # type: ignore[index]
    assert post(client_for(user), {**body, "keys": padded}).status_code == 201
    stored = PushSubscription.objects.get()
    assert (stored.p256dh, stored.auth) == (keys["p256dh"], keys["auth"])  # type: ignore[index]


def test_subscribing_again_updates_keys_and_re_enables(vapid, user, client_for):
    old = make_subscription(user, failures=4, disabled_at=timezone.now(), last_error="boom")
    body = subscription_body(old.endpoint)
    response = post(client_for(user), body)
    assert response.status_code == 200
    stored = PushSubscription.objects.get()
    assert stored.pk == old.pk
    assert stored.p256dh == body["keys"]["p256dh"]  # type: ignore[index]
    assert (stored.failures, stored.disabled_at, stored.last_error) == (0, None, "")


def test_an_endpoint_of_another_user_moves_to_the_current_user(vapid, user, client_for):
    other = UserFactory.create()
    theirs = make_subscription(other)
    response = post(client_for(user), subscription_body(theirs.endpoint))
    assert response.status_code == 200
    moved = PushSubscription.objects.get()
    assert (moved.pk, moved.user) == (theirs.pk, user)


def test_each_user_keeps_a_bounded_number_of_subscriptions(vapid, settings, user, client_for):
    settings.PUSH_MAX_SUBSCRIPTIONS_PER_USER = 2
    client = client_for(user)
    first, second, third = (subscription_body() for _ in range(3))
    for body in (first, second, third):
        assert post(client, body).status_code == 201
    kept = set(PushSubscription.objects.filter(user=user).values_list("endpoint", flat=True))
    assert kept == {second["endpoint"], third["endpoint"]}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"endpoint": "http://fcm.googleapis.com/x"}, "endpoint", "The push service address must start with https://."),
        ({"endpoint": "https://127.0.0.1/x"}, "endpoint", "This push service address is not allowed."),
        ({"endpoint": "https://[::1]/x"}, "endpoint", "This push service address is not allowed."),
        ({"endpoint": "https://10.0.0.8/x"}, "endpoint", "This push service address is not allowed."),
        ({"endpoint": "https://169.254.169.254/latest"}, "endpoint", "This push service address is not allowed."),
        ({"endpoint": "https://localhost/x"}, "endpoint", "This push service address is not allowed."),
        ({"endpoint": "https://push.localhost/x"}, "endpoint", "This push service address is not allowed."),
        ({"endpoint": "https://redis.internal/x"}, "endpoint", "This push service address is not allowed."),
        ({"endpoint": "https://metadata/x"}, "endpoint", "This push service address is not allowed."),
        ({"endpoint": "https://127.1/x"}, "endpoint", "This push service address is not allowed."),
        ({"endpoint": "https://0x7f.0.0.1/x"}, "endpoint", "This push service address is not allowed."),
        ({"endpoint": "https://2130706433/x"}, "endpoint", "This push service address is not allowed."),
        ({"endpoint": "https://fcm.googleapis.com:8443/x"}, "endpoint", "This push service address is not allowed."),
        ({"endpoint": "https://user:pw@fcm.googleapis.com/x"}, "endpoint", "Enter a valid push service address."),
        ({"endpoint": "fcm.googleapis.com/x"}, "endpoint", "The push service address must start with https://."),
        ({"endpoint": "https:///x"}, "endpoint", "Enter a valid push service address."),
        ({"endpoint": "https://[::1/x"}, "endpoint", "Enter a valid push service address."),
    ],
)
@pytest.mark.parametrize("language", ["en", "ar"])
def test_endpoints_that_could_reach_our_network_are_refused(vapid, user, client_for, change, field, message, language):
    response = post(client_for(user), {**subscription_body(), **change}, language)
    assert response.status_code == 400, response.content
    with translation.override(language):
        expected = gettext(message)
    assert response.json() == {field: [expected], "code": "invalid"}
    assert not PushSubscription.objects.exists()


def test_an_overlong_endpoint_is_refused(vapid, user, client_for):
    response = post(client_for(user), subscription_body("https://fcm.googleapis.com/" + "a" * 2100))
    assert response.status_code == 400
    assert "endpoint" in response.json()


def _bad_point() -> str:
    # 65 bytes starting with 0x04 but not on the curve.
    return b64url(b"\x04" + b"\x01" * 64)


@pytest.mark.parametrize(
    ("keys", "field", "message"),
    [
        ({"p256dh": "not base64!"}, "p256dh", "The key must be base64url-encoded."),
        ({"p256dh": "abc+/def"}, "p256dh", "The key must be base64url-encoded."),
        (
            {"p256dh": b64url(b"\x04" + b"\x00" * 31)},
            "p256dh",
            "The p256dh key must be an uncompressed P-256 public key (65 bytes).",
        ),
        (
            {"p256dh": b64url(b"\x02" + b"\x11" * 64)},
            "p256dh",
            "The p256dh key must be an uncompressed P-256 public key (65 bytes).",
        ),
        ({"p256dh": _bad_point()}, "p256dh", "The p256dh key is not a point on the P-256 curve."),
        ({"auth": b64url(b"\x00" * 15)}, "auth", "The auth secret must be 16 bytes."),
        ({"auth": b64url(b"\x00" * 24)}, "auth", "The auth secret must be 16 bytes."),
        ({"auth": "%%%"}, "auth", "The key must be base64url-encoded."),
    ],
)
@pytest.mark.parametrize("language", ["en", "ar"])
def test_bad_keys_get_field_errors(vapid, user, client_for, keys, field, message, language):
    body = {**subscription_body(), "keys": {**browser_keys(), **keys}}
    response = post(client_for(user), body, language)
    assert response.status_code == 400, response.content
    with translation.override(language):
        expected = gettext(message)
    assert response.json() == {"keys": {field: [expected]}, "code": "invalid"}
    assert not PushSubscription.objects.exists()


def test_missing_fields_are_field_errors(vapid, user, client_for):
    response = post(client_for(user), {"endpoint": "https://fcm.googleapis.com/x"})
    assert response.status_code == 400
    assert set(response.json()) == {"keys", "code"}
    response = post(client_for(user), {"endpoint": "https://fcm.googleapis.com/x", "keys": {"auth": "x"}})
    assert response.status_code == 400
    assert set(response.json()["keys"]) == {"p256dh", "auth"}


def test_subscribing_needs_the_csrf_token(vapid, user, client_for):
    client = client_for(user)
    client.send_csrf_token = False
    response = post(client, subscription_body())
    assert response.status_code == 403
    assert not PushSubscription.objects.exists()


# --- Unsubscribe ---------------------------------------------------------------------------


def test_removing_my_subscription(vapid, user, client_for):
    mine = make_subscription(user)
    kept = make_subscription(user)
    response = client_for(user).delete(SUBS_URL, {"endpoint": mine.endpoint}, format="json")
    assert response.status_code == 204
    assert list(PushSubscription.objects.values_list("pk", flat=True)) == [kept.pk]


def test_removing_by_query_parameter(vapid, user, client_for):
    mine = make_subscription(user)
    response = client_for(user).delete(f"{SUBS_URL}?endpoint={mine.endpoint}")
    assert response.status_code == 204
    assert not PushSubscription.objects.exists()


def test_removing_works_even_when_push_is_switched_off(settings, user, client_for):
    settings.VAPID_PUBLIC_KEY = settings.VAPID_PRIVATE_KEY = ""
    mine = make_subscription(user)
    assert client_for(user).delete(SUBS_URL, {"endpoint": mine.endpoint}, format="json").status_code == 204


def test_someone_elses_subscription_is_the_same_404_as_an_unknown_one(vapid, user, client_for):
    theirs = make_subscription(UserFactory.create())
    client = client_for(user)
    other = client.delete(SUBS_URL, {"endpoint": theirs.endpoint}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    unknown = client.delete(SUBS_URL, {"endpoint": "https://x.example/nope"}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert other.status_code == unknown.status_code == 404
    assert other.json() == unknown.json() == {"detail": "Not found.", "code": "not_found"}
    assert PushSubscription.objects.filter(pk=theirs.pk, user=theirs.user).exists()


def test_removing_without_an_endpoint_is_a_field_error(vapid, user, client_for):
    response = client_for(user).delete(SUBS_URL, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "endpoint" in response.json()


def test_the_user_agent_is_kept_printable_and_short(vapid, user):
    body = subscription_body()
    keys = body["keys"]
    assert isinstance(keys, dict)
    subscription, _ = push_subscription_upsert(
        user=user, endpoint=str(body["endpoint"]), user_agent="Fire\x00fox\n" + "x" * 600, **keys
    )
    subscription.refresh_from_db()
    assert subscription.user_agent == "Firefox" + "x" * 505
