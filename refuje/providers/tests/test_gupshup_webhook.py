"""The Gupshup webhook: the shared secret, any body without a 500, one-time-code SMS fallback through
the sweep's claim, and notification delivery reports."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from django.test import Client
from django.utils import translation
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from config.celery import app as celery_app
from refuje.accounts.models import OTPCode
from refuje.accounts.otp import otp_send, otp_verify
from refuje.accounts.tasks import sms_fallback_sweep_task
from refuje.common.testing.factories import UserFactory, next_phone
from refuje.notifications.models import Notification, NotificationDelivery
from refuje.providers.gupshup_webhook import StatusReport, status_reports

SECRET = "gupshup-webhook-secret-for-tests-0123456789"
URL = "/api/v1/webhooks/gupshup/"


@pytest.fixture
def secret(settings):
    settings.GUPSHUP_WEBHOOK_SECRET = SECRET
    return SECRET


@pytest.fixture
def eager_celery():
    """Tasks enqueued by the webhook run at once in the caller, through Celery's own apply path."""
    saved = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved


@pytest.fixture
def whatsapp_otp(settings, fake_gupshup, fake_authentica, eager_celery, secret):
    """OTPs go out by WhatsApp through the fake Gupshup; the SMS fallback through the fake Authentica."""
    settings.OTP_PROVIDER = "gupshup"
    return fake_gupshup


def post(body, *, token: str | None = SECRET, via: str = "header", raw: bytes | None = None):
    client = Client(enforce_csrf_checks=True)
    data = raw if raw is not None else json.dumps(body)
    if via == "path":
        return client.post(f"{URL}{token}/", data, content_type="application/json")
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.post(URL, data, content_type="application/json", headers=headers)


def send_code(phone: str) -> OTPCode:
    result = otp_send(phone=phone, purpose="auth", hotel=None, ip="10.1.2.3", device_fingerprint="", language="en")
    return OTPCode.objects.get(pk=result.otp_id)


def sms_to(fake_authentica, phone):
    return [sent for sent in fake_authentica.sent_otps if sent.method == "sms" and sent.recipient == phone]


def any_event(fake_gupshup):
    return fake_gupshup.callbacks.status("delivered", message_id="m-1", destination="966500000000")


# --- Authenticity ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("via", ["header", "path"])
def test_refused_when_no_secret_is_configured(settings, fake_gupshup, via):
    settings.GUPSHUP_WEBHOOK_SECRET = ""
    for token in ("", "anything", SECRET):
        response = post(any_event(fake_gupshup), token=token, via=via)
        assert response.status_code in (403, 404)
        if via == "header" or token:
            assert response.status_code == 403
            with translation.override("en"):
                assert response.json()["code"] == "webhook_forbidden"


@pytest.mark.django_db
@pytest.mark.parametrize("via", ["header", "path"])
def test_a_wrong_or_missing_secret_is_refused(secret, fake_gupshup, via):
    for token in ("wrong", SECRET[:-1], SECRET + "x", SECRET.upper()):
        assert post(any_event(fake_gupshup), token=token, via=via).status_code == 403
    assert post(any_event(fake_gupshup), token=None).status_code == 403
    client = Client()
    basic = client.post(URL, "{}", content_type="application/json", HTTP_AUTHORIZATION=f"Basic {SECRET}")
    assert basic.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("via", ["header", "path"])
def test_the_right_secret_is_accepted_with_an_empty_204(secret, fake_gupshup, via):
    response = post(any_event(fake_gupshup), via=via)
    assert response.status_code == 204
    assert response.content == b""


@pytest.mark.django_db
def test_the_secret_is_checked_before_the_body_is_read(settings):
    settings.GUPSHUP_WEBHOOK_SECRET = SECRET
    assert post(None, token="wrong", raw=b"\xff not json").status_code == 403
    assert post(None, raw=b"\xff not json").status_code == 400


