"""Refunds for cancellations, as refuje.bookings calls them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from refuje.bookings.events import booking_event
from refuje.bookings.models import BookingStatus
from refuje.bookings.services import booking_cancel
from refuje.payments.models import LedgerEntry, PaymentStatus, Refund, RefundKind, RefundStatus
from refuje.payments.services import payment_reconcile_run, payment_refund_for_cancellation

from .conftest import PRICE, make_scene
from .test_reconcile import later

pytestmark = pytest.mark.django_db


@pytest.fixture
def refunded_events():
    seen: list[dict] = []

    def receiver(sender, kind, booking, data, **kwargs):
        if kind == "booking.refunded":
            seen.append(data)

    booking_event.connect(receiver)
    yield seen
    booking_event.disconnect(receiver)


def paid(fake, **pay):
    scene = make_scene(fake)
    scene.pay(**pay)
    payment_reconcile_run(now=later())
    return scene.refresh()


def test_refund_up_to_what_was_paid(fake_moyasar, refunded_events, django_capture_on_commit_callbacks):
    scene = paid(fake_moyasar)

    with django_capture_on_commit_callbacks(execute=True):
        refund = payment_refund_for_cancellation(
            booking=scene.booking, amount_minor=PRICE * 2, reason="cancelled", actor=scene.booking.customer
        )

    assert refund is not None
    refund.refresh_from_db()
    assert (refund.kind, refund.amount_minor, refund.status) == (RefundKind.REFUND, PRICE, RefundStatus.SUCCEEDED)
    assert refund.actor == scene.booking.customer
    assert scene.refresh().payment.status == PaymentStatus.REFUNDED
    assert refunded_events == [{"amount_minor": PRICE, "currency": "SAR"}]


def test_partial_refund_for_a_late_cancellation(fake_moyasar, django_capture_on_commit_callbacks):
    scene = paid(fake_moyasar)
    with django_capture_on_commit_callbacks(execute=True):
        refund = payment_refund_for_cancellation(booking=scene.booking, amount_minor=7500, reason="late", actor=None)
    assert refund is not None
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.amount_minor == 7500
    assert scene.refresh().payment.status == PaymentStatus.PARTIALLY_REFUNDED
    assert fake_moyasar.payment(scene.payment.moyasar_id)["refunded"] == 7500


def test_nothing_to_refund_is_none(fake_moyasar):
    unpaid = make_scene(fake_moyasar)
    assert payment_refund_for_cancellation(booking=unpaid.booking, amount_minor=PRICE, reason="x", actor=None) is None
    scene = paid(fake_moyasar)
    assert payment_refund_for_cancellation(booking=scene.booking, amount_minor=0, reason="x", actor=None) is None
    assert not Refund.objects.exists()


def test_only_authorised_is_voided(fake_moyasar, settings, django_capture_on_commit_callbacks):
    settings.PAYMENT_MANUAL_CAPTURE = True
    scene = paid(fake_moyasar, manual=True)

    with django_capture_on_commit_callbacks(execute=True):
        refund = payment_refund_for_cancellation(booking=scene.booking, amount_minor=PRICE, reason="x", actor=None)

    assert refund is not None
    refund.refresh_from_db()
    assert (refund.kind, refund.status) == (RefundKind.VOID, RefundStatus.SUCCEEDED)
    assert scene.refresh().payment.status == PaymentStatus.VOIDED
    assert fake_moyasar.payment(scene.payment.moyasar_id)["status"] == "voided"


def test_authorised_with_a_fee_captures_only_the_fee(fake_moyasar, settings, django_capture_on_commit_callbacks):
    settings.PAYMENT_MANUAL_CAPTURE = True
    scene = paid(fake_moyasar, manual=True)

    with django_capture_on_commit_callbacks(execute=True):
        result = payment_refund_for_cancellation(booking=scene.booking, amount_minor=10000, reason="x", actor=None)

    assert result is None
    payment = scene.refresh().payment
    assert (payment.status, payment.captured_minor) == (PaymentStatus.PAID, 5000)
    assert fake_moyasar.payment(payment.moyasar_id)["captured"] == 5000


def test_booking_cancel_refunds_through_moyasar(fake_moyasar, django_capture_on_commit_callbacks):
    scene = paid(fake_moyasar)
    assert scene.booking.status == BookingStatus.CONFIRMED

    with django_capture_on_commit_callbacks(execute=True):
        booking, quote = booking_cancel(
            actor=scene.booking.customer, booking=scene.booking, by_staff=True, now=timezone.now()
        )

    assert booking.status == BookingStatus.CANCELLED
    payment = scene.refresh().payment
    assert payment.refunded_minor == quote.refund_minor == PRICE
    assert fake_moyasar.payment(payment.moyasar_id)["refunded"] == PRICE
    assert LedgerEntry.objects.filter(kind="refund").count() == 1


def test_cancellation_refund_with_moyasar_down_stays_pending_and_the_cancel_stands(
    fake_moyasar, django_capture_on_commit_callbacks
):
    scene = paid(fake_moyasar)
    fake_moyasar.fail_next(1, status=503, body={"type": "api_error", "message": "down", "errors": None})

    with django_capture_on_commit_callbacks(execute=True):
        booking, _quote = booking_cancel(actor=scene.booking.customer, booking=scene.booking, by_staff=True)

    assert booking.status == BookingStatus.CANCELLED
    refund = Refund.objects.get()
    assert (refund.status, refund.attempts) == (RefundStatus.PENDING, 1)
    payment_reconcile_run(now=later(3600))
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert fake_moyasar.payment(scene.payment.moyasar_id)["refunded"] == PRICE


def test_completing_the_booking_captures_the_authorisation(fake_moyasar, settings, django_capture_on_commit_callbacks):
    from refuje.bookings.services import booking_complete

    settings.PAYMENT_MANUAL_CAPTURE = True
    scene = paid(fake_moyasar, manual=True)
    assert scene.payment.status == PaymentStatus.AUTHORIZED

    with django_capture_on_commit_callbacks(execute=True):
        booking_complete(actor=scene.booking.customer, booking=scene.booking, now=scene.booking.end)

    payment = scene.refresh().payment
    assert (payment.status, payment.captured_minor) == (PaymentStatus.PAID, PRICE)
    assert fake_moyasar.payment(payment.moyasar_id)["status"] == "captured"
    assert [e.kind for e in LedgerEntry.objects.order_by("id")] == ["authorization", "capture"]


def test_a_reserved_refund_is_left_to_its_sender_and_sent_by_the_job_only_once_it_is_stale(fake_moyasar):
    scene = paid(fake_moyasar)
    # The cancellation's transaction has not committed yet (nothing is run on commit here).
    refund = payment_refund_for_cancellation(booking=scene.booking, amount_minor=PRICE, reason="x", actor=None)
    assert refund is not None

    payment_reconcile_run(now=timezone.now())
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == (RefundStatus.PENDING, 0)
    assert fake_moyasar.payment(scene.payment.moyasar_id)["refunded"] == 0

    # Its sender died before sending: the job takes over once the retry delay has passed.
    result = payment_reconcile_run(now=later(3600))
    refund.refresh_from_db()
    assert (refund.status, result.refunds_settled) == (RefundStatus.SUCCEEDED, 1)
    assert fake_moyasar.payment(scene.payment.moyasar_id)["refunded"] == PRICE


def test_a_completion_stands_when_moyasar_is_down_and_the_job_captures_later(
    fake_moyasar, settings, django_capture_on_commit_callbacks
):
    from refuje.bookings.services import booking_complete

    settings.PAYMENT_MANUAL_CAPTURE = True
    scene = paid(fake_moyasar, manual=True)
    fake_moyasar.fail_next(1, status=503, body={"type": "api_error", "message": "down", "errors": None})

    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_complete(actor=scene.booking.customer, booking=scene.booking, now=scene.booking.end)

    assert booking.status == BookingStatus.COMPLETED
    assert scene.refresh().payment.status == PaymentStatus.AUTHORIZED
    completed_at = booking.completed_at
    assert completed_at is not None
    # Too soon: the capture that followed the completion might still be under way.
    assert payment_reconcile_run(now=completed_at + timedelta(seconds=60)).captured == 0
    result = payment_reconcile_run(now=completed_at + timedelta(hours=1))
    payment = scene.refresh().payment
    assert (result.captured, result.errors) == (1, 0)
    assert (payment.status, payment.captured_minor) == (PaymentStatus.PAID, PRICE)
    assert fake_moyasar.payment(payment.moyasar_id)["status"] == "captured"
    assert payment_reconcile_run(now=completed_at + timedelta(hours=2)).captured == 0  # nothing left


def test_a_late_cancellation_fee_is_captured_by_the_job_when_moyasar_was_down(
    fake_moyasar, settings, django_capture_on_commit_callbacks
):
    settings.PAYMENT_MANUAL_CAPTURE = True
    scene = paid(fake_moyasar, manual=True)
    fake_moyasar.fail_next(1, status=503, body={"type": "api_error", "message": "down", "errors": None})

    an_hour_before = scene.booking.start - timedelta(hours=1)  # late: the default policy keeps half

    with django_capture_on_commit_callbacks(execute=True):
        booking, quote = booking_cancel(
            actor=scene.booking.customer, booking=scene.booking, by_staff=False, now=an_hour_before
        )

    assert booking.status == BookingStatus.CANCELLED
    assert scene.refresh().payment.status == PaymentStatus.AUTHORIZED
    assert quote.fee_minor == PRICE // 2
    result = payment_reconcile_run(now=booking.updated_at + timedelta(hours=1))
    payment = scene.refresh().payment
    assert (result.captured, result.errors) == (1, 0)
    assert (payment.status, payment.captured_minor) == (PaymentStatus.PAID, quote.fee_minor)
    assert fake_moyasar.payment(payment.moyasar_id)["captured"] == quote.fee_minor
