"""A fake Web Push service (RFC 8030) speaking the wire format of providers.md section 4.

It checks what a real push service checks: `POST` to a subscription's path, `Content-Encoding:
aes128gcm`, a `TTL`, a valid `Urgency`, and `Authorization: vapid t=<JWT>, k=<key>` whose ES256
signature verifies with `k`, whose `k` is the application server key the subscription was made
with, whose `aud` is this service's origin and whose `exp` lies in the next 24 hours (RFC 8292).
Refusals look like the real ones: 400 bad headers, 401/403 bad VAPID, 413 too large.

A test makes a browser-side subscription with `subscribe()`: the fake keeps the client's private
key and auth secret, so it decrypts every message (RFC 8291) and tests assert the exact payload.
`answer_with(endpoint, status, retry_after=…)` makes one endpoint answer 404/410/429/500 from then on.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from .server import FakeResponse, FakeServer, RecordedRequest

MAX_BODY_BYTES = 4096
URGENCIES = ("very-low", "low", "normal", "high")
MAX_CLAIMS_LIFETIME_SECONDS = 24 * 3600


# Its own base64url helpers: the fake must not trust the code it checks.
def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class ClientSubscription:
    """What a browser holds after PushManager.subscribe(): the endpoint and its own key pair."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    @property
    def p256dh(self) -> str:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url_encode(point)

    @property
    def auth(self) -> str:
        return b64url_encode(self.auth_secret)

    def to_json(self) -> dict[str, Any]:
        """`PushSubscription.toJSON()`, the body the browser POSTs to our API."""
        return {"endpoint": self.endpoint, "expirationTime": None, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


@dataclass(frozen=True)
class ReceivedPush:
    """One message the fake accepted or refused, with what it could read of it."""

    path: str
    status: int
    ttl: str | None
    urgency: str | None
    topic: str | None
    content_encoding: str | None
    claims: dict[str, Any] | None  # the verified VAPID JWT claims (None when it did not verify)
    vapid_key: str | None
    payload: bytes | None  # decrypted, when the subscription is known to the fake
    error: str = ""

    @property
    def json(self) -> Any:
        return json.loads(self.payload) if self.payload is not None else None


def _parse_vapid(header: str) -> tuple[str, str]:
    scheme, _, params = header.strip().partition(" ")
    if scheme.lower() != "vapid":
        raise ValueError("authorization scheme is not vapid")
    parts: dict[str, str] = {}
    for item in params.split(","):
        name, sep, value = item.strip().partition("=")
        if sep:
            parts[name.strip().lower()] = value.strip()
    if "t" not in parts or "k" not in parts:
        raise ValueError("vapid authorization needs t= and k=")
    return parts["t"], parts["k"]


def verify_vapid_jwt(token: str, key: str) -> dict[str, Any]:
    """The claims of an ES256 JWT signed by the P-256 key `key` (base64url point); ValueError if not."""
    try:
        header_b64, claims_b64, signature_b64 = token.split(".")
        header = json.loads(b64url_decode(header_b64))
        claims = json.loads(b64url_decode(claims_b64))
        signature = b64url_decode(signature_b64)
        public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"malformed VAPID token: {exc}") from exc
    if header.get("alg") != "ES256" or header.get("typ", "JWT") != "JWT":
        raise ValueError(f"unexpected JWT header {header}")
    if len(signature) != 64:
        raise ValueError("ES256 signature must be 64 bytes (r || s)")
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        public_key.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise ValueError("VAPID signature does not verify") from exc
    if not isinstance(claims, dict):
        raise ValueError("claims are not an object")
    return claims


