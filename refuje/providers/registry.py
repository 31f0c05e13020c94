"""Which provider classes serve a deployment. Settings are read on every call, never at import."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .authentica import AuthenticaSmsOtpSender, AuthenticaSmsSender, AuthenticaWhatsAppOtpSender
from .base import Delivery, OtpSender, ProviderError, SmsSender, WhatsAppSender
from .console import ConsoleOtpSender, ConsoleSmsSender, ConsoleWhatsAppSender
from .gupshup import GupshupWhatsAppOtpSender, GupshupWhatsAppSender

_PROVIDERS = ("console", "authentica", "gupshup")


def _provider(setting_name: str) -> str:
    value = str(getattr(settings, setting_name))
    if value not in _PROVIDERS:
        raise ImproperlyConfigured(f"{setting_name} must be one of {', '.join(_PROVIDERS)}, not {value!r}.")
    return value


def otp_senders() -> list[OtpSender]:
    """The delivery chain for a new code, tried in order: WhatsApp first, then SMS."""
    provider = _provider("OTP_PROVIDER")
    if provider == "authentica":
        return [AuthenticaWhatsAppOtpSender(), AuthenticaSmsOtpSender()]
    if provider == "gupshup":
        chain: list[OtpSender] = [GupshupWhatsAppOtpSender()]
        if settings.AUTHENTICA_API_KEY:
            chain.append(AuthenticaSmsOtpSender())
        return chain
    return [ConsoleOtpSender()]


def sms_otp_sender() -> OtpSender | None:
    """The sender for the later SMS fallback of a code whose WhatsApp message did not arrive."""
    if _provider("OTP_PROVIDER") == "console":
        return ConsoleOtpSender()
    if settings.AUTHENTICA_API_KEY:
        return AuthenticaSmsOtpSender()
    return None


class UnavailableSmsSender:
    """Stands in when the notification provider has no SMS channel, so callers fail cleanly."""

    def send_sms(self, *, phone: str, text: str) -> Delivery:
        raise ProviderError("No SMS provider is configured.", transient=False, provider="none")


def sms_sender() -> SmsSender:
    provider = _provider("NOTIFICATION_PROVIDER")
    if provider == "console":
        return ConsoleSmsSender()
    # Gupshup is WhatsApp only; SMS goes through Authentica whenever it is configured.
    if settings.AUTHENTICA_API_KEY:
        return AuthenticaSmsSender()
    return UnavailableSmsSender()


def whatsapp_sender() -> WhatsAppSender | None:
    """None when the notification provider has no WhatsApp template channel (Authentica: SMS only)."""
    provider = _provider("NOTIFICATION_PROVIDER")
    if provider == "console":
        return ConsoleWhatsAppSender()
    if provider == "gupshup":
        return GupshupWhatsAppSender()
    return None
