"""Concurrent deliveries of the same news, with real threads against PostgreSQL."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from refuje.bookings.models import Booking, BookingStatus
from refuje.bookings.services import booking_cancel
from refuje.payments.models import LedgerEntry, PaymentStatus, Refund, RefundStatus, WebhookEvent
from refuje.payments.services import _execute_refund, _locked, payment_refund

from .conftest import PRICE, make_scene, webhook_post

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


def run_together(calls: list[Any]) -> list[Any]:
    """Start every call at the same moment on its own thread (and database connection)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def body(index: int, call: Any) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except BaseException as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_the_same_paid_webhook_ten_times_at_once_changes_state_once(fake_moyasar):
    scene = make_scene(fake_moyasar)
    scene.pay()
    body = fake_moyasar.webhook(str(scene.payment.given_id))

    results = run_together([lambda: webhook_post(APIClient(), body) for _ in range(10)])

    assert [getattr(r, "status_code", r) for r in results] == [200] * 10, results
    scene.refresh()
    assert scene.payment.status == PaymentStatus.PAID
    assert scene.booking.status == BookingStatus.CONFIRMED
    assert LedgerEntry.objects.filter(payment=scene.payment).count() == 1
    assert WebhookEvent.objects.count() == 1


def test_ten_different_events_for_one_payment_at_once_book_one_charge(fake_moyasar):
    scene = make_scene(fake_moyasar)
    scene.pay()
    bodies = [fake_moyasar.webhook(str(scene.payment.given_id)) for _ in range(10)]

    results = run_together([lambda body=body: webhook_post(APIClient(), body) for body in bodies])

    assert [getattr(r, "status_code", r) for r in results] == [200] * 10, results
    assert sorted(r.json()["outcome"] for r in results) == ["applied"] + ["no_change"] * 9
    assert LedgerEntry.objects.filter(payment=scene.payment).count() == 1
    assert WebhookEvent.objects.count() == 10


def test_concurrent_refunds_never_exceed_what_was_paid(fake_moyasar):
    scene = make_scene(fake_moyasar)
    scene.pay()
    webhook_post(APIClient(), fake_moyasar.webhook(str(scene.payment.given_id)))
    payment = scene.refresh().payment

    results = run_together(
        [lambda: payment_refund(payment=payment, actor=None, amount_minor=6000, reason="goodwill") for _ in range(4)]
    )

    succeeded = [r for r in results if not isinstance(r, Exception)]
    assert len(succeeded) == 2, results  # 2 × 6000 fit in 15000, a third would not
    payment.refresh_from_db()
    assert payment.refunded_minor == 12000 <= PRICE
    assert fake_moyasar.payment(payment.moyasar_id)["refunded"] == 12000
    assert LedgerEntry.objects.filter(payment=payment, kind="refund").count() == 2


def _wait_until_another_session_waits_for_a_lock(timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.02)
    return False


def test_sending_a_reserved_refund_while_a_webhook_is_applied_does_not_deadlock(fake_moyasar):
    """The webhook locks booking, payment, then the pending refunds; sending a refund must not
    hold its refund row while it waits for the payment, or the two wait on each other."""
    scene = make_scene(fake_moyasar)
    scene.pay()
    webhook_post(APIClient(), fake_moyasar.webhook(str(scene.payment.given_id)))
    payment = scene.refresh().payment
    fake_moyasar.fail_next(1, status=503, body={"type": "api_error", "message": "down", "errors": None})
    refund = payment_refund(payment=payment, actor=None, amount_minor=5000, reason="goodwill")
    assert refund.status == RefundStatus.PENDING

    webhook_holds_its_locks = threading.Event()
    webhook_errors: list[BaseException] = []

    def apply_webhook() -> None:
        try:
            with transaction.atomic():
                _locked(payment.pk)
                webhook_holds_its_locks.set()
                assert _wait_until_another_session_waits_for_a_lock()
                list(Refund.objects.select_for_update().filter(payment=payment, status=RefundStatus.PENDING))
        except BaseException as exc:
            webhook_errors.append(exc)
        finally:
            webhook_holds_its_locks.set()
            connection.close()

    webhook = threading.Thread(target=apply_webhook)
    webhook.start()
    assert webhook_holds_its_locks.wait(10)
    try:
        sent = _execute_refund(refund.pk, source="reconcile")
    finally:
        webhook.join(30)

    assert webhook_errors == []
    assert sent.status == RefundStatus.SUCCEEDED
    assert fake_moyasar.payment(payment.moyasar_id)["refunded"] == 5000


def test_a_cancellation_refund_is_sent_after_the_booking_lock_is_released(fake_moyasar):
    """A slow gateway must not keep the booking locked: staff and the hold job work on it meanwhile."""
    scene = make_scene(fake_moyasar)
    scene.pay()
    webhook_post(APIClient(), fake_moyasar.webhook(str(scene.payment.given_id)))
    booking = scene.refresh().booking
    fake_moyasar.clear_requests()
    fake_moyasar.delay_next(3.0)  # Moyasar takes its time to answer the refund

    cancelling = threading.Thread(
        target=run_together, args=([lambda: booking_cancel(actor=booking.customer, booking=booking, by_staff=True)],)
    )
    cancelling.start()
    try:
        deadline = time.monotonic() + 10
        while not any(r.path.endswith("/refund") for r in fake_moyasar.requests) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert any(r.path.endswith("/refund") for r in fake_moyasar.requests)
        with transaction.atomic():
            # NOWAIT: raises at once if the cancellation still held the row while the refund is out.
            locked = Booking.objects.select_for_update(nowait=True).get(pk=booking.pk)
            assert locked.status == BookingStatus.CANCELLED
    finally:
        cancelling.join(30)

    refund = Refund.objects.get(payment=scene.payment)
    assert refund.status == RefundStatus.SUCCEEDED
    assert fake_moyasar.payment(scene.payment.moyasar_id)["refunded"] == PRICE