@pytest.mark.django_db
def test_a_body_over_the_upload_limit_is_413_not_500(secret, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post({"type": "message-event", "payload": {"id": "x" * 2000}})
    assert response.status_code == 413
    assert response.json()["code"] == "webhook_body_too_large"


# --- Any body, never a 500 ------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
statuses = st.sampled_from(["enqueued", "sent", "delivered", "read", "failed", "deleted", "mismatch", ""])
ids = st.one_of(st.text(), st.integers(), st.none(), st.just("\x00"), st.just("\ud800"), json_values)
v2_bodies = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["message-event", "message", "user-event", "template-event"]) | json_values,
        "payload": st.fixed_dictionaries(
            {"type": statuses | json_values, "id": ids, "gsId": ids},
            optional={
                "payload": st.fixed_dictionaries({}, optional={"code": ids, "reason": ids}) | json_values,
                "destination": ids,
            },
        )
        | json_values,
    },
    optional={"app": json_values, "timestamp": json_values, "version": json_values},
)
v3_bodies = st.fixed_dictionaries(
    {
        "entry": st.lists(
            st.fixed_dictionaries(
                {
                    "changes": st.lists(
                        st.fixed_dictionaries(
                            {
                                "value": st.fixed_dictionaries(
                                    {
                                        "statuses": st.lists(
                                            st.fixed_dictionaries(
                                                {"status": statuses | json_values, "id": ids},
                                                optional={"gs_id": ids, "errors": json_values},
                                            ),
                                            max_size=3,
                                        )
                                        | json_values
                                    }
                                )
                                | json_values
                            }
                        ),
                        max_size=2,
                    )
                    | json_values
                }
            ),
            max_size=2,
        )
        | json_values
    }
)
FUZZ = hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@pytest.mark.django_db
@FUZZ
@given(body=st.one_of(v2_bodies, v3_bodies, json_values))
def test_any_json_body_is_acknowledged(secret, body):
    response = post(body)
    assert response.status_code == 204, response.content


@pytest.mark.django_db
@FUZZ
@given(raw=st.binary(max_size=300) | st.text(max_size=300).map(lambda text: text.encode("utf-8", "surrogatepass")))
def test_any_raw_body_is_a_204_or_a_400(secret, raw):
    response = post(None, raw=raw)
    assert response.status_code in (204, 400), response.content
    if response.status_code == 400:
        assert response.json()["code"] == "webhook_body_invalid"


def test_deeply_nested_json_is_a_400_not_a_crash(db, secret):
    response = post(None, raw=b"[" * 100_000 + b"]" * 100_000)
    assert response.status_code in (204, 400)


def test_reports_are_read_from_both_formats():
    v2_failed = {
        "type": "message-event",
        "payload": {"id": "wamid-1", "gsId": "m-1", "type": "failed", "payload": {"code": 1002, "reason": "No WA"}},
    }
    v3 = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "statuses": [
                                {"id": "wamid-2", "gs_id": "m-2", "status": "read"},
                                {"id": "m-3", "status": "failed", "errors": [{"code": 131047, "title": "24h"}]},
                                {"id": "m-4", "status": "enqueued"},
                            ]
                        },
                    }
                ]
            }
        ],
    }
    assert status_reports(v2_failed) == [StatusReport("failed", "m-1", "1002: No WA")]
    assert status_reports(v3) == [StatusReport("read", "m-2", ""), StatusReport("failed", "m-3", "131047: 24h")]
    assert status_reports({"type": "message-event", "payload": {"type": "enqueued", "id": "m-5"}}) == []


