"""The reconciliation job: lost webhooks and unanswered refunds are caught up from Moyasar's state."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from refuje.bookings.models import BookingStatus
from refuje.payments.models import LedgerEntry, PaymentStatus, Refund, RefundStatus
from refuje.payments.services import payment_reconcile_run, payment_refund, payment_verify
from refuje.payments.tasks import reconcile_payments_task

from .conftest import PRICE, make_scene

pytestmark = pytest.mark.django_db


def later(seconds: int = 600):
    return timezone.now() + timedelta(seconds=seconds)


def test_all_webhooks_lost_the_job_confirms_the_booking(scene, django_capture_on_commit_callbacks):
    scene.pay()

    with django_capture_on_commit_callbacks(execute=True):
        result = payment_reconcile_run(now=later())

    assert (result.checked, result.changed) == (1, 1)
    scene.refresh()
    assert scene.payment.status == PaymentStatus.PAID
    assert scene.booking.status == BookingStatus.CONFIRMED
    assert LedgerEntry.objects.get().source == "reconcile"


def test_the_task_runs_the_job(scene):
    scene.pay()
    scene.payment.created_at = timezone.now() - timedelta(hours=1)
    scene.payment.save(update_fields=["created_at"])

    assert reconcile_payments_task() == {
        "checked": 1,
        "changed": 1,
        "refunds_settled": 0,
        "captured": 0,
        "errors": 0,
    }
    assert scene.refresh().booking.status == BookingStatus.CONFIRMED


def test_young_payments_are_left_to_the_payer(scene):
    scene.pay()
    assert payment_reconcile_run().checked == 0
    assert scene.refresh().payment.status == PaymentStatus.INITIATED


def test_a_form_never_submitted_is_left_alone(scene):
    result = payment_reconcile_run(now=later())
    assert (result.checked, result.changed, result.errors) == (1, 0, 0)
    assert scene.refresh().payment.status == PaymentStatus.INITIATED


def test_a_refund_whose_answer_was_lost_is_settled_not_sent_twice(scene, fake_moyasar, settings):
    scene.pay()
    payment_reconcile_run(now=later())
    payment = scene.refresh().payment
    settings.PROVIDER_HTTP_TIMEOUT_SECONDS = 0.3
    fake_moyasar.delay_next(1.0)  # Moyasar refunds, but the answer never reaches us

    refund = payment_refund(payment=payment, actor=None, amount_minor=5000, reason="Goodwill")

    assert refund.status == RefundStatus.PENDING
    # The fake finishes the refund after its delay, as Moyasar would behind a slow network.
    deadline = time.monotonic() + 10
    while fake_moyasar.payment(payment.moyasar_id)["refunded"] != 5000 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fake_moyasar.payment(payment.moyasar_id)["refunded"] == 5000
    result = payment_reconcile_run(now=later(3600))
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert result.refunds_settled == 1
    assert fake_moyasar.payment(payment.moyasar_id)["refunded"] == 5000
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_minor) == (PaymentStatus.PARTIALLY_REFUNDED, 5000)


def test_a_refund_that_never_reached_moyasar_is_sent_again(scene, fake_moyasar):
    scene.pay()
    payment_reconcile_run(now=later())
    payment = scene.refresh().payment
    fake_moyasar.fail_next(1, status=503, body={"type": "api_error", "message": "down", "errors": None})

    refund = payment_refund(payment=payment, actor=None, amount_minor=PRICE, reason="Goodwill")

    assert refund.status == RefundStatus.PENDING
    assert fake_moyasar.payment(payment.moyasar_id)["refunded"] == 0
    payment_reconcile_run(now=later(3600))
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert fake_moyasar.payment(payment.moyasar_id)["refunded"] == PRICE
    assert Refund.objects.count() == 1


def test_a_refund_made_in_the_moyasar_dashboard_is_booked(scene, fake_moyasar):
    scene.pay()
    payment_reconcile_run(now=later())
    fake_moyasar.set_status(str(scene.payment.given_id), "refunded", refunded=PRICE)
    # Its webhook was lost too; the next look at the payment (here the payer's verify) books it.
    payment_verify(payment=scene.refresh().payment)

    refund = Refund.objects.get()
    assert (refund.amount_minor, refund.status, refund.actor) == (PRICE, RefundStatus.SUCCEEDED, None)
    assert scene.refresh().payment.status == PaymentStatus.REFUNDED


def test_payments_older_than_the_window_are_not_fetched(scene):
    scene.pay()
    assert payment_reconcile_run(now=later(200 * 3600)).checked == 0


def test_make_scene_is_independent(fake_moyasar, db):
    one, two = make_scene(fake_moyasar), make_scene(fake_moyasar)
    assert one.payment.given_id != two.payment.given_id
