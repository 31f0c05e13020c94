"""The fakes must behave like the providers, or the client tests prove nothing."""

import json
import time

import httpx
import pytest

from refuje.providers.fakes.authentica import FakeAuthentica
from refuje.providers.fakes.gupshup import FakeGupshup
from refuje.providers.fakes.server import FakeResponse, FakeServer

PHONE = "+966501234567"


def authentica(fake, method, path, body=None, *, key=None):
    headers = {"X-Authorization": key or fake.api_key, "Accept": "application/json"}
    return httpx.request(method, fake.url + path, json=body, headers=headers, timeout=5)


def gupshup(fake, form, *, key=None):
    return httpx.post(fake.url + "/wa/api/v1/template/msg", data=form, headers={"apikey": key or fake.api_key})


def otp_form(fake, **overrides):
    form = {
        "channel": "whatsapp",
        "source": fake.source,
        "destination": "966501234567",
        "src.name": fake.app_name,
        "template": json.dumps({"id": fake.otp_template_id, "params": ["123456"]}),
    }
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


# --- the generic server ----------------------------------------------------------------------
def test_servers_listen_on_separate_ports_and_record_every_request():
    with (
        FakeServer(lambda request: FakeResponse(200, {"ok": True})) as one,
        FakeServer(lambda request: FakeResponse(204)) as two,
    ):
        assert one.url != two.url
        httpx.post(one.url + "/a?x=1", json={"k": "v"}, headers={"X-Test": "yes"})
        httpx.post(one.url + "/b", data={"f": "g"})
        httpx.get(two.url + "/c")

        first, second = one.requests
        assert (first.method, first.path, first.query, first.json) == ("POST", "/a", {"x": ["1"]}, {"k": "v"})
        assert first.headers["x-test"] == "yes"
        assert (second.form, second.body) == ({"f": "g"}, {"f": "g"})
        assert [r.path for r in two.requests] == ["/c"]


def test_fail_next_applies_to_exactly_the_next_requests():
    with FakeServer(lambda request: FakeResponse(200, {"ok": True})) as fake:
        fake.fail_next(2, status=503, body={"message": "down"})

        statuses = [httpx.get(fake.url + "/").status_code for _ in range(3)]

        assert statuses == [503, 503, 200]
        assert len(fake.requests) == 3


def test_stop_releases_a_delayed_answer_quickly():
    fake = FakeServer(lambda request: FakeResponse(200)).start()
    fake.delay_next(30)
    with pytest.raises(httpx.TimeoutException):
        httpx.get(fake.url + "/", timeout=0.1)

    started = time.monotonic()
    fake.stop()

    assert time.monotonic() - started < 2


def test_a_bug_in_a_fake_answers_500_instead_of_hanging():
    def broken(request):
        raise KeyError("oops")

    with FakeServer(broken) as fake:
        assert httpx.get(fake.url + "/", timeout=5).status_code == 500


# --- Authentica --------------------------------------------------------------------------------
def test_authentica_rejects_a_wrong_key():
    with FakeAuthentica() as fake:
        response = authentica(fake, "GET", "/api/v2/balance", key="wrong")

    assert response.status_code == 401


def test_authentica_otp_roundtrip_and_single_use():
    with FakeAuthentica() as fake:
        sent = authentica(fake, "POST", "/api/v2/send-otp", {"method": "sms", "phone": PHONE, "otp": "123456"})
        wrong = authentica(fake, "POST", "/api/v2/verify-otp", {"phone": PHONE, "otp": "000000"})
        right = authentica(fake, "POST", "/api/v2/verify-otp", {"phone": PHONE, "otp": "123456"})
        again = authentica(fake, "POST", "/api/v2/verify-otp", {"phone": PHONE, "otp": "123456"})

    assert sent.json() == {"success": True, "data": None, "message": "OTP send successfully"}
    assert (wrong.status_code, wrong.json()["status"]) == (400, False)
    assert right.json() == {"status": True, "message": "OTP verified successfully"}
    assert again.status_code == 400


def test_authentica_generates_a_code_when_none_is_given_and_expires_it():
    with FakeAuthentica() as fake:
        authentica(fake, "POST", "/api/v2/send-otp", {"method": "whatsapp", "phone": PHONE})
        code = fake.otp_for(PHONE)
        fake.expire_otp(PHONE)
        expired = authentica(fake, "POST", "/api/v2/verify-otp", {"phone": PHONE, "otp": code})

    assert code is not None
    assert len(code) == 6
    assert expired.json() == {"status": False, "message": "OTP expired"}


@pytest.mark.parametrize(
    "body",
    [
        {"method": "fax", "phone": PHONE},
        {"method": "sms", "phone": "0501234567"},
        {"method": "sms", "email": "guest@example.com"},
        {"method": "email", "phone": PHONE},
        {"method": "sms", "phone": PHONE, "template_id": "one"},
    ],
)
def test_authentica_validates_send_otp(body):
    with FakeAuthentica() as fake:
        response = authentica(fake, "POST", "/api/v2/send-otp", body)

        assert response.status_code == 422
        assert fake.sent_otps == []


