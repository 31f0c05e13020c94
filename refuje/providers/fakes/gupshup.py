"""A fake Gupshup self-serve WhatsApp API speaking the wire format of providers.md section 3.

Self-serve error HTTP codes are undocumented; the fake answers 401 for a bad key, 429 for rate
limits and 400 for other `{"status":"error"}` bodies.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from .gupshup_events import CallbackDriver
from .server import FakeResponse, FakeServer, RecordedRequest

DEFAULT_API_KEY = "fake-gupshup-key-0123456789abcdef"  # a test credential
DEFAULT_SOURCE = "966110000000"
DEFAULT_APP_NAME = "RefujeTest"
DEFAULT_OTP_TEMPLATE_ID = "6b1f2c3d-0000-4000-8000-0000000000a1"
TEMPLATE_PATH = "/wa/api/v1/template/msg"
REQUIRED_FIELDS = ("channel", "source", "destination", "src.name", "template")


@dataclass(frozen=True)
class SentTemplate:
    message_id: str
    destination: str
    template_id: str
    params: tuple[str, ...]


def _error(message: str, status: int = 400) -> FakeResponse:
    return FakeResponse(status, {"status": "error", "message": message})


class FakeGupshup(FakeServer):
    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        source: str = DEFAULT_SOURCE,
        app_name: str = DEFAULT_APP_NAME,
        templates: dict[str, int] | None = None,
    ) -> None:
        super().__init__(self._route)
        self.api_key = api_key
        self.source = source
        self.app_name = app_name
        # Approved templates: Gupshup template id → number of placeholders.
        self.templates = dict(templates) if templates is not None else {DEFAULT_OTP_TEMPLATE_ID: 1}
        self.otp_template_id = next(iter(self.templates), DEFAULT_OTP_TEMPLATE_ID)
        self.callbacks = CallbackDriver(app_name)
        self._state_lock = threading.Lock()
        self.sent: list[SentTemplate] = []

    # --- helpers for tests -------------------------------------------------------------------
    def add_template(self, template_id: str, param_count: int) -> None:
        self.templates[template_id] = param_count

    def otp_for(self, phone: str) -> str | None:
        """The code in the latest OTP template sent to this number (E.164 or Gupshup digits)."""
        destination = phone.removeprefix("+")
        with self._state_lock:
            for message in reversed(self.sent):
                if message.destination == destination and message.template_id == self.otp_template_id:
                    return message.params[0]
        return None

    def rate_limit_next(self, count: int = 1) -> None:
        self.fail_next(count, status=429, body={"status": "error", "message": "Too Many Requests"})

    def delivery_events(self, message: SentTemplate, *, up_to: str = "read") -> list[dict[str, Any]]:
        return self.callbacks.sequence(message_id=message.message_id, destination=message.destination, up_to=up_to)

    # --- routing -----------------------------------------------------------------------------
    def _route(self, request: RecordedRequest) -> FakeResponse:
        if request.headers.get("apikey") != self.api_key:
            return _error("Authentication Failed", 401)
        if (request.method, request.path) != ("POST", TEMPLATE_PATH):
            return _error("Not Found", 404)
        form = request.form
        if form is None:
            return _error("Content-Type must be application/x-www-form-urlencoded")
        missing = [name for name in REQUIRED_FIELDS if not form.get(name)]
        if missing:
            return _error(f"Missing required parameter: {missing[0]}")
        if form["channel"] != "whatsapp":
            return _error("Invalid channel")
        if form["source"] != self.source or form["src.name"] != self.app_name:
            return _error("Invalid source or app name")
        destination = form["destination"]
        if not destination.isdigit() or not 8 <= len(destination) <= 15:
            return _error("Invalid Destination")
        return self._accept(destination, form["template"])

    def _accept(self, destination: str, template_text: str) -> FakeResponse:
        try:
            template = json.loads(template_text)
        except ValueError:
            return _error("Invalid template: not a JSON string")
        if not isinstance(template, dict) or not isinstance(template.get("params", []), list):
            return _error("Invalid template")
        template_id = template.get("id")
        params = template.get("params", [])
        if not isinstance(template_id, str) or template_id not in self.templates:
            return _error("Template Not Found")
        if len(params) != self.templates[template_id] or not all(isinstance(p, str) for p in params):
            return _error("Template params do not match the template")
        message = SentTemplate(str(uuid.uuid4()), destination, template_id, tuple(params))
        with self._state_lock:
            self.sent.append(message)
        return FakeResponse(202, {"status": "submitted", "messageId": message.message_id})
