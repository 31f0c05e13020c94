"""Tenant matrix over every payments endpoint: other hotels' payments are the one 404, roles below
ADMIN get 403, only the paying guest may verify, and nothing changes on a refusal."""

from __future__ import annotations

import pytest

from refuje.bookings.models import BookingStatus
from refuje.common.testing.booking_factories import BookingFactory
from refuje.common.testing.tenancy import GUEST, Endpoint, TenantWorld, everyone, hotel_scoped, matrix_cases
from refuje.hotels.models import Role
from refuje.payments.models import LedgerEntry, Payment, Refund, WebhookEvent
from refuje.payments.services import payment_reconcile_run, payment_start

from .test_reconcile import later

WATCH = (Payment, Refund, LedgerEntry, WebhookEvent)
A = "/api/v1/hotels/{w.a.slug}"


def payments(world: TenantWorld, *, manual: bool = False) -> None:
    fake = world.extra["fake"]
    for key, tenant, customer in (("a_pay", world.a, world.guest), ("b_pay", world.b, world.other_guest)):
        booking = BookingFactory.create(hotel=tenant.hotel, customer=customer, status=BookingStatus.PENDING_PAYMENT)
        payment = payment_start(booking=booking)
        if manual:
            Payment.objects.filter(pk=payment.pk).update(manual_capture=True)
        fake.pay(given_id=payment.given_id, amount=payment.amount_minor, manual=manual)
        world.extra[key] = payment
    payment_reconcile_run(now=later())


def held(world: TenantWorld) -> None:
    payments(world, manual=True)


def open_payment(world: TenantWorld) -> None:
    fake = world.extra["fake"]
    booking = BookingFactory.create(hotel=world.a.hotel, customer=world.guest, status=BookingStatus.PENDING_PAYMENT)
    payment = payment_start(booking=booking)
    fake.pay(given_id=payment.given_id, amount=payment.amount_minor)
    world.extra["a_open"] = payment


CODES = {401: "not_authenticated", 403: "role_too_low", 404: "not_found"}
REFUND = {"amount_minor": 100, "reason": "Goodwill"}

ENDPOINTS = [
    Endpoint(
        "verify-own",
        "POST",
        "/api/v1/payments/{w.extra[a_open].pk}/verify/",
        body={},
        setup=open_payment,
        watch=WATCH,
        expect=everyone(404, **{GUEST: 200}),
    ),
    Endpoint(
        "capture",
        "POST",
        A + "/payments/{w.extra[a_pay].pk}/capture/",
        body={},
        setup=held,
        watch=WATCH,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=200),
    ),
    Endpoint(
        "capture-b-payment",
        "POST",
        A + "/payments/{w.extra[b_pay].pk}/capture/",
        body={},
        setup=held,
        watch=WATCH,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=404),
    ),
    Endpoint(
        "refund",
        "POST",
        A + "/payments/{w.extra[a_pay].pk}/refund/",
        body=REFUND,
        setup=payments,
        watch=WATCH,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=200),
    ),
    Endpoint(
        "refund-b-payment",
        "POST",
        A + "/payments/{w.extra[b_pay].pk}/refund/",
        body=REFUND,
        setup=payments,
        watch=WATCH,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=404),
    ),
    Endpoint(
        "void",
        "POST",
        A + "/payments/{w.extra[a_pay].pk}/void/",
        body={"reason": "x"},
        setup=held,
        watch=WATCH,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=200),
    ),
    Endpoint(
        "void-b-payment",
        "POST",
        A + "/payments/{w.extra[b_pay].pk}/void/",
        body={"reason": "x"},
        setup=held,
        watch=WATCH,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=404),
    ),
    Endpoint(
        "void-missing",
        "POST",
        A + "/payments/999999999/void/",
        body={},
        watch=WATCH,
        expect=hotel_scoped(minimum=Role.ADMIN, ok=404),
    ),
]


@pytest.mark.parametrize("case", matrix_cases(*ENDPOINTS))
def test_tenant_matrix(tenant_world, fake_moyasar, case):
    tenant_world.extra["fake"] = fake_moyasar
    tenant_world.check(case)


def test_the_webhook_is_not_a_tenant_endpoint_but_refuses_everyone_without_the_secret(tenant_world, fake_moyasar):
    for persona in ("anonymous", "guest", "a_superadmin", "operator"):
        response = tenant_world.request(
            persona, "POST", "/api/v1/webhooks/moyasar/", {"id": "x", "type": "payment_paid"}
        )
        assert response.status_code == 403
    assert not WebhookEvent.objects.exists()
