import pytest
from django.core.exceptions import ImproperlyConfigured

from refuje.providers import registry
from refuje.providers.authentica import AuthenticaSmsOtpSender, AuthenticaSmsSender, AuthenticaWhatsAppOtpSender
from refuje.providers.base import ProviderError
from refuje.providers.console import ConsoleOtpSender, ConsoleSmsSender, ConsoleWhatsAppSender
from refuje.providers.gupshup import GupshupWhatsAppOtpSender, GupshupWhatsAppSender

PHONE = "+966501234567"


def kinds(senders):
    return [type(sender) for sender in senders]


def test_console_otp_chain(settings):
    settings.OTP_PROVIDER = "console"
    settings.AUTHENTICA_API_KEY = "$2y$10$key"

    assert kinds(registry.otp_senders()) == [ConsoleOtpSender]
    assert isinstance(registry.sms_otp_sender(), ConsoleOtpSender)


def test_authentica_otp_chain_is_whatsapp_then_sms(settings):
    settings.OTP_PROVIDER = "authentica"
    settings.AUTHENTICA_API_KEY = "$2y$10$key"

    senders = registry.otp_senders()

    assert kinds(senders) == [AuthenticaWhatsAppOtpSender, AuthenticaSmsOtpSender]
    assert [sender.channel for sender in senders] == ["whatsapp", "sms"]
    assert isinstance(registry.sms_otp_sender(), AuthenticaSmsOtpSender)


def test_gupshup_otp_chain_falls_back_to_authentica_sms_when_configured(settings):
    settings.OTP_PROVIDER = "gupshup"
    settings.AUTHENTICA_API_KEY = "$2y$10$key"

    assert kinds(registry.otp_senders()) == [GupshupWhatsAppOtpSender, AuthenticaSmsOtpSender]
    assert isinstance(registry.sms_otp_sender(), AuthenticaSmsOtpSender)


def test_gupshup_otp_chain_without_authentica_has_no_sms(settings):
    settings.OTP_PROVIDER = "gupshup"
    settings.AUTHENTICA_API_KEY = ""

    assert kinds(registry.otp_senders()) == [GupshupWhatsAppOtpSender]
    assert registry.sms_otp_sender() is None


@pytest.mark.parametrize(
    ("provider", "authentica_key", "sms_kind", "whatsapp_kind"),
    [
        ("console", "", ConsoleSmsSender, ConsoleWhatsAppSender),
        ("authentica", "$2y$10$key", AuthenticaSmsSender, None),
        ("gupshup", "$2y$10$key", AuthenticaSmsSender, GupshupWhatsAppSender),
        ("gupshup", "", registry.UnavailableSmsSender, GupshupWhatsAppSender),
    ],
)
def test_notification_senders_follow_the_setting(settings, provider, authentica_key, sms_kind, whatsapp_kind):
    settings.NOTIFICATION_PROVIDER = provider
    settings.AUTHENTICA_API_KEY = authentica_key

    assert type(registry.sms_sender()) is sms_kind
    whatsapp = registry.whatsapp_sender()
    assert (type(whatsapp) if whatsapp is not None else None) is whatsapp_kind


def test_unavailable_sms_sender_fails_permanently():
    with pytest.raises(ProviderError) as exc_info:
        registry.UnavailableSmsSender().send_sms(phone=PHONE, text="Hello")

    assert exc_info.value.transient is False


@pytest.mark.parametrize("setting", ["OTP_PROVIDER", "NOTIFICATION_PROVIDER"])
def test_unknown_provider_is_a_configuration_error(settings, setting):
    setattr(settings, setting, "carrier-pigeon")

    with pytest.raises(ImproperlyConfigured):
        registry.otp_senders() if setting == "OTP_PROVIDER" else registry.sms_sender()


def test_gupshup_chain_delivers_through_both_fakes(settings, fake_gupshup, fake_authentica):
    settings.OTP_PROVIDER = "gupshup"
    whatsapp, sms = registry.otp_senders()

    whatsapp_delivery = whatsapp.send_otp(phone=PHONE, code="111222", language="ar")
    sms_delivery = sms.send_otp(phone=PHONE, code="333444", language="ar")

    assert whatsapp_delivery.message_id == fake_gupshup.sent[0].message_id
    assert fake_gupshup.otp_for(PHONE) == "111222"
    assert sms_delivery.channel == "sms"
    assert fake_authentica.otp_for(PHONE) == "333444"
