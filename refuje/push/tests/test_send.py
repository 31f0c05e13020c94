"""Delivery end to end against the local fake push service, which verifies VAPID and decrypts."""

from __future__ import annotations

import socket
import time

import pytest
from django.utils import timezone

from refuje.common.testing.factories import UserFactory
from refuje.providers.fakes.push import ClientSubscription, FakePushService
from refuje.providers.fakes.push_fixtures import VAPID_TEST_SUBJECT
from refuje.push.models import PushSubscription
from refuje.push.services import (
    MAX_PAYLOAD_BYTES,
    PushPayloadTooLarge,
    push_deliver,
    push_has_working_subscription,
    push_send_to_user,
    push_subscription_upsert,
)
from refuje.push.tasks import send_to_user_task
from refuje.push.validation import is_public_address
from refuje.push.vapid import CLAIMS_LIFETIME_SECONDS, fresh_claims, generate_key_pair

from .conftest import browser_keys

pytestmark = pytest.mark.django_db

PAYLOAD = {"title": "طلبك في الطريق", "body": "Towels for room 204 — على وشك الوصول", "url": "/guest/requests/7/"}


def subscribe(user, fake: FakePushService) -> tuple[PushSubscription, ClientSubscription]:
    client = fake.subscribe()
    subscription, _ = push_subscription_upsert(
        user=user, endpoint=client.endpoint, p256dh=client.p256dh, auth=client.auth
    )
    return subscription, client


def test_the_exact_payload_arrives_encrypted_with_ttl_urgency_and_a_valid_vapid_token(fake_push, settings):
    user = UserFactory.create()
    first, _ = subscribe(user, fake_push)
    second, _ = subscribe(user, fake_push)
    PushSubscription.objects.filter(pk=first.pk).update(failures=2)
    started = int(time.time())

    assert push_send_to_user(user, PAYLOAD, ttl=120, urgency="high") == 2

    for subscription in (first, second):
        (message,) = fake_push.messages_for(subscription.endpoint)
        assert message.status == 201, message.error
        assert message.json == PAYLOAD
        assert (message.ttl, message.urgency, message.topic) == ("120", "high", None)
        assert message.content_encoding == "aes128gcm"
        assert message.vapid_key == settings.VAPID_PUBLIC_KEY
        assert message.claims is not None
        assert message.claims["sub"] == VAPID_TEST_SUBJECT
        assert message.claims["aud"] == fake_push.origin
        assert started + CLAIMS_LIFETIME_SECONDS <= message.claims["exp"] <= int(time.time()) + CLAIMS_LIFETIME_SECONDS
        subscription.refresh_from_db()
        assert subscription.failures == 0
        assert subscription.last_used_at is not None


def test_defaults_are_an_hour_and_normal_urgency_and_a_topic_can_be_set(fake_push):
    user = UserFactory.create()
    subscription, _ = subscribe(user, fake_push)
    assert push_send_to_user(user, PAYLOAD) == 1
    assert push_send_to_user(user, PAYLOAD, topic="request-7", urgency="very-low", ttl=0) == 1
    first, second = fake_push.messages_for(subscription.endpoint)
    assert (first.ttl, first.urgency, first.topic) == ("3600", "normal", None)
    assert (second.ttl, second.urgency, second.topic) == ("0", "very-low", "request-7")


def test_only_the_users_own_subscriptions_get_the_message(fake_push):
    user, other = UserFactory.create(), UserFactory.create()
    subscribe(user, fake_push)
    theirs, _ = subscribe(other, fake_push)
    assert push_send_to_user(user, PAYLOAD) == 1
    assert fake_push.messages_for(theirs.endpoint) == []


def test_claims_are_fresh_for_every_push_service_and_every_call(fake_push, settings):
    """pywebpush writes `aud` into the claims dict it gets: a shared dict would stay pinned to the
    first push service, and the second would refuse the token (403)."""
    user = UserFactory.create()
    with FakePushService(application_server_key=settings.VAPID_PUBLIC_KEY) as other_service:
        on_first, _ = subscribe(user, fake_push)
        on_second, _ = subscribe(user, other_service)
        assert fake_push.origin != other_service.origin

        assert push_send_to_user(user, PAYLOAD) == 2
        assert push_send_to_user(user, {"title": "again"}) == 2

        for service, subscription in ((fake_push, on_first), (other_service, on_second)):
            messages = service.messages_for(subscription.endpoint)
            assert [m.status for m in messages] == [201, 201], [m.error for m in messages]
            assert {m.claims["aud"] for m in messages if m.claims} == {service.origin}


