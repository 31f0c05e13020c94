"""Development providers: nothing leaves the machine, messages go to the log."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from refuje.accounts.phone import mask_phone

from .base import Delivery

PROVIDER = "console"

# The code is printed on purpose: in local development the log is the only way to receive it.
otp_logger = logging.getLogger("refuje.otp")
message_logger = logging.getLogger("refuje.providers.console")


def _delivery(channel: str = "console") -> Delivery:
    return Delivery(provider=PROVIDER, channel=channel, message_id=f"console-{uuid.uuid4().hex}")


class ConsoleOtpSender:
    channel = "console"

    def send_otp(self, *, phone: str, code: str, language: str) -> Delivery:
        # WARNING so it stands out among request logs at the default INFO level.
        otp_logger.warning("OTP for %s: %s (console provider, language %s)", mask_phone(phone), code, language)
        return _delivery(self.channel)


class ConsoleSmsSender:
    def send_sms(self, *, phone: str, text: str) -> Delivery:
        message_logger.info("SMS to %s (console provider): %s", mask_phone(phone), text)
        return _delivery()


class ConsoleWhatsAppSender:
    def send_template(self, *, phone: str, template_id: str, params: Sequence[str]) -> Delivery:
        message_logger.info(
            "WhatsApp template %s to %s (console provider): %s", template_id, mask_phone(phone), list(params)
        )
        return _delivery()
