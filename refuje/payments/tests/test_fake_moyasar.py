"""The fake must behave like Moyasar (providers.md section 1), or the client tests prove nothing."""

from __future__ import annotations

import uuid

import httpx

from refuje.providers.fakes.moyasar import FakeMoyasar


def call(fake: FakeMoyasar, method: str, path: str, *, key: str | None = None, password: str = "", **kwargs):
    return httpx.request(method, fake.url + path, auth=(key or fake.secret_key, password), timeout=5, **kwargs)


def test_keys_and_permissions():
    with FakeMoyasar() as fake:
        created = fake.pay(given_id=uuid.uuid4(), amount=1000)
        assert created["status"] == "paid"
        # The publishable key creates but cannot read; a password is never accepted.
        assert call(fake, "GET", f"/payments/{created['id']}", key=fake.publishable_key).status_code == 401
        assert call(fake, "GET", f"/payments/{created['id']}", password="x").status_code == 401
        denied = call(fake, "GET", "/payments", key="sk_test_nope")
        assert denied.json() == {
            "type": "authentication_error",
            "message": "Invalid authorization credentials",
            "errors": None,
        }
        assert call(fake, "GET", f"/payments/{created['id']}").json()["amount_format"] == "10.00 SAR"


def test_validation_and_not_found_bodies():
    with FakeMoyasar() as fake:
        bad = call(fake, "POST", "/payments", json={"amount": 99.5, "currency": "sar", "source": {"type": "cash"}})
        assert bad.status_code == 400
        assert bad.json()["type"] == "invalid_request_error"
        assert set(bad.json()["errors"]) == {"amount", "currency", "source"}
        missing = call(fake, "GET", f"/payments/{uuid.uuid4()}")
        assert (missing.status_code, missing.json()) == (404, {"type": "api_error", "message": "Object not found"})


def test_given_id_is_single_use_and_lists_carry_meta():
    with FakeMoyasar() as fake:
        given = uuid.uuid4()
        fake.pay(given_id=given, amount=1000, metadata={"booking_id": "9"})
        again = fake.pay(given_id=given, amount=1000)
        assert again["type"] == "used_given_id"
        fake.pay(given_id=uuid.uuid4(), amount=2000)
        listed = call(fake, "GET", "/payments", params={"metadata[booking_id]": "9"}).json()
        assert [p["id"] for p in listed["payments"]] == [str(given)]
        assert listed["meta"]["total_count"] == 1
        assert call(fake, "GET", "/payments").json()["meta"]["total_count"] == 2


def test_webhook_builder_modes():
    with FakeMoyasar() as fake:
        created = fake.pay(given_id=uuid.uuid4(), amount=1000)
        event = fake.webhook(created["id"])
        assert set(event) == {"id", "type", "created_at", "secret_token", "account_name", "live", "data"}
        assert (event["type"], event["secret_token"], event["live"]) == ("payment_paid", fake.webhook_secret, False)
        assert event["data"]["id"] == created["id"]
        assert "_card" not in event["data"]
        assert fake.webhook(created["id"], event_id=event["id"])["id"] == event["id"]  # a retried delivery
        assert fake.webhook(created["id"], secret_token="forged")["secret_token"] == "forged"