def test_fresh_claims_are_a_new_dict_each_time():
    first = fresh_claims(subject="mailto:a@b.example", endpoint="https://one.example/x", now=1000)
    second = fresh_claims(subject="mailto:a@b.example", endpoint="https://two.example:8443/y", now=2000)
    assert first is not second
    assert first == {"sub": "mailto:a@b.example", "aud": "https://one.example", "exp": 1000 + CLAIMS_LIFETIME_SECONDS}
    assert second["aud"] == "https://two.example:8443"


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_deleted(fake_push, status):
    user = UserFactory.create()
    gone, _ = subscribe(user, fake_push)
    alive, _ = subscribe(user, fake_push)
    fake_push.answer_with(gone.endpoint, status)

    report = push_deliver(user_id=user.pk, payload=PAYLOAD)

    assert (report.sent, report.removed, report.retry_ids) == (1, 1, [])
    assert list(PushSubscription.objects.values_list("pk", flat=True)) == [alive.pk]
    assert push_has_working_subscription(user)


def test_failures_are_counted_and_disable_the_subscription_after_the_limit(fake_push, settings):
    settings.PUSH_MAX_CONSECUTIVE_FAILURES = 3
    user = UserFactory.create()
    subscription, client = subscribe(user, fake_push)
    fake_push.answer_with(subscription.endpoint, 500)

    for expected in (1, 2, 3):
        assert push_send_to_user(user, PAYLOAD) == 0
        subscription.refresh_from_db()
        assert subscription.failures == expected
        assert (subscription.disabled_at is not None) == (expected == 3)
    assert "500" in subscription.last_error
    assert not push_has_working_subscription(user)

    # Disabled: nothing more is sent to it.
    assert push_send_to_user(user, PAYLOAD) == 0
    assert len(fake_push.messages_for(subscription.endpoint)) == 3

    # The browser subscribes again (e.g. on its next visit): enabled, and messages flow.
    fake_push.answer_with(subscription.endpoint, 201)
    push_subscription_upsert(user=user, endpoint=client.endpoint, p256dh=client.p256dh, auth=client.auth)
    assert push_has_working_subscription(user)
    assert push_send_to_user(user, PAYLOAD) == 1


def test_a_success_resets_the_consecutive_failures(fake_push):
    user = UserFactory.create()
    subscription, _ = subscribe(user, fake_push)
    fake_push.answer_with(subscription.endpoint, 500)
    push_send_to_user(user, PAYLOAD)
    fake_push.answer_with(subscription.endpoint, 201)
    assert push_send_to_user(user, PAYLOAD) == 1
    subscription.refresh_from_db()
    assert (subscription.failures, subscription.last_error) == (0, "")


def test_a_token_the_push_service_refuses_is_counted_but_the_subscription_is_kept(fake_push, settings):
    """403: our key is not the one the browser subscribed with. Alert, do not delete."""
    user = UserFactory.create()
    with FakePushService(application_server_key=generate_key_pair().public_key) as strict:
        subscription, _ = subscribe(user, strict)
        assert push_send_to_user(user, PAYLOAD) == 0
        (message,) = strict.received
        assert message.status == 403
    subscription.refresh_from_db()
    assert subscription.failures == 1
    assert "403" in subscription.last_error


def test_rate_limits_are_retried_later_and_not_held_against_the_subscription(fake_push):
    user = UserFactory.create()
    subscription, _ = subscribe(user, fake_push)
    fake_push.answer_with(subscription.endpoint, 429, retry_after=7)
    report = push_deliver(user_id=user.pk, payload=PAYLOAD)
    assert (report.sent, report.failed, report.retry_ids, report.retry_after) == (0, 1, [subscription.pk], 7)
    subscription.refresh_from_db()
    assert subscription.failures == 0


