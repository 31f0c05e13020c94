from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction

from refuje.bookings.models import Booking, BookingStatus
from refuje.common.testing.booking_factories import BookingFactory
from refuje.common.testing.tenancy import browser_client
from refuje.payments.models import Payment
from refuje.payments.services import payment_start
from refuje.providers.fakes.moyasar import FakeMoyasar

PRICE = 15000


@dataclass
class Scene:
    booking: Booking
    payment: Payment
    fake: FakeMoyasar | None

    def pay(self, **kwargs: Any) -> dict[str, Any]:
        """The payer fills in the Moyasar form (creates the payment with our given_id)."""
        assert self.fake is not None
        kwargs.setdefault("amount", self.payment.amount_minor)
        kwargs.setdefault("currency", self.payment.currency)
        kwargs.setdefault(
            "metadata",
            {
                "booking_id": str(self.booking.pk),
                "payment_id": str(self.payment.pk),
                "given_id": str(self.payment.given_id),
            },
        )
        return self.fake.pay(given_id=self.payment.given_id, **kwargs)

    def refresh(self) -> Scene:
        self.booking.refresh_from_db()
        self.payment.refresh_from_db()
        return self

    def customer_client(self):
        return browser_client(self.booking.customer)


def make_scene(
    fake: FakeMoyasar | None, *, price: int = PRICE, status: str = BookingStatus.PENDING_PAYMENT, **kw
) -> Scene:
    with transaction.atomic():
        booking = BookingFactory.create(status=status, price_minor=price, **kw)
        payment = payment_start(booking=booking)
    return Scene(booking=booking, payment=payment, fake=fake)


@pytest.fixture
def scene(db, fake_moyasar) -> Scene:
    return make_scene(fake_moyasar)


def webhook_post(client, body, **extra):
    return client.post("/api/v1/webhooks/moyasar/", body, format="json", **extra)
