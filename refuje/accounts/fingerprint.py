"""Device signal for the OTP abuse limits: a long-lived random cookie id plus the client's hints.

The result is a keyed hash, so the stored value identifies a browser to our limits without being
reusable as an identifier anywhere else. A client that refuses cookies gets a fresh id every time;
the per-IP and per-phone limits still hold for it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.crypto import salted_hmac

DEVICE_COOKIE_MAX_AGE = 2 * 365 * 24 * 3600
_DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_HINT_HEADERS = (
    "HTTP_USER_AGENT",
    "HTTP_SEC_CH_UA",
    "HTTP_SEC_CH_UA_MOBILE",
    "HTTP_SEC_CH_UA_PLATFORM",
    "HTTP_SEC_CH_UA_MODEL",
)


@dataclass(frozen=True)
class DeviceSignal:
    device_id: str
    fingerprint: str
    is_new: bool


def device_cookie_name() -> str:
    return f"{settings.AUTH_COOKIE_PREFIX}refuje_device"


def device_signal(request: HttpRequest) -> DeviceSignal:
    device_id = request.COOKIES.get(device_cookie_name(), "")
    is_new = not _DEVICE_ID.fullmatch(device_id)
    if is_new:
        device_id = secrets.token_urlsafe(32)
    hints = "\x1f".join(str(request.META.get(name, ""))[:512] for name in _HINT_HEADERS)
    fingerprint = salted_hmac("refuje.accounts.device", f"{device_id}\x1e{hints}", algorithm="sha256").hexdigest()
    return DeviceSignal(device_id=device_id, fingerprint=fingerprint, is_new=is_new)


def set_device_cookie(response: HttpResponseBase, signal: DeviceSignal) -> None:
    response.set_cookie(
        device_cookie_name(),
        signal.device_id,
        max_age=DEVICE_COOKIE_MAX_AGE,
        path="/",
        secure=settings.AUTH_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
