"""Gupshup self-serve WhatsApp API: approved template messages (OTP and notifications).

Wire format: ../shared/reference/providers.md section 3. A "submitted" answer only means accepted;
the delivery outcome arrives later by webhook, correlated on the returned messageId.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings

from refuje.accounts.phone import mask_phone

from .base import Delivery, ProviderError
from .http import build_client, is_transient_status, json_body, loggable_body, redact, request

PROVIDER = "gupshup"
TEMPLATE_PATH = "/wa/api/v1/template/msg"
logger = logging.getLogger("refuje.providers.gupshup")


@dataclass(frozen=True)
class GupshupConfig:
    base_url: str
    api_key: str
    source: str
    app_name: str
    otp_template_id: str

    @classmethod
    def from_settings(cls) -> GupshupConfig:
        return cls(
            base_url=settings.GUPSHUP_BASE_URL,
            api_key=settings.GUPSHUP_API_KEY,
            source=settings.GUPSHUP_SOURCE,
            app_name=settings.GUPSHUP_APP_NAME,
            otp_template_id=settings.GUPSHUP_OTP_TEMPLATE_ID,
        )


def send_template(config: GupshupConfig, *, phone: str, template_id: str, params: Sequence[str]) -> Delivery:
    """Submit one template message; raise a classified ProviderError when Gupshup does not accept it."""
    masked = mask_phone(phone)
    form = {
        "channel": "whatsapp",
        "source": config.source,
        # Gupshup wants country code and digits, without the E.164 plus.
        "destination": phone.removeprefix("+"),
        "src.name": config.app_name,
        "template": json.dumps({"id": template_id, "params": list(params)}, ensure_ascii=False),
    }
    headers = {"apikey": config.api_key, "Accept": "application/json"}
    try:
        with build_client(base_url=config.base_url, headers=headers) as client:
            response = request(client, "POST", TEMPLATE_PATH, provider=PROVIDER, data=form)
    except ProviderError as exc:
        logger.warning("gupshup template %s to %s failed: %s", template_id, masked, exc)
        raise
    body = json_body(response)
    fields = body if isinstance(body, dict) else {}
    if response.is_success and fields.get("status") == "submitted":
        message_id = str(fields.get("messageId") or "")
        if not message_id:
            logger.warning("gupshup template %s to %s submitted without a messageId", template_id, masked)
        logger.info("gupshup template %s to %s submitted as %s", template_id, masked, message_id)
        return Delivery(provider=PROVIDER, channel="whatsapp", message_id=message_id)
    # Self-serve error HTTP codes are undocumented; a rate limit may come as a 2xx error body too.
    transient = is_transient_status(response.status_code) or fields.get("message") == "Too Many Requests"
    logger.warning(
        "gupshup template %s to %s failed: HTTP %s (%s) %s",
        template_id,
        masked,
        response.status_code,
        "transient" if transient else "permanent",
        # Params carry the code or personal details, never logged.
        loggable_body(response, secrets=(*params, config.api_key)),
    )
    reason = redact(str(fields.get("message") or "unexpected response"), (*params, config.api_key))[:200]
    raise ProviderError(
        f"gupshup template {template_id}: HTTP {response.status_code} ({reason})",
        transient=transient,
        provider=PROVIDER,
        status_code=response.status_code,
    )


class GupshupWhatsAppOtpSender:
    channel = "whatsapp"

    def __init__(self, config: GupshupConfig | None = None) -> None:
        self._config = config

    def send_otp(self, *, phone: str, code: str, language: str) -> Delivery:
        # One approved OTP template; its language is fixed when it is approved in Gupshup.
        config = self._config or GupshupConfig.from_settings()
        return send_template(config, phone=phone, template_id=config.otp_template_id, params=[code])


class GupshupWhatsAppSender:
    def __init__(self, config: GupshupConfig | None = None) -> None:
        self._config = config

    def send_template(self, *, phone: str, template_id: str, params: Sequence[str]) -> Delivery:
        return send_template(
            self._config or GupshupConfig.from_settings(), phone=phone, template_id=template_id, params=params
        )
