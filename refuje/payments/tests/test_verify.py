"""The payer's side: the form data, then verify after the redirect. Never trust the redirect."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from refuje.bookings.events import booking_event
from refuje.bookings.models import BookingStatus
from refuje.common.testing.tenancy import browser_client
from refuje.payments.models import LedgerEntry, Payment, PaymentStatus, Refund, RefundStatus
from refuje.payments.services import payment_form_data, payment_reconcile_run, payment_start
from refuje.providers.fakes.moyasar import DECLINED_CARD

from .conftest import PRICE, make_scene

pytestmark = pytest.mark.django_db


@pytest.fixture
def events():
    seen: list[tuple[str, int, dict]] = []

    def receiver(sender, kind, booking, data, **kwargs):
        seen.append((kind, booking.pk, data))

    booking_event.connect(receiver)
    yield seen
    booking_event.disconnect(receiver)


def verify(scene, body=None, client=None):
    client = client or scene.customer_client()
    return client.post(f"/api/v1/payments/{scene.payment.pk}/verify/", body or {}, format="json")


def test_form_data_has_what_the_moyasar_form_needs_and_no_secret(scene, settings):
    data = payment_form_data(scene.payment)

    assert data["publishable_api_key"] == settings.MOYASAR_PUBLISHABLE_KEY
    assert data["amount"] == PRICE
    assert data["currency"] == "SAR"
    assert data["money"] == {"amount_minor": PRICE, "currency": "SAR"}
    assert data["callback_url"].endswith(f"/pay/return/{scene.payment.pk}/")
    assert data["metadata"] == {
        "booking_id": str(scene.booking.pk),
        "payment_id": str(scene.payment.pk),
        "given_id": str(scene.payment.given_id),
    }
    assert settings.MOYASAR_SECRET_KEY not in str(data)


def test_payment_start_reuses_the_open_payment(scene):
    assert payment_start(booking=scene.booking) == scene.payment
    assert Payment.objects.filter(booking=scene.booking).count() == 1


def test_paid_payment_confirms_the_booking_once(scene, events, django_capture_on_commit_callbacks):
    scene.pay()

    with django_capture_on_commit_callbacks(execute=True):
        response = verify(scene)
        again = verify(scene)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "paid"
    assert body["amount"] == {"amount_minor": PRICE, "currency": "SAR"}
    assert body["captured"] == {"amount_minor": PRICE, "currency": "SAR"}
    assert again.json()["status"] == "paid"
    scene.refresh()
    assert scene.booking.status == BookingStatus.CONFIRMED
    assert scene.payment.moyasar_id == str(scene.payment.given_id)
    assert [(e.kind, e.amount_minor, e.status_after) for e in LedgerEntry.objects.all()] == [("charge", PRICE, "paid")]
    assert [kind for kind, *_ in events] == ["booking.confirmed"]


def test_verify_accepts_the_moyasar_id_from_the_callback(scene):
    payment = scene.pay()

    response = verify(scene, {"moyasar_id": payment["id"]})

    assert response.json()["status"] == "paid"


def test_declined_card_fails_the_payment_and_keeps_the_hold(scene):
    scene.pay(card=DECLINED_CARD)

    response = verify(scene)

    assert response.status_code == 200
    assert response.json()["status"] == "failed"
    assert response.json()["failure_message"] == "INSUFFICIENT FUNDS"
    scene.refresh()
    assert scene.booking.status == BookingStatus.PENDING_PAYMENT
    assert not LedgerEntry.objects.exists()
    # The guest can try again with a fresh idempotency key.
    retry = payment_start(booking=scene.booking)
    assert retry.pk != scene.payment.pk
    assert retry.given_id != scene.payment.given_id


def test_3ds_payment_stays_initiated_until_completed(scene):
    created = scene.pay(three_ds=True)

    assert verify(scene).json()["status"] == "initiated"
    scene.fake.complete_3ds(created["id"])
    assert verify(scene).json()["status"] == "paid"


@pytest.mark.parametrize(("amount", "currency"), [(100, "SAR"), (PRICE, "KWD"), (PRICE + 1, "SAR")])
def test_wrong_amount_or_currency_is_not_confirmed_and_is_flagged(scene, amount, currency):
    scene.pay(amount=amount, currency=currency)

    with translation.override("en"):
        response = verify(scene)

    assert response.status_code == 409
    assert response.json()["code"] == "payment_mismatch"
    scene.refresh()
    assert scene.payment.status == PaymentStatus.INITIATED
    assert scene.payment.flagged is True
    assert "expected 15000 SAR" in scene.payment.flag_reason
    assert scene.booking.status == BookingStatus.PENDING_PAYMENT
    assert not LedgerEntry.objects.exists()


def test_another_payments_moyasar_id_is_refused(scene, fake_moyasar):
    other = make_scene(fake_moyasar)
    foreign = other.pay()

    response = verify(scene, {"moyasar_id": foreign["id"]})

    assert response.status_code == 409
    scene.refresh()
    assert scene.payment.status == PaymentStatus.INITIATED
    assert scene.payment.moyasar_id is None
    assert scene.booking.status == BookingStatus.PENDING_PAYMENT
    other.refresh()
    assert other.payment.status == PaymentStatus.INITIATED  # and the other one is not touched either


def test_verify_before_the_form_was_submitted_is_a_conflict(scene):
    response = verify(scene)
    assert response.status_code == 409
    assert response.json()["code"] == "payment_not_found"


def test_only_the_paying_customer_may_verify(scene, tenant_world):
    scene.pay()
    for user in (tenant_world.other_guest, tenant_world.a.admin.user, tenant_world.operator):
        response = verify(scene, client=browser_client(user))
        assert response.status_code == 404
    scene.refresh()
    assert scene.payment.status == PaymentStatus.INITIATED


def test_moyasar_down_is_a_502_and_changes_nothing(scene, fake_moyasar):
    scene.pay()
    fake_moyasar.fail_next(1, status=503, body={"type": "api_error", "message": "down", "errors": None})

    response = verify(scene)

    assert response.status_code == 502
    scene.refresh()
    assert scene.payment.status == PaymentStatus.INITIATED


def test_a_payment_arriving_after_the_hold_expired_is_refunded(
    scene, events, fake_moyasar, django_capture_on_commit_callbacks
):
    scene.booking.status = BookingStatus.EXPIRED
    scene.booking.save(update_fields=["status"])
    scene.pay()

    with django_capture_on_commit_callbacks(execute=True):
        response = verify(scene)

    assert response.json()["status"] in ("paid", "refunded")
    scene.refresh()
    assert scene.booking.status == BookingStatus.EXPIRED
    assert scene.payment.status == PaymentStatus.REFUNDED
    assert scene.payment.refunded_minor == PRICE
    assert fake_moyasar.payment(scene.payment.moyasar_id)["refunded"] == PRICE
    [refund] = Refund.objects.all()
    assert (refund.status, refund.amount_minor) == (RefundStatus.SUCCEEDED, PRICE)
    assert [(e.kind, e.amount_minor) for e in LedgerEntry.objects.order_by("id")] == [
        ("charge", PRICE),
        ("refund", PRICE),
    ]
    assert ("booking.refunded", scene.booking.pk, {"amount_minor": PRICE, "currency": "SAR"}) in events


def test_a_second_payment_for_a_paid_booking_is_refunded(scene, fake_moyasar, django_capture_on_commit_callbacks):
    scene.pay()
    verify(scene)
    scene.refresh()
    # A second tab: another payment of the same booking also goes through.
    extra = Payment.objects.create(
        booking=scene.booking,
        hotel=scene.booking.hotel,
        customer=scene.booking.customer,
        amount_minor=PRICE,
        currency="SAR",
    )
    fake_moyasar.pay(given_id=extra.given_id, amount=PRICE)

    with django_capture_on_commit_callbacks(execute=True):
        response = browser_client(scene.booking.customer).post(
            f"/api/v1/payments/{extra.pk}/verify/", {}, format="json"
        )

    assert response.status_code == 200
    extra.refresh_from_db()
    assert extra.status == PaymentStatus.REFUNDED
    scene.refresh()
    assert scene.payment.status == PaymentStatus.PAID
    assert scene.booking.status == BookingStatus.CONFIRMED


def test_console_gateway_approves_without_moyasar(db, settings, django_capture_on_commit_callbacks):
    settings.PAYMENT_PROVIDER = "console"
    scene = make_scene(None)
    assert payment_form_data(scene.payment)["publishable_api_key"] == ""
    # The job leaves console payments to the payer: it would approve anything it asked about.
    assert payment_reconcile_run(now=timezone.now() + timedelta(hours=1)).checked == 0
    assert scene.refresh().booking.status == BookingStatus.PENDING_PAYMENT

    with django_capture_on_commit_callbacks(execute=True):
        response = verify(scene)

    assert response.json()["status"] == "paid"
    assert scene.refresh().booking.status == BookingStatus.CONFIRMED
