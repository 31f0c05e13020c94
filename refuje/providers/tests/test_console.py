import logging

from refuje.providers.base import Delivery
from refuje.providers.console import ConsoleOtpSender, ConsoleSmsSender, ConsoleWhatsAppSender


def test_console_otp_is_logged_at_warning_with_masked_phone(caplog):
    caplog.set_level(logging.WARNING, logger="refuje.otp")

    delivery = ConsoleOtpSender().send_otp(phone="+966501234567", code="482913", language="ar")

    assert delivery.provider == "console"
    assert delivery.channel == "console"
    records = [r for r in caplog.records if r.name == "refuje.otp"]
    assert len(records) == 1
    assert records[0].levelno == logging.WARNING
    assert records[0].getMessage().startswith("OTP for +9665•••••567: 482913 (console provider")


def test_console_sms_and_whatsapp_log_the_message(caplog):
    caplog.set_level(logging.INFO, logger="refuje.providers.console")

    sms = ConsoleSmsSender().send_sms(phone="+966501234567", text="Your table is ready")
    whatsapp = ConsoleWhatsAppSender().send_template(phone="+966501234567", template_id="tpl-1", params=["Ahmed"])

    assert isinstance(sms, Delivery)
    assert isinstance(whatsapp, Delivery)
    assert sms.message_id != whatsapp.message_id
    assert "Your table is ready" in caplog.text
    assert "tpl-1" in caplog.text
    assert "Ahmed" in caplog.text
