import json
import logging

import pytest

from refuje.providers.base import Delivery, ProviderError
from refuje.providers.gupshup import GupshupWhatsAppOtpSender, GupshupWhatsAppSender

PHONE = "+966501234567"
CODE = "482913"


def test_otp_template_wire_format(fake_gupshup):
    delivery = GupshupWhatsAppOtpSender().send_otp(phone=PHONE, code=CODE, language="ar")

    [request] = fake_gupshup.requests
    assert (request.method, request.path) == ("POST", "/wa/api/v1/template/msg")
    assert request.headers["apikey"] == fake_gupshup.api_key
    assert request.headers["user-agent"].startswith("Refuje/")
    assert request.content_type == "application/x-www-form-urlencoded"
    assert request.form == {
        "channel": "whatsapp",
        "source": fake_gupshup.source,
        "destination": "966501234567",
        "src.name": fake_gupshup.app_name,
        "template": request.form["template"],
    }
    # `template` is a JSON string inside the form, not nested form fields.
    assert json.loads(request.form["template"]) == {"id": fake_gupshup.otp_template_id, "params": [CODE]}
    [sent] = fake_gupshup.sent
    assert delivery == Delivery(provider="gupshup", channel="whatsapp", message_id=sent.message_id)
    assert fake_gupshup.otp_for(PHONE) == CODE


def test_notification_template_keeps_params_in_order_and_unicode(fake_gupshup):
    fake_gupshup.add_template("booking-confirmed-ar", 2)

    delivery = GupshupWhatsAppSender().send_template(
        phone=PHONE, template_id="booking-confirmed-ar", params=["أحمد", "12 يناير"]
    )

    [sent] = fake_gupshup.sent
    assert sent.params == ("أحمد", "12 يناير")
    assert sent.destination == "966501234567"
    assert delivery.message_id == sent.message_id


def test_unknown_template_is_permanent(fake_gupshup):
    with pytest.raises(ProviderError) as exc_info:
        GupshupWhatsAppSender().send_template(phone=PHONE, template_id="no-such-template", params=["x"])

    assert exc_info.value.transient is False
    assert "Template Not Found" in str(exc_info.value)
    assert fake_gupshup.sent == []


def test_missing_source_is_permanent(fake_gupshup, settings):
    settings.GUPSHUP_SOURCE = ""

    with pytest.raises(ProviderError) as exc_info:
        GupshupWhatsAppOtpSender().send_otp(phone=PHONE, code=CODE, language="ar")

    assert exc_info.value.transient is False
    assert "source" in str(exc_info.value)


def test_wrong_api_key_is_permanent(fake_gupshup, settings):
    settings.GUPSHUP_API_KEY = "not-the-key"

    with pytest.raises(ProviderError) as exc_info:
        GupshupWhatsAppOtpSender().send_otp(phone=PHONE, code=CODE, language="ar")

    assert (exc_info.value.transient, exc_info.value.status_code) == (False, 401)
    assert "Authentication Failed" in str(exc_info.value)


def test_rate_limit_is_transient(fake_gupshup):
    fake_gupshup.rate_limit_next()

    with pytest.raises(ProviderError) as exc_info:
        GupshupWhatsAppOtpSender().send_otp(phone=PHONE, code=CODE, language="ar")

    assert (exc_info.value.transient, exc_info.value.status_code) == (True, 429)


def test_too_many_requests_body_is_transient_whatever_the_status(fake_gupshup):
    fake_gupshup.fail_next(status=200, body={"status": "error", "message": "Too Many Requests"})

    with pytest.raises(ProviderError) as exc_info:
        GupshupWhatsAppOtpSender().send_otp(phone=PHONE, code=CODE, language="ar")

    assert exc_info.value.transient is True


@pytest.mark.parametrize(("status", "transient"), [(500, True), (503, True), (400, False), (403, False)])
def test_error_statuses_are_classified(fake_gupshup, status, transient):
    fake_gupshup.fail_next(status=status, body={"status": "error", "message": "Something"})

    with pytest.raises(ProviderError) as exc_info:
        GupshupWhatsAppOtpSender().send_otp(phone=PHONE, code=CODE, language="ar")

    assert exc_info.value.transient is transient


def test_error_status_in_success_response_is_permanent(fake_gupshup):
    fake_gupshup.fail_next(status=200, body={"status": "error", "message": "Invalid Destination"})

    with pytest.raises(ProviderError) as exc_info:
        GupshupWhatsAppOtpSender().send_otp(phone=PHONE, code=CODE, language="ar")

    assert exc_info.value.transient is False


def test_client_timeout_is_transient(fake_gupshup, settings):
    settings.PROVIDER_HTTP_TIMEOUT_SECONDS = 0.2
    fake_gupshup.delay_next(3)

    with pytest.raises(ProviderError) as exc_info:
        GupshupWhatsAppOtpSender().send_otp(phone=PHONE, code=CODE, language="ar")

    assert exc_info.value.transient is True


def test_connection_refused_is_transient(fake_gupshup, settings, closed_port_url):
    settings.GUPSHUP_BASE_URL = closed_port_url

    with pytest.raises(ProviderError) as exc_info:
        GupshupWhatsAppOtpSender().send_otp(phone=PHONE, code=CODE, language="ar")

    assert exc_info.value.transient is True
    assert fake_gupshup.requests == []


def test_code_and_key_never_reach_logs_or_errors(fake_gupshup, caplog):
    caplog.set_level(logging.DEBUG)
    sender = GupshupWhatsAppOtpSender()
    sender.send_otp(phone=PHONE, code=CODE, language="ar")
    fake_gupshup.fail_next(status=400, body={"status": "error", "message": f"bad param {CODE} {fake_gupshup.api_key}"})
    with pytest.raises(ProviderError) as exc_info:
        sender.send_otp(phone=PHONE, code=CODE, language="ar")

    assert "gupshup template" in caplog.text
    for secret in (CODE, fake_gupshup.api_key, PHONE, PHONE.removeprefix("+")):
        assert secret not in caplog.text
        assert secret not in str(exc_info.value)
