"""Admin capture / refund / void: hotel-scoped, audited, never more than was paid."""

from __future__ import annotations

import pytest
from django.utils import translation

from refuje.common.testing.factories import MembershipFactory
from refuje.common.testing.tenancy import browser_client
from refuje.compliance.models import AuditEvent
from refuje.hotels.models import Role
from refuje.payments.models import LedgerEntry, PaymentStatus, Refund, RefundKind, RefundStatus
from refuje.payments.services import payment_reconcile_run

from .conftest import PRICE, make_scene
from .test_reconcile import later

pytestmark = pytest.mark.django_db


def paid_scene(fake, **pay):
    scene = make_scene(fake)
    scene.pay(**pay)
    payment_reconcile_run(now=later())
    return scene.refresh()


def admin_of(scene):
    return browser_client(MembershipFactory.create(hotel=scene.booking.hotel, role=Role.ADMIN).user)


def url(scene, action):
    return f"/api/v1/hotels/{scene.booking.hotel.slug}/payments/{scene.payment.pk}/{action}/"


def test_partial_refund_then_the_rest(fake_moyasar):
    scene = paid_scene(fake_moyasar)
    admin = admin_of(scene)

    first = admin.post(url(scene, "refund"), {"amount_minor": 5000, "reason": "Late start"}, format="json")
    rest = admin.post(url(scene, "refund"), {"reason": "Guest complaint"}, format="json")

    assert first.status_code == 200, first.content
    assert first.json()["amount"] == {"amount_minor": 5000, "currency": "SAR"}
    assert first.json()["status"] == "succeeded"
    assert first.json()["payment"]["status"] == "partially_refunded"
    assert rest.json()["amount"]["amount_minor"] == PRICE - 5000
    assert rest.json()["payment"]["status"] == "refunded"
    assert fake_moyasar.payment(scene.payment.moyasar_id)["refunded"] == PRICE
    audits = AuditEvent.objects.filter(action="payment.refund").order_by("id")
    assert [(a.after or {})["amount_minor"] for a in audits] == [5000, PRICE - 5000]
    assert all(a.hotel == scene.booking.hotel for a in audits)
    assert [e.amount_minor for e in LedgerEntry.objects.filter(kind="refund").order_by("id")] == [5000, PRICE - 5000]


def test_refund_over_what_is_left_is_a_conflict_and_writes_nothing(fake_moyasar):
    scene = paid_scene(fake_moyasar)
    admin = admin_of(scene)
    admin.post(url(scene, "refund"), {"amount_minor": 10000, "reason": "Part"}, format="json")

    with translation.override("en"):
        response = admin.post(url(scene, "refund"), {"amount_minor": 5001, "reason": "Too much"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "refund_exceeds_paid"
    assert Refund.objects.count() == 1
    assert AuditEvent.objects.filter(action="payment.refund").count() == 1


def test_refund_of_an_unpaid_payment_is_a_conflict(fake_moyasar):
    scene = make_scene(fake_moyasar)
    response = admin_of(scene).post(url(scene, "refund"), {"reason": "x"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "payment_not_refundable"


def test_refund_needs_a_reason(fake_moyasar):
    scene = paid_scene(fake_moyasar)
    response = admin_of(scene).post(url(scene, "refund"), {"amount_minor": 100}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()


def test_capture_an_authorisation(fake_moyasar, settings):
    settings.PAYMENT_MANUAL_CAPTURE = True
    scene = paid_scene(fake_moyasar, manual=True)
    assert scene.payment.status == PaymentStatus.AUTHORIZED
    assert scene.booking.status == "confirmed"

    response = admin_of(scene).post(url(scene, "capture"), {"amount_minor": 12000}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "paid"
    assert response.json()["captured"] == {"amount_minor": 12000, "currency": "SAR"}
    assert [(e.kind, e.amount_minor) for e in LedgerEntry.objects.order_by("id")] == [
        ("authorization", PRICE),
        ("capture", 12000),
    ]
    audit = AuditEvent.objects.get(action="payment.capture")
    assert ((audit.before or {})["status"], (audit.after or {})["status"]) == ("authorized", "paid")


def test_capture_of_a_paid_payment_is_a_conflict(fake_moyasar):
    scene = paid_scene(fake_moyasar)
    response = admin_of(scene).post(url(scene, "capture"), {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "payment_not_capturable"
    assert not AuditEvent.objects.filter(action="payment.capture").exists()


def test_void_an_authorisation(fake_moyasar, settings):
    settings.PAYMENT_MANUAL_CAPTURE = True
    scene = paid_scene(fake_moyasar, manual=True)

    response = admin_of(scene).post(url(scene, "void"), {"reason": "Guest changed plans"}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["kind"], response.json()["status"]) == ("void", "succeeded")
    assert response.json()["payment"]["status"] == "voided"
    assert fake_moyasar.payment(scene.payment.moyasar_id)["status"] == "voided"
    assert AuditEvent.objects.filter(action="payment.void").count() == 1
    assert LedgerEntry.objects.filter(kind="void").count() == 1


def test_void_after_a_refund_is_a_conflict(fake_moyasar):
    scene = paid_scene(fake_moyasar)
    admin = admin_of(scene)
    admin.post(url(scene, "refund"), {"amount_minor": 100, "reason": "x"}, format="json")
    response = admin.post(url(scene, "void"), {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "payment_not_voidable"


def test_moyasar_refusing_a_refund_marks_it_failed(fake_moyasar):
    scene = paid_scene(fake_moyasar)
    # Refunded elsewhere meanwhile: our books still show the money as ours to refund.
    fake_moyasar.set_status(scene.payment.moyasar_id, "voided")

    response = admin_of(scene).post(url(scene, "refund"), {"amount_minor": 1000, "reason": "x"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "gateway_rejected"
    refund = Refund.objects.get(kind=RefundKind.REFUND)
    assert refund.status == RefundStatus.FAILED
    assert scene.refresh().payment.status == PaymentStatus.VOIDED


def test_moyasar_not_answering_leaves_the_refund_pending(fake_moyasar):
    scene = paid_scene(fake_moyasar)
    fake_moyasar.fail_next(1, status=502, body={"type": "api_error", "message": "bad gateway", "errors": None})

    response = admin_of(scene).post(url(scene, "refund"), {"amount_minor": 1000, "reason": "x"}, format="json")

    assert response.status_code == 202
    assert response.json()["status"] == "pending"


def test_void_a_charge_before_settlement(fake_moyasar):
    scene = paid_scene(fake_moyasar)

    response = admin_of(scene).post(url(scene, "void"), {}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["amount"] == {"amount_minor": PRICE, "currency": "SAR"}
    assert scene.refresh().payment.status == PaymentStatus.VOIDED
    assert [e.kind for e in LedgerEntry.objects.order_by("id")] == ["charge", "void"]