def test_a_too_large_answer_is_not_held_against_the_subscription(fake_push):
    user = UserFactory.create()
    subscription, _ = subscribe(user, fake_push)
    fake_push.answer_with(subscription.endpoint, 413)
    report = push_deliver(user_id=user.pk, payload=PAYLOAD)
    assert (report.sent, report.failed, report.retry_ids) == (0, 1, [])
    subscription.refresh_from_db()
    assert subscription.failures == 0


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_network_failures_are_counted_and_retryable(fake_push):
    user = UserFactory.create()
    client = fake_push.subscribe()
    subscription, _ = push_subscription_upsert(
        user=user, endpoint=f"http://127.0.0.1:{_closed_port()}/push/x", p256dh=client.p256dh, auth=client.auth
    )
    report = push_deliver(user_id=user.pk, payload=PAYLOAD)
    assert (report.sent, report.failed, report.retry_ids) == (0, 1, [subscription.pk])
    subscription.refresh_from_db()
    assert subscription.failures == 1
    assert "network error" in subscription.last_error


def test_a_slow_push_service_times_out_after_the_provider_timeout(fake_push, settings):
    settings.PROVIDER_HTTP_TIMEOUT_SECONDS = 0.3
    user = UserFactory.create()
    subscription, _ = subscribe(user, fake_push)
    fake_push.delay_next(3)
    report = push_deliver(user_id=user.pk, payload=PAYLOAD)
    assert (report.sent, report.retry_ids) == (0, [subscription.pk])
    subscription.refresh_from_db()
    assert subscription.last_error == "push service timed out"


def test_redirects_are_not_followed(fake_push, settings):
    user = UserFactory.create()
    with FakePushService(application_server_key=settings.VAPID_PUBLIC_KEY) as elsewhere:
        target = elsewhere.subscribe()
        subscription, _ = subscribe(user, fake_push)
        fake_push.answer_with(subscription.endpoint, 307, headers={"Location": target.endpoint})
        assert push_send_to_user(user, PAYLOAD) == 0
        assert elsewhere.requests == []
    subscription.refresh_from_db()
    assert subscription.failures == 1


def test_stored_endpoints_are_checked_again_when_sending(fake_push, settings):
    """A loopback endpoint stored while insecure endpoints were allowed is refused once they are
    not: nothing reaches the address, and the subscription is counted as failing."""
    user = UserFactory.create()
    subscription, _ = subscribe(user, fake_push)
    settings.PUSH_ALLOW_INSECURE_ENDPOINTS = False
    report = push_deliver(user_id=user.pk, payload=PAYLOAD)
    assert (report.sent, report.failed, report.retry_ids) == (0, 1, [])
    assert fake_push.requests == []
    subscription.refresh_from_db()
    assert subscription.failures == 1
    assert subscription.last_error.startswith("endpoint refused")


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 - an address under test, not a bind
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("224.0.0.1", False),
        ("142.250.74.10", True),
        ("2001:4860:4860::8888", True),
    ],
)
def test_only_public_addresses_may_be_reached(address, public):
    assert is_public_address(address) is public


def test_a_long_body_is_shortened_to_fit_a_push_message(fake_push):
    user = UserFactory.create()
    subscription, _ = subscribe(user, fake_push)
    long_body = "مرحبا بكم في الفندق " * 400
    assert push_send_to_user(user, {"title": "t", "body": long_body, "url": "/x"}) == 1
    (message,) = fake_push.messages_for(subscription.endpoint)
    assert message.payload is not None
    assert len(message.payload) <= MAX_PAYLOAD_BYTES
    assert message.json["title"] == "t"
    assert message.json["url"] == "/x"
    assert message.json["body"].endswith("…")
    assert long_body.startswith(message.json["body"].removesuffix("…"))


def test_a_payload_that_cannot_be_shortened_is_refused_before_sending(fake_push):
    user = UserFactory.create()
    subscribe(user, fake_push)
    with pytest.raises(PushPayloadTooLarge):
        push_send_to_user(user, {"title": "x" * (MAX_PAYLOAD_BYTES + 1)})
    assert fake_push.requests == []


@pytest.mark.parametrize(
    "options", [{"ttl": -1}, {"ttl": 10**9}, {"urgency": "urgent"}, {"topic": "no spaces"}, {"topic": "x" * 33}]
)
def test_bad_options_are_programming_errors(fake_push, options):
    user = UserFactory.create()
    subscribe(user, fake_push)
    with pytest.raises(ValueError, match="must be"):
        push_send_to_user(user, PAYLOAD, **options)
    assert fake_push.requests == []