def test_authentica_needs_a_json_body():
    with FakeAuthentica() as fake:
        response = httpx.post(
            fake.url + "/api/v2/send-otp",
            data={"method": "sms", "phone": PHONE},
            headers={"X-Authorization": fake.api_key},
        )

    assert response.status_code == 400


def test_authentica_send_sms_checks_the_sender_allow_list_and_balance_reports():
    with FakeAuthentica(sender_names=("Refuje", "RefujeOps"), balance=42) as fake:
        allowed = authentica(
            fake, "POST", "/api/v2/send-sms", {"phone": PHONE, "message": "Hi", "sender_name": "RefujeOps"}
        )
        refused = authentica(fake, "POST", "/api/v2/send-sms", {"phone": PHONE, "message": "Hi", "sender_name": "Spam"})
        balance = authentica(fake, "GET", "/api/v2/balance")

        assert allowed.status_code == 200
        assert refused.status_code == 400
        assert [sms.sender_name for sms in fake.sent_sms] == ["RefujeOps"]
        assert balance.json()["data"] == {"balance": 42}


# --- Gupshup -----------------------------------------------------------------------------------
def test_gupshup_accepts_a_template_and_returns_a_message_id():
    with FakeGupshup() as fake:
        response = gupshup(fake, otp_form(fake))

        assert response.status_code == 202
        assert response.json() == {"status": "submitted", "messageId": fake.sent[0].message_id}
        assert fake.otp_for(PHONE) == "123456"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"source": None}, "Missing required parameter: source"),
        ({"destination": None}, "Missing required parameter: destination"),
        ({"src.name": None}, "Missing required parameter: src.name"),
        ({"template": None}, "Missing required parameter: template"),
        ({"destination": "+966501234567"}, "Invalid Destination"),
        ({"template": json.dumps({"id": "unknown", "params": ["1"]})}, "Template Not Found"),
        ({"template": "id=abc"}, "Invalid template: not a JSON string"),
    ],
)
def test_gupshup_rejects_bad_template_requests(overrides, message):
    with FakeGupshup() as fake:
        response = gupshup(fake, otp_form(fake, **overrides))

        assert response.json() == {"status": "error", "message": message}
        assert fake.sent == []


def test_gupshup_rejects_a_wrong_key_and_rate_limits_on_demand():
    with FakeGupshup() as fake:
        unauthorised = gupshup(fake, otp_form(fake), key="wrong")
        fake.rate_limit_next()
        limited = gupshup(fake, otp_form(fake))

    assert (unauthorised.status_code, unauthorised.json()["message"]) == (401, "Authentication Failed")
    assert (limited.status_code, limited.json()["message"]) == (429, "Too Many Requests")


def test_gupshup_callback_driver_builds_v2_message_events():
    with FakeGupshup() as fake:
        gupshup(fake, otp_form(fake))
        [message] = fake.sent
        enqueued, sent, delivered, read = fake.delivery_events(message)
        late = fake.callbacks.status(
            "delivered", message_id=message.message_id, destination="966501234567", with_gs_id=False
        )
        sync_failure = fake.callbacks.failed(message_id=message.message_id, destination="966501234567")
        async_failure = fake.callbacks.failed(
            message_id=message.message_id, destination="966501234567", synchronous=False
        )

    assert enqueued["type"] == "message-event"
    assert enqueued["version"] == 2
    assert enqueued["app"] == fake.app_name
    assert enqueued["payload"]["id"] == message.message_id
    assert enqueued["payload"]["type"] == "enqueued"
    wamid = enqueued["payload"]["payload"]["whatsappMessageId"]
    for event, kind in ((sent, "sent"), (delivered, "delivered"), (read, "read")):
        assert event["payload"]["type"] == kind
        assert event["payload"]["id"] == wamid
        assert event["payload"]["gsId"] == message.message_id
    assert sent["payload"]["ts"] < delivered["payload"]["ts"] < read["payload"]["ts"]
    assert "gsId" not in late["payload"]
    assert sync_failure["payload"]["id"] == message.message_id
    assert sync_failure["payload"]["payload"] == {"code": 1002, "reason": "Number Does Not Exist On WhatsApp"}
    assert async_failure["payload"]["gsId"] == message.message_id
    assert async_failure["payload"]["id"] != message.message_id


def test_gupshup_callback_driver_builds_inbound_and_user_events():
    with FakeGupshup() as fake:
        inbound = fake.callbacks.inbound_text(source="966501234567", text="Hi")
        opted_out = fake.callbacks.user_event(phone="966501234567")

    assert inbound["type"] == "message"
    assert inbound["payload"]["payload"] == {"text": "Hi"}
    assert opted_out["payload"] == {"phone": "966501234567", "type": "opted-out"}
