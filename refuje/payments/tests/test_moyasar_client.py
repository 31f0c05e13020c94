"""The httpx Moyasar client against the fake server: wire format, idempotent creates, error mapping."""

from __future__ import annotations

import base64
import socket
import uuid

import pytest

from refuje.providers.fakes.moyasar import APPROVED_CARD, DECLINED_CARD
from refuje.providers.moyasar import GatewayPayment, MoyasarClient, MoyasarError

CARD = {"type": "creditcard", "name": "Saleh Ali", "number": APPROVED_CARD, "month": "12", "year": "2099", "cvc": "123"}


def card(number: str = APPROVED_CARD, **extra) -> dict:
    return {**CARD, "number": number, "3ds": False, **extra}


def create(client: MoyasarClient, given_id: uuid.UUID | None = None, **kwargs) -> GatewayPayment:
    kwargs.setdefault("amount", 15000)
    kwargs.setdefault("currency", "SAR")
    kwargs.setdefault("source", card())
    return client.create_payment(given_id=given_id or uuid.uuid4(), **kwargs)


def test_requests_use_basic_auth_with_the_secret_key_and_an_empty_password(fake_moyasar):
    given_id = uuid.uuid4()
    payment = create(MoyasarClient(), given_id, metadata={"booking_id": "7"}, description="Booking #7")

    request = fake_moyasar.last_request
    assert (request.method, request.path) == ("POST", "/payments")
    expected = base64.b64encode(f"{fake_moyasar.secret_key}:".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    assert request.headers["user-agent"].startswith("Refuje/")
    assert request.json["given_id"] == str(given_id)
    assert request.json["amount"] == 15000
    assert request.json["currency"] == "SAR"
    assert payment.id == str(given_id)
    assert (payment.status, payment.amount, payment.metadata) == ("paid", 15000, {"booking_id": "7"})


def test_a_declined_card_is_a_failed_payment_not_an_error(fake_moyasar):
    payment = create(MoyasarClient(), source=card(DECLINED_CARD))

    assert payment.status == "failed"
    assert payment.message == "INSUFFICIENT FUNDS"
    assert fake_moyasar.payments[0]["status"] == "failed"


def test_a_3ds_card_is_initiated_until_the_payer_completes_it(fake_moyasar):
    client = MoyasarClient()
    payment = create(client, source={**CARD, "3ds": True})
    assert payment.status == "initiated"
    assert payment.raw["source"]["transaction_url"]

    fake_moyasar.complete_3ds(payment.id)

    assert client.fetch_payment(payment.id).status == "paid"


def test_create_retried_after_a_timeout_makes_one_payment(fake_moyasar, settings):
    settings.PROVIDER_HTTP_TIMEOUT_SECONDS = 0.3
    fake_moyasar.delay_next(1.0)  # the first create gets through, but its answer comes too late
    given_id = uuid.uuid4()

    payment = create(MoyasarClient(), given_id)

    assert payment.id == str(given_id)
    assert payment.status == "paid"
    assert [p["id"] for p in fake_moyasar.payments] == [str(given_id)]
    creates = [r for r in fake_moyasar.requests if (r.method, r.path) == ("POST", "/payments")]
    assert len(creates) == 2
    assert {r.json["given_id"] for r in creates} == {str(given_id)}


def test_create_retried_after_a_server_error_reuses_the_given_id(fake_moyasar):
    fake_moyasar.fail_next(1, status=503, body={"type": "api_error", "message": "Maintenance", "errors": None})
    given_id = uuid.uuid4()

    payment = create(MoyasarClient(), given_id)

    assert payment.id == str(given_id)
    assert len(fake_moyasar.payments) == 1


def test_a_given_id_used_for_another_payment_is_never_taken_for_ours(fake_moyasar):
    given_id = uuid.uuid4()
    create(MoyasarClient(), given_id, amount=5000)

    with pytest.raises(MoyasarError) as exc_info:
        create(MoyasarClient(), given_id, amount=15000)

    assert (exc_info.value.error_type, exc_info.value.transient) == ("used_given_id", False)


def test_validation_errors_are_permanent_with_field_errors(fake_moyasar):
    with pytest.raises(MoyasarError) as exc_info:
        create(MoyasarClient(), amount=99)

    error = exc_info.value
    assert (error.status_code, error.transient, error.error_type) == (400, False, "invalid_request_error")
    assert "amount" in error.errors


def test_wrong_secret_key_is_a_permanent_authentication_error(fake_moyasar, settings):
    settings.MOYASAR_SECRET_KEY = "sk_test_wrong"

    with pytest.raises(MoyasarError) as exc_info:
        MoyasarClient().fetch_payment(str(uuid.uuid4()))

    assert (exc_info.value.status_code, exc_info.value.error_type) == (401, "authentication_error")
    assert exc_info.value.transient is False


def test_the_publishable_key_cannot_fetch(fake_moyasar, settings):
    payment = create(MoyasarClient())
    settings.MOYASAR_SECRET_KEY = fake_moyasar.publishable_key

    with pytest.raises(MoyasarError) as exc_info:
        MoyasarClient().fetch_payment(payment.id)

    assert exc_info.value.status_code == 401


def test_unknown_payment_is_not_found(fake_moyasar):
    with pytest.raises(MoyasarError) as exc_info:
        MoyasarClient().fetch_payment(str(uuid.uuid4()))

    assert exc_info.value.not_found
    assert exc_info.value.transient is False


def test_malformed_ids_never_reach_the_network(fake_moyasar):
    with pytest.raises(MoyasarError):
        MoyasarClient().fetch_payment("../payments?x=1")
    assert fake_moyasar.requests == []


def test_server_errors_and_rate_limits_are_transient(fake_moyasar):
    fake_moyasar.fail_next(1, status=429, body={"type": "rate_limit_error", "message": "Too many", "errors": None})
    with pytest.raises(MoyasarError) as exc_info:
        MoyasarClient().fetch_payment(str(uuid.uuid4()))
    assert (exc_info.value.transient, exc_info.value.error_type) == (True, "rate_limit_error")


def test_network_failure_is_transient(settings):
    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.MOYASAR_BASE_URL = f"http://127.0.0.1:{port}"
    settings.MOYASAR_SECRET_KEY = "sk_test_x"
    with pytest.raises(MoyasarError) as exc_info:
        MoyasarClient().fetch_payment(str(uuid.uuid4()))
    assert exc_info.value.transient is True


def test_capture_partial_then_refund_partial_then_the_rest(fake_moyasar):
    client = MoyasarClient()
    payment = create(client, source=card(manual=True))
    assert payment.status == "authorized"

    captured = client.capture(payment.id, amount=12000)
    assert (captured.status, captured.captured) == ("captured", 12000)
    assert fake_moyasar.last_request.json == {"amount": 12000}

    partial = client.refund(payment.id, amount=2000)
    assert partial.refunded == 2000
    rest = client.refund(payment.id)
    assert (rest.status, rest.refunded) == ("refunded", 12000)
    assert fake_moyasar.payment(payment.id)["refunded_format"] == "120.00 SAR"


def test_refund_over_the_paid_amount_is_refused(fake_moyasar):
    client = MoyasarClient()
    payment = create(client)
    with pytest.raises(MoyasarError) as exc_info:
        client.refund(payment.id, amount=15001)
    assert (exc_info.value.status_code, exc_info.value.transient) == (400, False)
    assert fake_moyasar.payment(payment.id)["refunded"] == 0


def test_capture_of_a_paid_payment_and_refund_of_an_authorisation_are_refused(fake_moyasar):
    client = MoyasarClient()
    paid = create(client)
    held = create(client, source=card(manual=True))
    with pytest.raises(MoyasarError):
        client.capture(paid.id)
    with pytest.raises(MoyasarError):
        client.refund(held.id)


def test_void_releases_an_authorisation_once(fake_moyasar):
    client = MoyasarClient()
    held = create(client, source=card(manual=True))

    voided = client.void(held.id)

    assert voided.status == "voided"
    assert fake_moyasar.payment(held.id)["voided_at"]
    with pytest.raises(MoyasarError):
        client.void(held.id)