def test_without_configuration_nothing_is_sent(fake_push, settings):
    user = UserFactory.create()
    subscribe(user, fake_push)
    settings.VAPID_PUBLIC_KEY = settings.VAPID_PRIVATE_KEY = ""
    assert push_send_to_user(user, PAYLOAD) == 0
    assert not push_has_working_subscription(user)
    assert fake_push.requests == []


def test_working_subscription_means_an_enabled_one_of_this_user(fake_push):
    user, other = UserFactory.create(), UserFactory.create()
    assert not push_has_working_subscription(user)
    subscription, _ = subscribe(user, fake_push)
    assert push_has_working_subscription(user)
    assert not push_has_working_subscription(other)
    PushSubscription.objects.filter(pk=subscription.pk).update(disabled_at=timezone.now())
    assert not push_has_working_subscription(user)


# --- The Celery task -----------------------------------------------------------------------


def test_the_task_retries_only_the_subscriptions_that_failed_transiently(fake_push, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    user = UserFactory.create()
    first, _ = subscribe(user, fake_push)
    second, _ = subscribe(user, fake_push)
    fake_push.fail_next(1, status=503)  # the first delivery attempt (subscriptions go in id order)

    send_to_user_task.apply(kwargs={"user_id": user.pk, "payload": PAYLOAD, "ttl": 600, "urgency": "high"})

    first_messages = fake_push.messages_for(first.endpoint)
    assert [m.ttl for m in first_messages] == ["570"]  # the retry, with the TTL shortened by the wait
    assert first_messages[0].json == PAYLOAD
    assert [m.ttl for m in fake_push.messages_for(second.endpoint)] == ["600"]  # exactly once
    assert len(fake_push.requests) == 3


def test_the_task_gives_up_after_the_configured_retries(fake_push, settings):
    settings.PUSH_SEND_MAX_RETRIES = 0
    user = UserFactory.create()
    subscription, _ = subscribe(user, fake_push)
    fake_push.answer_with(subscription.endpoint, 503)
    result = send_to_user_task.apply(kwargs={"user_id": user.pk, "payload": PAYLOAD})
    assert result.get() == 0
    assert len(fake_push.requests) == 1


def test_the_task_returns_the_number_delivered_and_skips_inactive_users(fake_push):
    user = UserFactory.create()
    subscribe(user, fake_push)
    assert send_to_user_task.apply(kwargs={"user_id": user.pk, "payload": PAYLOAD}).get() == 1
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert send_to_user_task.apply(kwargs={"user_id": user.pk, "payload": PAYLOAD}).get() == 0
    assert send_to_user_task.apply(kwargs={"user_id": 10**9, "payload": PAYLOAD}).get() == 0
    assert len(fake_push.requests) == 1


def test_a_name_that_does_not_resolve_is_not_contacted_and_retried_later(vapid):
    """Production rules (https, public names): `.invalid` never resolves (RFC 6761)."""
    user = UserFactory.create()
    subscription, _ = push_subscription_upsert(
        user=user, endpoint="https://push.refuje.invalid/send/x", **browser_keys()
    )
    report = push_deliver(user_id=user.pk, payload=PAYLOAD)
    assert (report.sent, report.failed, report.retry_ids) == (0, 1, [subscription.pk])
    subscription.refresh_from_db()
    assert subscription.last_error.startswith("endpoint host does not resolve")


def test_keys_that_cannot_encrypt_fail_that_subscription_only(fake_push):
    """Keys are checked on the way in; a row damaged later must not stop the user's other browsers."""
    user = UserFactory.create()
    broken, _ = subscribe(user, fake_push)
    working, _ = subscribe(user, fake_push)
    PushSubscription.objects.filter(pk=broken.pk).update(p256dh="BAAA")
    report = push_deliver(user_id=user.pk, payload=PAYLOAD)
    assert (report.sent, report.failed, report.retry_ids) == (1, 1, [])
    assert fake_push.messages_for(broken.endpoint) == []
    assert [m.status for m in fake_push.messages_for(working.endpoint)] == [201]
    broken.refresh_from_db()
    assert broken.failures == 1
