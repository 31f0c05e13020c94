import logging

import pytest

from refuje.providers.authentica import AuthenticaSmsOtpSender, AuthenticaSmsSender, AuthenticaWhatsAppOtpSender
from refuje.providers.base import Delivery, ProviderError

PHONE = "+966501234567"
CODE = "482913"


def test_whatsapp_otp_wire_format(fake_authentica):
    delivery = AuthenticaWhatsAppOtpSender().send_otp(phone=PHONE, code=CODE, language="ar")

    assert delivery == Delivery(provider="authentica", channel="whatsapp", message_id="")
    [request] = fake_authentica.requests
    assert request.method == "POST"
    assert request.path == "/api/v2/send-otp"
    # The key contains "$" and "/" and must be sent verbatim, not as a Bearer token.
    assert request.headers["x-authorization"] == fake_authentica.api_key
    assert "authorization" not in request.headers
    assert request.content_type == "application/json"
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"].startswith("Refuje/")
    assert request.json == {"method": "whatsapp", "phone": PHONE, "template_id": 1, "otp": CODE}
    assert fake_authentica.otp_for(PHONE) == CODE


def test_sms_otp_uses_sms_method_and_configured_template(fake_authentica, settings):
    settings.AUTHENTICA_TEMPLATE_ID = 7

    delivery = AuthenticaSmsOtpSender().send_otp(phone=PHONE, code=CODE, language="en")

    assert delivery.channel == "sms"
    assert fake_authentica.last_request.json == {"method": "sms", "phone": PHONE, "template_id": 7, "otp": CODE}
    [sent] = fake_authentica.sent_otps
    assert (sent.method, sent.recipient, sent.otp, sent.template_id) == ("sms", PHONE, CODE, 7)


def test_send_sms_wire_format(fake_authentica):
    delivery = AuthenticaSmsSender().send_sms(phone=PHONE, text="Your request is on its way")

    assert delivery == Delivery(provider="authentica", channel="sms")
    request = fake_authentica.last_request
    assert request.path == "/api/v2/send-sms"
    assert request.headers["x-authorization"] == fake_authentica.api_key
    assert request.json == {"phone": PHONE, "message": "Your request is on its way", "sender_name": "Refuje"}
    assert [(s.phone, s.sender_name) for s in fake_authentica.sent_sms] == [(PHONE, "Refuje")]


def test_send_sms_without_sender_name_leaves_the_dashboard_default(fake_authentica, settings):
    settings.AUTHENTICA_SENDER_NAME = ""

    AuthenticaSmsSender().send_sms(phone=PHONE, text="Hello")

    assert "sender_name" not in fake_authentica.last_request.json
    assert len(fake_authentica.sent_sms) == 1


def test_unregistered_sender_name_is_permanent(fake_authentica, settings):
    settings.AUTHENTICA_SENDER_NAME = "NotApproved"

    with pytest.raises(ProviderError) as exc_info:
        AuthenticaSmsSender().send_sms(phone=PHONE, text="Hello")

    assert exc_info.value.transient is False
    assert exc_info.value.status_code == 400
    assert fake_authentica.sent_sms == []


def test_wrong_api_key_is_permanent(fake_authentica, settings):
    settings.AUTHENTICA_API_KEY = "$2y$10$not-the-key"

    with pytest.raises(ProviderError) as exc_info:
        AuthenticaWhatsAppOtpSender().send_otp(phone=PHONE, code=CODE, language="ar")

    error = exc_info.value
    assert (error.transient, error.status_code, error.provider) == (False, 401, "authentica")
    assert fake_authentica.otp_for(PHONE) is None


def test_invalid_phone_rejected_by_validation_is_permanent(fake_authentica):
    with pytest.raises(ProviderError) as exc_info:
        AuthenticaSmsOtpSender().send_otp(phone="0501234567", code=CODE, language="ar")

    assert (exc_info.value.transient, exc_info.value.status_code) == (False, 422)


