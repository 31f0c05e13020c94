"""Moyasar webhooks: authenticated by the shared secret, stored once, applied from a fresh fetch."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from refuje.bookings.models import BookingStatus
from refuje.payments.models import LedgerEntry, Payment, PaymentStatus, Refund, WebhookEvent, WebhookOutcome

from .conftest import PRICE, webhook_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return APIClient(enforce_csrf_checks=True)


def test_paid_webhook_confirms_the_booking(scene, client):
    scene.pay()

    response = webhook_post(client, scene.fake.webhook(str(scene.payment.given_id)))

    assert response.status_code == 200, response.content
    assert response.json() == {"outcome": "applied"}
    scene.refresh()
    assert scene.payment.status == PaymentStatus.PAID
    assert scene.booking.status == BookingStatus.CONFIRMED
    [event] = WebhookEvent.objects.all()
    assert (event.provider, event.event_type, event.outcome) == ("moyasar", "payment_paid", WebhookOutcome.APPLIED)
    assert event.processed_at is not None
    assert event.payment == scene.payment
    assert "secret_token" not in event.payload
    # The state applied came from a fresh fetch with the secret key, not from the event body.
    assert scene.fake.last_request.path == f"/payments/{scene.payment.given_id}"


def test_repeated_event_is_applied_once(scene, client):
    scene.pay()
    body = scene.fake.webhook(str(scene.payment.given_id))

    outcomes = [webhook_post(client, body).json()["outcome"] for _ in range(3)]

    assert outcomes == ["applied", "applied", "applied"]  # the stored outcome of the one application
    assert WebhookEvent.objects.count() == 1
    assert LedgerEntry.objects.count() == 1


@pytest.mark.parametrize("secret", ["", "wrong-secret", None])
def test_bad_secret_is_403_and_nothing_is_written(scene, client, secret):
    scene.pay()
    body = scene.fake.webhook(str(scene.payment.given_id), secret_token=secret if secret is not None else "")
    if secret is None:
        del body["secret_token"]

    response = webhook_post(client, body)

    assert response.status_code == 403
    assert response.json()["code"] == "webhook_forbidden"
    assert not WebhookEvent.objects.exists()
    scene.refresh()
    assert scene.payment.status == PaymentStatus.INITIATED


def test_unset_secret_refuses_every_webhook(scene, client, settings):
    scene.pay()
    body = scene.fake.webhook(str(scene.payment.given_id))
    settings.MOYASAR_WEBHOOK_SECRET = ""

    assert webhook_post(client, body).status_code == 403
    assert webhook_post(client, {**body, "secret_token": ""}).status_code == 403
    assert not WebhookEvent.objects.exists()


def test_refunded_before_paid_ends_refunded(scene, client, fake_moyasar):
    scene.pay()
    paid_event = fake_moyasar.webhook(str(scene.payment.given_id))
    fake_moyasar.set_status(str(scene.payment.given_id), "refunded", refunded=PRICE)
    refunded_event = fake_moyasar.webhook(str(scene.payment.given_id))
    assert refunded_event["type"] == "payment_refunded"

    assert webhook_post(client, refunded_event).status_code == 200
    assert webhook_post(client, paid_event).status_code == 200

    scene.refresh()
    assert scene.payment.status == PaymentStatus.REFUNDED
    assert scene.payment.refunded_minor == PRICE
    assert [(e.kind, e.amount_minor) for e in LedgerEntry.objects.order_by("id")] == [
        ("charge", PRICE),
        ("refund", PRICE),
    ]
    # Money that came back at once never confirms the booking.
    assert scene.booking.status == BookingStatus.PENDING_PAYMENT


def test_events_in_any_order_reach_the_same_state(scene, client, fake_moyasar):
    scene.pay()
    given = str(scene.payment.given_id)
    first = fake_moyasar.webhook(given)
    fake_moyasar.set_status(given, "paid", refunded=5000)
    second = fake_moyasar.webhook(given, "payment_refunded")

    for body in (second, first, second, first):
        webhook_post(client, body)

    scene.refresh()
    assert (scene.payment.status, scene.payment.refunded_minor) == (PaymentStatus.PARTIALLY_REFUNDED, 5000)
    assert LedgerEntry.objects.count() == 2
    assert scene.booking.status == BookingStatus.CONFIRMED


def test_unknown_payment_is_stored_and_acknowledged(db, client, fake_moyasar):
    fake_moyasar.pay(given_id="6f1c2d3e-4b5a-4c6d-8e7f-0123456789ab", amount=5000)

    response = webhook_post(client, fake_moyasar.webhook("6f1c2d3e-4b5a-4c6d-8e7f-0123456789ab"))

    assert response.json() == {"outcome": "unknown_payment"}
    assert WebhookEvent.objects.get().outcome == WebhookOutcome.UNKNOWN_PAYMENT


def test_events_of_the_other_environment_are_ignored(scene, client):
    scene.pay()

    response = webhook_post(client, scene.fake.webhook(str(scene.payment.given_id), live=True))

    assert response.json() == {"outcome": "ignored"}
    assert scene.refresh().payment.status == PaymentStatus.INITIATED


def test_non_payment_events_are_ignored(scene, client):
    body = scene.fake.webhook(str(scene.payment.given_id), "webhook_verification", data={"id": "wh_1"})
    assert webhook_post(client, body).json() == {"outcome": "ignored"}


def test_moyasar_unreachable_is_503_and_the_retry_applies_it(scene, client, fake_moyasar):
    scene.pay()
    body = fake_moyasar.webhook(str(scene.payment.given_id))
    fake_moyasar.fail_next(1, status=500, body={"type": "api_error", "message": "boom", "errors": None})

    assert webhook_post(client, body).status_code == 503
    assert WebhookEvent.objects.get().processed_at is None

    assert webhook_post(client, body).json() == {"outcome": "applied"}
    assert scene.refresh().payment.status == PaymentStatus.PAID


def test_a_forged_event_body_cannot_change_amounts(scene, client, fake_moyasar):
    """The event's own data is ignored: a body claiming a full refund changes nothing at Moyasar's word."""
    scene.pay()
    webhook_post(client, fake_moyasar.webhook(str(scene.payment.given_id)))
    body = fake_moyasar.webhook(str(scene.payment.given_id), "payment_refunded")
    body["data"] = {**body["data"], "status": "refunded", "refunded": PRICE}

    webhook_post(client, body)

    assert scene.refresh().payment.status == PaymentStatus.PAID
    assert not Refund.objects.exists()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=st.dictionaries(
        st.sampled_from(["id", "type", "data", "live", "created_at", "account_name", "x"]), json_values, max_size=7
    ),
    with_secret=st.booleans(),
)
def test_webhook_body_fuzz_never_500s(fake_moyasar, body, with_secret):
    client = APIClient()
    if with_secret:
        body = {**body, "secret_token": fake_moyasar.webhook_secret}
    response = client.post("/api/v1/webhooks/moyasar/", json.dumps(body), content_type="application/json")
    assert response.status_code < 500, response.content
    if not with_secret:
        assert response.status_code == 403


def test_null_characters_are_refused_not_a_500(scene):
    scene.pay()
    body = scene.fake.webhook(str(scene.payment.given_id))
    body["data"] = {**body["data"], "description": "a\x00b"}
    response = webhook_post(APIClient(), body)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1,2]", b'"text"', b"null", b'{"secret_token": 5}', b"\xff\xfe"])
def test_malformed_bodies_are_refused_without_a_500(db, fake_moyasar, raw):
    response = APIClient().post("/api/v1/webhooks/moyasar/", raw, content_type="application/json")
    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()
    assert not Payment.objects.exists()
