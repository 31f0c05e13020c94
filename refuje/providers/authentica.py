"""Authentica (authentica.sa): our own OTP codes over WhatsApp or SMS, and plain SMS.

Wire format: ../shared/reference/providers.md section 2. Authentica has no idempotency key, so a
retried send may text twice: only transport failures, 5xx and 429 are marked transient.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from refuje.accounts.phone import mask_phone

from .base import Delivery, ProviderError
from .http import build_client, is_transient_status, json_body, loggable_body, redact, request

PROVIDER = "authentica"
logger = logging.getLogger("refuje.providers.authentica")


@dataclass(frozen=True)
class AuthenticaConfig:
    base_url: str
    api_key: str
    sender_name: str
    template_id: int

    @classmethod
    def from_settings(cls) -> AuthenticaConfig:
        return cls(
            base_url=settings.AUTHENTICA_BASE_URL,
            api_key=settings.AUTHENTICA_API_KEY,
            sender_name=settings.AUTHENTICA_SENDER_NAME,
            template_id=settings.AUTHENTICA_TEMPLATE_ID,
        )


def _post(config: AuthenticaConfig, path: str, payload: dict[str, Any], *, operation: str, code: str = "") -> Any:
    """POST JSON and return the decoded body of a 2xx answer; raise a classified ProviderError otherwise."""
    phone = mask_phone(str(payload.get("phone", "")))
    headers = {"X-Authorization": config.api_key, "Accept": "application/json"}
    try:
        with build_client(base_url=config.base_url, headers=headers) as client:
            response = request(client, "POST", path, provider=PROVIDER, json=payload)
    except ProviderError as exc:
        logger.warning("authentica %s to %s failed: %s", operation, phone, exc)
        raise
    if response.is_success:
        return json_body(response)
    transient = is_transient_status(response.status_code)
    # The error body format is undocumented, so it is logged raw (minus anything secret) for diagnosis.
    logger.warning(
        "authentica %s to %s failed: HTTP %s (%s) %s",
        operation,
        phone,
        response.status_code,
        "transient" if transient else "permanent",
        loggable_body(response, secrets=(code, config.api_key)),
    )
    raise ProviderError(
        f"authentica {operation}: HTTP {response.status_code}",
        transient=transient,
        provider=PROVIDER,
        status_code=response.status_code,
    )


def _rejected(operation: str, phone: str, body: Any, *, code: str = "") -> ProviderError:
    """A 2xx answer that does not report success: the request itself was wrong, retrying won't help."""
    message = str(body.get("message", "")) if isinstance(body, dict) else ""
    message = redact(message, [code])[:200] or "unexpected response"
    logger.warning("authentica %s to %s rejected: %r", operation, mask_phone(phone), message)
    return ProviderError(f"authentica {operation}: rejected ({message})", transient=False, provider=PROVIDER)


class _AuthenticaOtpSender:
    channel: str

    def __init__(self, config: AuthenticaConfig | None = None) -> None:
        self._config = config

    def send_otp(self, *, phone: str, code: str, language: str) -> Delivery:
        # The message language comes from the template chosen in the Authentica dashboard.
        config = self._config or AuthenticaConfig.from_settings()
        operation = f"send-otp ({self.channel})"
        payload = {"method": self.channel, "phone": phone, "template_id": config.template_id, "otp": code}
        body = _post(config, "/api/v2/send-otp", payload, operation=operation, code=code)
        if not (isinstance(body, dict) and body.get("success") is True):
            raise _rejected(operation, phone, body, code=code)
        logger.info("authentica %s to %s accepted", operation, mask_phone(phone))
        return Delivery(provider=PROVIDER, channel=self.channel)


class AuthenticaWhatsAppOtpSender(_AuthenticaOtpSender):
    channel = "whatsapp"


class AuthenticaSmsOtpSender(_AuthenticaOtpSender):
    channel = "sms"


class AuthenticaSmsSender:
    def __init__(self, config: AuthenticaConfig | None = None) -> None:
        self._config = config

    def send_sms(self, *, phone: str, text: str) -> Delivery:
        config = self._config or AuthenticaConfig.from_settings()
        payload = {"phone": phone, "message": text}
        # Without a sender name Authentica uses the default configured in its dashboard.
        if config.sender_name:
            payload["sender_name"] = config.sender_name
        body = _post(config, "/api/v2/send-sms", payload, operation="send-sms")
        # The success body is undocumented ("queued"), so only an explicit refusal counts as failure.
        if isinstance(body, dict) and body.get("success") is False:
            raise _rejected("send-sms", phone, body)
        logger.info("authentica send-sms to %s accepted", mask_phone(phone))
        return Delivery(provider=PROVIDER, channel="sms")