class FakePushService(FakeServer):
    def __init__(self, *, application_server_key: str | None = None) -> None:
        """`application_server_key`: the VAPID public key subscriptions are made with (None: any)."""
        super().__init__(self._route)
        self.application_server_key = application_server_key.rstrip("=") if application_server_key else None
        self._state_lock = threading.Lock()
        self._subscriptions: dict[str, ClientSubscription] = {}
        self._responses: dict[str, FakeResponse] = {}
        self.received: list[ReceivedPush] = []

    # --- helpers for tests -------------------------------------------------------------------
    @property
    def origin(self) -> str:
        return self.url

    def subscribe(self) -> ClientSubscription:
        """A new browser subscription on this service, with keys the fake can decrypt for."""
        subscription = ClientSubscription(
            endpoint=f"{self.url}/push/{secrets.token_urlsafe(24)}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth_secret=secrets.token_bytes(16),
        )
        with self._state_lock:
            self._subscriptions[self._path_of(subscription.endpoint)] = subscription
        return subscription

    def answer_with(
        self, endpoint: str, status: int, *, retry_after: int | None = None, headers: dict[str, str] | None = None
    ) -> None:
        """Answer every later message to this endpoint with `status` (201 restores normal service)."""
        headers = dict(headers or {})
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        with self._state_lock:
            self._responses[self._path_of(endpoint)] = FakeResponse(status, "", headers)

    def messages_for(self, endpoint: str) -> list[ReceivedPush]:
        path = self._path_of(endpoint)
        with self._state_lock:
            return [message for message in self.received if message.path == path]

    @property
    def accepted(self) -> list[ReceivedPush]:
        with self._state_lock:
            return [message for message in self.received if message.status in (201, 202)]

    def _path_of(self, endpoint: str) -> str:
        return endpoint.removeprefix(self.url) if endpoint.startswith(self.url) else endpoint

    # --- serving -----------------------------------------------------------------------------
    def _route(self, request: RecordedRequest) -> FakeResponse:
        headers = request.headers

        def received(
            status: int, *, claims: dict[str, Any] | None, key: str | None, payload: bytes | None, error: str = ""
        ) -> ReceivedPush:
            return ReceivedPush(
                path=request.path,
                status=status,
                ttl=headers.get("ttl"),
                urgency=headers.get("urgency"),
                topic=headers.get("topic"),
                content_encoding=headers.get("content-encoding"),
                claims=claims,
                vapid_key=key,
                payload=payload,
                error=error,
            )

        def refuse(status: int, error: str, **known: Any) -> FakeResponse:
            self._record(received(status, claims=known.get("claims"), key=known.get("key"), payload=None, error=error))
            return FakeResponse(status, {"code": status, "errno": 0, "error": error})

        if request.method != "POST" or not request.path.startswith("/push/"):
            return refuse(404, "no such subscription")
        try:
            token, key = _parse_vapid(headers.get("authorization", ""))
            claims = verify_vapid_jwt(token, key)
        except ValueError as exc:
            return refuse(401, str(exc))
        known = {"claims": claims, "key": key}
        if self.application_server_key is not None and key.rstrip("=") != self.application_server_key:
            return refuse(403, "VAPID key differs from the one the subscription was made with", **known)
        if claims.get("aud") != self.origin:
            return refuse(403, f"aud {claims.get('aud')!r} is not {self.origin!r}", **known)
        exp = claims.get("exp")
        now = time.time()
        if not isinstance(exp, int) or not now < exp <= now + MAX_CLAIMS_LIFETIME_SECONDS:
            return refuse(403, f"exp {exp!r} is not within the next 24 hours", **known)
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub.startswith(("mailto:", "https:")):
            return refuse(403, "sub must be a mailto: or https: URI", **known)
        ttl = headers.get("ttl")
        if ttl is None or not ttl.isdigit():
            return refuse(400, "TTL header missing or not a number", **known)
        urgency = headers.get("urgency")
        if urgency is not None and urgency not in URGENCIES:
            return refuse(400, f"bad Urgency {urgency!r}", **known)
        if request.raw_body and headers.get("content-encoding") != "aes128gcm":
            return refuse(415, "Content-Encoding must be aes128gcm", **known)
        if len(request.raw_body) > MAX_BODY_BYTES:
            return refuse(413, "payload too large", **known)

        with self._state_lock:
            subscription = self._subscriptions.get(request.path)
            configured = self._responses.get(request.path)
        payload: bytes | None = None
        if subscription is not None and request.raw_body:
            try:
                payload = http_ece.decrypt(
                    request.raw_body,
                    private_key=subscription.private_key,
                    auth_secret=subscription.auth_secret,
                    version="aes128gcm",
                )
            except Exception as exc:  # any decryption failure is the sender's fault
                return refuse(400, f"payload does not decrypt: {exc!r}", **known)
        status = configured.status if configured is not None else 201
        self._record(received(status, claims=claims, key=key, payload=payload))
        if configured is not None:
            return configured
        return FakeResponse(201, "", {"Location": f"{self.url}/message/{secrets.token_urlsafe(8)}"})

    def _record(self, message: ReceivedPush) -> None:
        with self._state_lock:
            self.received.append(message)
