"""A fake Authentica API speaking the wire format of providers.md section 2.

Error bodies are undocumented upstream; the fake uses the Laravel-style guess
(`{"message": ..., "errors": {...}}`, 422 on validation) that the reference suggests.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from .server import FakeResponse, FakeServer, RecordedRequest

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
DEFAULT_API_KEY = "$2y$10$fake.authentica.key/for+tests"  # a test credential
DEFAULT_SENDER_NAME = "Refuje"


@dataclass(frozen=True)
class SentOtp:
    method: str
    recipient: str  # phone or e-mail
    otp: str
    template_id: int
    sent_at: float


@dataclass(frozen=True)
class SentSms:
    phone: str
    message: str
    sender_name: str


def _validation_error(field: str, message: str) -> FakeResponse:
    return FakeResponse(422, {"message": message, "errors": {field: [message]}})


class FakeAuthentica(FakeServer):
    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        sender_names: tuple[str, ...] = (DEFAULT_SENDER_NAME,),
        balance: int = 100,
        otp_ttl_seconds: float = 300.0,
    ) -> None:
        super().__init__(self._route)
        self.api_key = api_key
        self.sender_names = tuple(sender_names)
        self.balance = balance
        self.otp_ttl_seconds = otp_ttl_seconds
        self._state_lock = threading.Lock()
        self._otps: dict[str, SentOtp] = {}
        self.sent_otps: list[SentOtp] = []
        self.sent_sms: list[SentSms] = []

    # --- helpers for tests -------------------------------------------------------------------
    def otp_for(self, recipient: str) -> str | None:
        """The code the fake would accept for this phone or e-mail, if one is outstanding."""
        with self._state_lock:
            sent = self._otps.get(recipient)
        return sent.otp if sent else None

    def expire_otp(self, recipient: str) -> None:
        with self._state_lock:
            sent = self._otps.get(recipient)
            if sent:
                self._otps[recipient] = SentOtp(sent.method, sent.recipient, sent.otp, sent.template_id, float("-inf"))

    def rate_limit_next(self, count: int = 1) -> None:
        self.fail_next(count, status=429, body={"message": "Too Many Attempts."})

    # --- routing -----------------------------------------------------------------------------
    def _route(self, request: RecordedRequest) -> FakeResponse:
        if request.headers.get("x-authorization") != self.api_key:
            return FakeResponse(401, {"message": "Unauthenticated."})
        routes = {
            ("POST", "/api/v2/send-otp"): self._send_otp,
            ("POST", "/api/v2/verify-otp"): self._verify_otp,
            ("POST", "/api/v2/send-sms"): self._send_sms,
            ("GET", "/api/v2/balance"): self._balance,
        }
        view = routes.get((request.method, request.path))
        if view is None:
            return FakeResponse(404, {"message": "Not Found"})
        if request.method == "POST":
            if request.content_type != "application/json" or not isinstance(request.json, dict):
                return FakeResponse(400, {"message": "The request body must be a JSON object."})
            return view(request.json)
        return view({})

    def _recipient(self, body: dict[str, Any], method: str) -> tuple[str | None, FakeResponse | None]:
        if method == "email":
            email = body.get("email")
            if not isinstance(email, str) or "@" not in email:
                return None, _validation_error("email", "The email field is required when method is email.")
            return email, None
        phone = body.get("phone")
        if not isinstance(phone, str) or not E164.match(phone):
            return None, _validation_error("phone", "The phone must be in E.164 format.")
        return phone, None

    def _send_otp(self, body: dict[str, Any]) -> FakeResponse:
        method = body.get("method")
        if method not in ("sms", "whatsapp", "email"):
            return _validation_error("method", "The selected method is invalid.")
        recipient, error = self._recipient(body, method)
        if error is not None or recipient is None:
            return error or _validation_error("phone", "The phone field is required.")
        template_id = body.get("template_id", 1)
        if not isinstance(template_id, int) or isinstance(template_id, bool):
            return _validation_error("template_id", "The template id must be an integer.")
        otp = body.get("otp")
        if otp is None:
            otp = f"{secrets.randbelow(10**6):06d}"
        if not isinstance(otp, str) or not otp.isdigit():
            return _validation_error("otp", "The otp must be a string of digits.")
        sent = SentOtp(method, recipient, otp, template_id, time.monotonic())
        with self._state_lock:
            self._otps[recipient] = sent
            self.sent_otps.append(sent)
        return FakeResponse(200, {"success": True, "data": None, "message": "OTP send successfully"})

    def _verify_otp(self, body: dict[str, Any]) -> FakeResponse:
        otp = body.get("otp")
        recipient = body.get("phone") or body.get("email")
        if not isinstance(otp, str) or not otp:
            return _validation_error("otp", "The otp field is required.")
        if not isinstance(recipient, str):
            return _validation_error("phone", "The phone field is required.")
        with self._state_lock:
            sent = self._otps.get(recipient)
            if sent is None or sent.otp != otp:
                return FakeResponse(400, {"status": False, "message": "Invalid OTP"})
            if time.monotonic() - sent.sent_at > self.otp_ttl_seconds:
                return FakeResponse(400, {"status": False, "message": "OTP expired"})
            del self._otps[recipient]
        return FakeResponse(200, {"status": True, "message": "OTP verified successfully"})

    def _send_sms(self, body: dict[str, Any]) -> FakeResponse:
        recipient, error = self._recipient(body, "sms")
        if error is not None or recipient is None:
            return error or _validation_error("phone", "The phone field is required.")
        message = body.get("message")
        if not isinstance(message, str) or not message:
            return _validation_error("message", "The message field is required.")
        # Absent: Authentica falls back to the sender configured in the dashboard (the first one here).
        sender_name = body.get("sender_name", self.sender_names[0] if self.sender_names else None)
        if sender_name not in self.sender_names:
            return FakeResponse(400, {"success": False, "message": "The sender name is not registered."})
        with self._state_lock:
            self.sent_sms.append(SentSms(recipient, message, str(sender_name)))
        return FakeResponse(200, {"success": True, "data": None, "message": "SMS queued"})

    def _balance(self, body: dict[str, Any]) -> FakeResponse:
        return FakeResponse(200, {"success": True, "data": {"balance": self.balance}, "message": ""})