@pytest.mark.parametrize(
    ("status", "transient"),
    [(500, True), (502, True), (503, True), (429, True), (400, False), (401, False), (403, False), (422, False)],
)
def test_http_errors_are_classified(fake_authentica, status, transient):
    fake_authentica.fail_next(status=status, body={"message": "failure"})

    with pytest.raises(ProviderError) as exc_info:
        AuthenticaWhatsAppOtpSender().send_otp(phone=PHONE, code=CODE, language="ar")

    assert exc_info.value.transient is transient
    assert exc_info.value.status_code == status


def test_rate_limit_is_transient_and_next_call_succeeds(fake_authentica):
    fake_authentica.rate_limit_next()
    sender = AuthenticaSmsSender()

    with pytest.raises(ProviderError) as exc_info:
        sender.send_sms(phone=PHONE, text="Hello")
    assert (exc_info.value.transient, exc_info.value.status_code) == (True, 429)

    sender.send_sms(phone=PHONE, text="Hello")
    assert len(fake_authentica.sent_sms) == 1


@pytest.mark.parametrize("body", [{"success": False, "message": "Insufficient balance"}, "OK", {"data": None}])
def test_send_otp_without_success_true_is_permanent(fake_authentica, body):
    fake_authentica.fail_next(status=200, body=body)

    with pytest.raises(ProviderError) as exc_info:
        AuthenticaWhatsAppOtpSender().send_otp(phone=PHONE, code=CODE, language="ar")

    assert exc_info.value.transient is False


def test_send_sms_explicit_failure_is_permanent(fake_authentica):
    fake_authentica.fail_next(status=200, body={"success": False, "message": "Blocked recipient"})

    with pytest.raises(ProviderError) as exc_info:
        AuthenticaSmsSender().send_sms(phone=PHONE, text="Hello")

    assert exc_info.value.transient is False
    assert "Blocked recipient" in str(exc_info.value)


def test_client_timeout_is_transient(fake_authentica, settings):
    settings.PROVIDER_HTTP_TIMEOUT_SECONDS = 0.2
    fake_authentica.delay_next(3)

    with pytest.raises(ProviderError) as exc_info:
        AuthenticaWhatsAppOtpSender().send_otp(phone=PHONE, code=CODE, language="ar")

    assert exc_info.value.transient is True
    assert exc_info.value.status_code is None
    assert "timed out" in str(exc_info.value)


def test_connection_refused_is_transient(settings, closed_port_url):
    settings.AUTHENTICA_BASE_URL = closed_port_url
    settings.AUTHENTICA_API_KEY = "$2y$10$key"

    with pytest.raises(ProviderError) as exc_info:
        AuthenticaSmsOtpSender().send_otp(phone=PHONE, code=CODE, language="ar")

    assert exc_info.value.transient is True


def test_code_and_key_never_reach_logs_or_errors(fake_authentica, caplog):
    caplog.set_level(logging.DEBUG)
    sender = AuthenticaWhatsAppOtpSender()
    sender.send_otp(phone=PHONE, code=CODE, language="ar")
    # An error body that echoes what we sent must still not leak it.
    fake_authentica.fail_next(status=422, body={"message": f"otp {CODE} rejected for {fake_authentica.api_key}"})
    with pytest.raises(ProviderError) as permanent:
        sender.send_otp(phone=PHONE, code=CODE, language="ar")
    fake_authentica.fail_next(status=200, body={"success": False, "message": f"otp {CODE} is not allowed"})
    with pytest.raises(ProviderError) as rejected:
        sender.send_otp(phone=PHONE, code=CODE, language="ar")

    assert "authentica send-otp (whatsapp)" in caplog.text  # the failures were logged...
    assert "rejected" in caplog.text
    for secret in (CODE, fake_authentica.api_key, PHONE):
        assert secret not in caplog.text  # ...without the code, the key or the full phone
        assert secret not in str(permanent.value)
        assert secret not in str(rejected.value)
