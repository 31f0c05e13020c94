"""Checks on what browsers send us: the push service URL and the subscription's keys.

The server later POSTs to the endpoint, so a user-supplied URL must not reach our own network
(SSRF): only https, the default port, and a public DNS name; never an IP literal, localhost or an
internal name. At send time the name is resolved again and every address must be public.
PUSH_ALLOW_INSECURE_ENDPOINTS (DEBUG/testing only) lets local fake push services on http://127.0.0.1 in.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .vapid import b64url_decode, b64url_encode

ENDPOINT_MAX_LENGTH = 2048
P256DH_BYTES = 65
AUTH_BYTES = 16
# Names that only mean something inside a network (RFC 6761, RFC 8375, common private suffixes).
_INTERNAL_SUFFIXES = (".localhost", ".local", ".internal", ".intranet", ".lan", ".home.arpa", ".corp", ".localdomain")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# A top-level domain is never numeric: this refuses "127.1", "0x7f.1" and friends, which
# getaddrinfo would happily read as IPv4 addresses.
_TLD = re.compile(r"^(?:[a-z][a-z0-9-]*|xn--[a-z0-9-]+)$")


def insecure_endpoints_allowed() -> bool:
    return bool(getattr(settings, "PUSH_ALLOW_INSECURE_ENDPOINTS", False))


def validate_endpoint(value: str) -> str:
    """The endpoint as given, or a ValidationError a person can act on."""
    if len(value) > ENDPOINT_MAX_LENGTH:
        raise ValidationError(_("The push service address is too long."), code="endpoint_too_long")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise ValidationError(_("Enter a valid push service address."), code="invalid_endpoint") from exc
    insecure = insecure_endpoints_allowed()
    if parts.scheme not in (("https", "http") if insecure else ("https",)):
        raise ValidationError(_("The push service address must start with https://."), code="endpoint_not_https")
    host = (parts.hostname or "").lower()
    if not host or parts.username is not None or parts.password is not None or any(c.isspace() for c in value):
        raise ValidationError(_("Enter a valid push service address."), code="invalid_endpoint")
    if insecure:
        return value
    if port not in (None, 443) or not _is_public_name(host):
        raise ValidationError(_("This push service address is not allowed."), code="endpoint_not_allowed")
    return value


def _is_public_name(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return False  # an IP literal: push services are always named
    labels = host.rstrip(".").split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or not _TLD.match(labels[-1]):
        return False
    dotted = "." + host.rstrip(".")
    return not dotted.endswith(_INTERNAL_SUFFIXES)


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True)
class SendRefusal:
    reason: str
    transient: bool  # a failed name lookup may work later; a non-public address will not


def endpoint_send_refusal(endpoint: str) -> SendRefusal | None:
    """Why we must not POST to this endpoint now (None: go ahead). Re-checks the stored URL against
    the current settings and resolves the name: every address must be public. (The HTTP client
    resolves the name again, so a DNS answer that changes in between is not caught here.)"""
    try:
        validate_endpoint(endpoint)
    except ValidationError as exc:
        return SendRefusal(f"endpoint refused: {exc.messages[0]}", transient=False)
    if insecure_endpoints_allowed():
        return None
    host = urlsplit(endpoint).hostname or ""
    try:
        infos = socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        return SendRefusal(f"endpoint host does not resolve ({exc.__class__.__name__})", transient=True)
    addresses = {str(info[4][0]) for info in infos}
    if not addresses or not all(is_public_address(address) for address in addresses):
        return SendRefusal("endpoint refused: its host resolves to a non-public address", transient=False)
    return None


def validate_p256dh(value: str) -> str:
    try:
        raw = b64url_decode(value)
    except ValueError as exc:
        raise ValidationError(_("The key must be base64url-encoded."), code="invalid_base64url") from exc
    if len(raw) != P256DH_BYTES or raw[0] != 0x04:
        raise ValidationError(
            _("The p256dh key must be an uncompressed P-256 public key (65 bytes)."), code="invalid_p256dh"
        )
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError as exc:
        raise ValidationError(_("The p256dh key is not a point on the P-256 curve."), code="invalid_p256dh") from exc
    return b64url_encode(raw)


def validate_auth(value: str) -> str:
    try:
        raw = b64url_decode(value)
    except ValueError as exc:
        raise ValidationError(_("The key must be base64url-encoded."), code="invalid_base64url") from exc
    if len(raw) != AUTH_BYTES:
        raise ValidationError(_("The auth secret must be 16 bytes."), code="invalid_auth")
    return b64url_encode(raw)