# --- One-time codes -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("synchronous", [True, False], ids=["failed-sync", "failed-async"])
def test_a_failed_whatsapp_code_goes_out_again_by_sms(
    whatsapp_otp, fake_authentica, django_capture_on_commit_callbacks, synchronous
):
    phone = next_phone()
    otp = send_code(phone)
    message = whatsapp_otp.sent[-1]
    assert (otp.channel, otp.provider_message_id) == ("whatsapp", message.message_id)
    event = whatsapp_otp.callbacks.failed(
        message_id=message.message_id, destination=message.destination, synchronous=synchronous
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert post(event).status_code == 204

    assert len(sms_to(fake_authentica, phone)) == 1
    row = OTPCode.objects.get(pk=otp.pk)
    assert (row.channel, row.sms_fallback_sent, row.delivery_failed) == ("sms", True, False)
    # The SMS carries a new code, which signs in; the WhatsApp code no longer does.
    assert otp_verify(phone=phone, code=fake_authentica.otp_for(phone), purpose="auth", hotel=None)

    # Gupshup repeats the report: nothing more is sent.
    with django_capture_on_commit_callbacks(execute=True):
        assert post(event).status_code == 204
    assert len(sms_to(fake_authentica, phone)) == 1


@pytest.mark.django_db
def test_delivered_and_read_reports_of_a_code_send_nothing(
    whatsapp_otp, fake_authentica, django_capture_on_commit_callbacks
):
    phone = next_phone()
    otp = send_code(phone)
    message = whatsapp_otp.sent[-1]
    with django_capture_on_commit_callbacks(execute=True):
        for event in whatsapp_otp.delivery_events(message):
            assert post(event).status_code == 204
    assert sms_to(fake_authentica, phone) == []
    assert OTPCode.objects.get(pk=otp.pk).channel == "whatsapp"


@pytest.mark.django_db
def test_a_failed_code_without_any_sms_provider_is_marked_delivery_failed(
    settings, fake_gupshup, eager_celery, secret, django_capture_on_commit_callbacks
):
    settings.OTP_PROVIDER = "gupshup"
    settings.AUTHENTICA_API_KEY = ""
    phone = next_phone()
    otp = send_code(phone)
    message = fake_gupshup.sent[-1]
    event = fake_gupshup.callbacks.failed(message_id=message.message_id, destination=message.destination)

    with django_capture_on_commit_callbacks(execute=True):
        assert post(event).status_code == 204

    row = OTPCode.objects.get(pk=otp.pk)
    assert (row.delivery_failed, row.sms_fallback_sent, row.sms_fallback_claimed_at) == (True, False, None)
    # The sweep no longer tries a code nobody can send.
    settings.OTP_SMS_FALLBACK_AFTER_SECONDS = 0
    assert sms_fallback_sweep_task.apply().result == {"candidates": 0, "sent": 0}


@pytest.mark.django_db
def test_a_failed_sms_fallback_leaves_the_code_to_the_sweep(
    whatsapp_otp, fake_authentica, settings, django_capture_on_commit_callbacks
):
    phone = next_phone()
    otp = send_code(phone)
    message = whatsapp_otp.sent[-1]
    fake_authentica.fail_next(1, status=503, body={"message": "down"})

    with django_capture_on_commit_callbacks(execute=True):
        post(whatsapp_otp.callbacks.failed(message_id=message.message_id, destination=message.destination))

    row = OTPCode.objects.get(pk=otp.pk)
    assert (row.sms_fallback_sent, row.delivery_failed, row.sms_fallback_claimed_at) == (False, False, None)
    settings.OTP_SMS_FALLBACK_AFTER_SECONDS = 0
    assert sms_fallback_sweep_task.apply().result == {"candidates": 1, "sent": 1}
    assert len(sms_to(fake_authentica, phone)) == 1


@pytest.mark.django_db
def test_an_empty_or_unknown_message_id_matches_no_code(
    whatsapp_otp, fake_authentica, django_capture_on_commit_callbacks
):
    phone = next_phone()
    otp = send_code(phone)
    OTPCode.objects.filter(pk=otp.pk).update(provider_message_id="")
    with django_capture_on_commit_callbacks(execute=True):
        for message_id in ("", "not-ours"):
            event = whatsapp_otp.callbacks.failed(message_id=message_id, destination=phone[1:])
            assert post(event).status_code == 204
    assert sms_to(fake_authentica, phone) == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_webhook_and_sweep_at_once_send_one_sms(whatsapp_otp, fake_authentica, settings):
    settings.OTP_SMS_FALLBACK_AFTER_SECONDS = 0
    phone = next_phone()
    otp = send_code(phone)
    message = whatsapp_otp.sent[-1]
    event = whatsapp_otp.callbacks.failed(message_id=message.message_id, destination=message.destination)
    # A slow SMS provider widens the window in which the second one could send as well.
    fake_authentica.delay_next(0.3, count=2)
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}
    errors: list[BaseException] = []

    def webhook():
        try:
            barrier.wait()
            outcomes["webhook"] = post(event).status_code
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def sweep():
        try:
            barrier.wait()
            outcome = sms_fallback_sweep_task.apply()
            assert outcome.successful(), outcome.traceback
            outcomes["sweep"] = outcome.result
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=webhook), threading.Thread(target=sweep)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert outcomes["webhook"] == 204
    assert len(sms_to(fake_authentica, phone)) == 1
    row = OTPCode.objects.get(pk=otp.pk)
    assert (row.channel, row.sms_fallback_sent) == ("sms", True)
    assert otp_verify(phone=phone, code=fake_authentica.otp_for(phone), purpose="auth", hotel=None)


