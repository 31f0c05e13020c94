from __future__ import annotations

import base64
import secrets

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from refuje.accounts.models import User
from refuje.common.testing.factories import UserFactory
from refuje.common.testing.tenancy import BrowserClient, browser_client
from refuje.push.models import PushSubscription
from refuje.push.vapid import generate_key_pair


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def browser_keys() -> dict[str, str]:
    """Keys as a browser makes them: a P-256 point and a 16-byte auth secret."""
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return {"p256dh": b64url(point), "auth": b64url(secrets.token_bytes(16))}


def subscription_body(endpoint: str | None = None) -> dict[str, object]:
    endpoint = endpoint or f"https://fcm.googleapis.com/fcm/send/{secrets.token_urlsafe(20)}"
    return {"endpoint": endpoint, "expirationTime": None, "keys": browser_keys()}


def make_subscription(user: User, endpoint: str | None = None, **fields: object) -> PushSubscription:
    body = subscription_body(endpoint)
    keys = body["keys"]
    assert isinstance(keys, dict)
    return PushSubscription.objects.create(
        user=user, endpoint=str(body["endpoint"]), p256dh=keys["p256dh"], auth=keys["auth"], **fields
    )


@pytest.fixture
def vapid(settings):
    """Push configured with a fresh key pair (production rules for endpoints: https, public)."""
    pair = generate_key_pair()
    settings.VAPID_PUBLIC_KEY = pair.public_key
    settings.VAPID_PRIVATE_KEY = pair.private_key
    settings.VAPID_SUBJECT = "mailto:ops@refuje.example"
    settings.PUSH_ALLOW_INSECURE_ENDPOINTS = False
    return pair


@pytest.fixture
def user(db) -> User:
    return UserFactory.create()


@pytest.fixture
def client_for(db):
    def make(user: User | None) -> BrowserClient:
        return browser_client(user)

    return make
