"""Concurrent deliveries of the same news, with real threads against PostgreSQL."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from refuje.bookings.models import BookingStatus
from refuje.payments.models import LedgerEntry, PaymentStatus, WebhookEvent
from refuje.payments.services import payment_refund

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