# --- Notification deliveries ----------------------------------------------------------------


def whatsapp_delivery(message_id: str, status: str = "sent") -> NotificationDelivery:
    notification = Notification.objects.create(
        recipient=UserFactory.create(), kind="request.acknowledged", language="en", title="Your towels are on the way"
    )
    return NotificationDelivery.objects.create(
        notification=notification, channel="whatsapp", status=status, provider="gupshup", provider_message_id=message_id
    )


def status_of(delivery):
    return NotificationDelivery.objects.get(pk=delivery.pk).status


@pytest.mark.django_db
def test_delivery_reports_move_a_notification_forward_only(secret, fake_gupshup):
    delivery = whatsapp_delivery("msg-42")
    callbacks = fake_gupshup.callbacks
    destination = "966500000042"

    assert post(callbacks.status("delivered", message_id="msg-42", destination=destination)).status_code == 204
    assert status_of(delivery) == "delivered"
    # Out of order: a late `sent` does not move it back.
    assert post(callbacks.status("sent", message_id="msg-42", destination=destination)).status_code == 204
    assert status_of(delivery) == "delivered"
    assert post(callbacks.status("read", message_id="msg-42", destination=destination)).status_code == 204
    assert status_of(delivery) == "read"


@pytest.mark.django_db
def test_a_failed_notification_message_is_reported_to_notifications(secret, fake_gupshup):
    delivery = whatsapp_delivery("msg-43")
    event = fake_gupshup.callbacks.failed(
        message_id="msg-43", destination="966500000043", code=1012, reason="User opted out", synchronous=False
    )

    assert post(event).status_code == 204

    row = NotificationDelivery.objects.get(pk=delivery.pk)
    assert row.status == "failed"
    assert "1012" in row.error
    assert "opted out" in row.error


@pytest.mark.django_db
def test_events_without_gs_id_for_unknown_messages_are_acknowledged(secret, fake_gupshup):
    delivery = whatsapp_delivery("msg-44")
    event = fake_gupshup.callbacks.status("read", message_id="msg-44", destination="9665", with_gs_id=False)
    assert post(event).status_code == 204
    # Only the WhatsApp id is in the event: it cannot be matched, and nothing changes.
    assert status_of(delivery) == "sent"
    assert post(fake_gupshup.callbacks.user_event(phone="966500000044")).status_code == 204
    assert post(fake_gupshup.callbacks.inbound_text(source="966500000044", text="hi")).status_code == 204
