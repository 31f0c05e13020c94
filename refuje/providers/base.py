"""Provider interfaces. Each external service sits behind one of these; settings pick the class.

Errors are classified so callers know whether trying again can help.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class ProviderError(Exception):
    """A provider call failed. `transient` errors (timeouts, 5xx, 429) may succeed on retry."""

    def __init__(self, message: str, *, transient: bool, provider: str = "", status_code: int | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.provider = provider
        self.status_code = status_code


@dataclass(frozen=True)
class Delivery:
    """What a provider accepted: its message id (if it gives one) for correlating webhooks."""

    provider: str
    channel: str  # "whatsapp" | "sms" | "console"
    message_id: str = ""


class OtpSender(Protocol):
    """Delivers a one-time code we generated. Never returns the code; raises ProviderError."""

    channel: str

    def send_otp(self, *, phone: str, code: str, language: str) -> Delivery: ...


class SmsSender(Protocol):
    """Sends a plain text SMS."""

    def send_sms(self, *, phone: str, text: str) -> Delivery: ...


class WhatsAppSender(Protocol):
    """Sends an approved WhatsApp template. `template_id` is the provider's id for one language's
    template, and `params` fill its placeholders in order."""

    def send_template(self, *, phone: str, template_id: str, params: Sequence[str]) -> Delivery: ...
