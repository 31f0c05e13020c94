"""VAPID keys (RFC 8292): generate, parse and check them. Pure functions, no Django.

Settings import this module to fail at start-up on a bad key, so it must not import Django models.
Key forms accepted for VAPID_PRIVATE_KEY: base64url of the raw 32-byte scalar (what `vapid_keys`
prints), base64url DER (PKCS#8 or SEC1), or PEM text. A file path is refused on purpose:
`Vapid.from_file` quietly generates and saves a new key when the path is missing.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid, VapidException

_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
# RFC 8292 §2: `exp` no more than 24 hours ahead; 12 hours leaves room for clock skew.
CLAIMS_LIFETIME_SECONDS = 12 * 60 * 60


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url (padding optional); ValueError on any other character."""
    if not isinstance(text, str) or not _B64URL.match(text):
        raise ValueError("not base64url")
    stripped = text.rstrip("=")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def public_key_b64(private_key: ec.EllipticCurvePrivateKey) -> str:
    """The uncompressed point, base64url: what browsers take as `applicationServerKey`."""
    point = private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url_encode(point)


def private_key_b64(private_key: ec.EllipticCurvePrivateKey) -> str:
    return b64url_encode(private_key.private_numbers().private_value.to_bytes(32, "big"))


@dataclass(frozen=True)
class VapidKeyPair:
    public_key: str
    private_key: str


def generate_key_pair() -> VapidKeyPair:
    private_key = ec.generate_private_key(ec.SECP256R1())
    return VapidKeyPair(public_key=public_key_b64(private_key), private_key=private_key_b64(private_key))


def load_private_key(value: str) -> Vapid:
    """A Vapid signer for the configured private key; ValueError with a reason otherwise."""
    text = value.strip()
    if not text:
        raise ValueError("VAPID_PRIVATE_KEY is empty.")
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.replace("\\n", "\n").encode(), password=None)
            if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
                raise ValueError("not a P-256 key")
            return Vapid(key)
        raw = b64url_decode(text.replace("\n", ""))
        if len(raw) == 32:
            scalar = int.from_bytes(raw, "big")
            return Vapid(ec.derive_private_key(scalar, ec.SECP256R1()))
        key = serialization.load_der_private_key(raw, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
            raise ValueError("not a P-256 key")
        return Vapid(key)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            "VAPID_PRIVATE_KEY must be a P-256 private key: base64url of the raw 32 bytes "
            "(as `manage.py vapid_keys` prints), base64url DER, or PEM text."
        ) from exc


def origin_of(endpoint: str) -> str:
    """`aud` for an endpoint: its scheme, host and explicit port (RFC 8292 §2)."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def fresh_claims(*, subject: str, endpoint: str, now: float | None = None) -> dict[str, str | int]:
    """A NEW dict on every call: pywebpush writes `aud`/`exp` into the dict it is given, so a shared
    one stays pinned to the first push service (403 everywhere else) and to an old expiry."""
    issued = int(time.time() if now is None else now)
    return {"sub": subject, "aud": origin_of(endpoint), "exp": issued + CLAIMS_LIFETIME_SECONDS}


def settings_problems(*, public_key: str, private_key: str, subject: str) -> list[str]:
    """Why these VAPID settings cannot work (empty when they can, or when push is simply off)."""
    if not public_key and not private_key:
        return []
    if not public_key or not private_key:
        missing = "VAPID_PUBLIC_KEY" if not public_key else "VAPID_PRIVATE_KEY"
        return [f"Web push needs both VAPID keys; {missing} is empty (generate a pair with `manage.py vapid_keys`)."]
    problems: list[str] = []
    signer: Vapid | None = None
    try:
        signer = load_private_key(private_key)
    except ValueError as exc:
        problems.append(str(exc))
    try:
        point = b64url_decode(public_key.strip())
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        if len(point) != 65:
            raise ValueError("compressed")
    except ValueError:
        problems.append("VAPID_PUBLIC_KEY must be the base64url uncompressed P-256 point (87 characters).")
        point = b""
    if signer is not None and point and public_key_b64(signer.private_key) != public_key.strip().rstrip("="):
        problems.append("VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY.")
    if signer is not None:
        try:
            signer.sign({"sub": subject, "aud": "https://push.example.com", "exp": int(time.time()) + 60})
        except VapidException:
            problems.append(f"VAPID_SUBJECT must be a mailto: address or an https: URL, not {subject!r}.")
    return problems
