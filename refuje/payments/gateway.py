"""The payment gateway interface and its implementations, chosen by PAYMENT_PROVIDER.

`moyasar` is the real httpx client (refuje.providers.moyasar); `console` is the embedded default
for local development without Moyasar keys: it approves every payment, logs what it does, and
keeps no state of its own (it answers from our own Payment row), so any process can serve it.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from refuje.providers.moyasar import (
    AUTHORIZED,
    CAPTURED,
    INITIATED,
    PAID,
    REFUNDED,
    VOIDED,
    GatewayPayment,
    MoyasarClient,
    MoyasarError,
)

logger = logging.getLogger("refuje.payments.gateway")


class PaymentGateway(Protocol):
    """A card payment gateway. Every call returns the payment's state after it, or raises
    MoyasarError (`transient` when trying again may help, `not_found` for an unknown id)."""

    name: str

    @property
    def live(self) -> bool: ...

    def fetch_payment(self, payment_id: str) -> GatewayPayment: ...

    def create_payment(
        self,
        *,
        given_id: uuid.UUID,
        amount: int,
        currency: str,
        source: dict[str, Any],
        description: str = "",
        callback_url: str = "",
        metadata: dict[str, str] | None = None,
    ) -> GatewayPayment: ...

    def capture(self, payment_id: str, *, amount: int | None = None) -> GatewayPayment: ...

    def refund(self, payment_id: str, *, amount: int | None = None) -> GatewayPayment: ...

    def void(self, payment_id: str) -> GatewayPayment: ...


class ConsoleGateway:
    """Approves everything; the "payer" is whoever calls verify. Never used in production."""

    name = "console"
    live = False

    def _payment_row(self, payment_id: str) -> Any:
        from .models import Payment

        try:
            key = uuid.UUID(payment_id)
        except ValueError:
            key = None
        row = Payment.objects.filter(moyasar_id=payment_id).first()
        if row is None and key is not None:
            row = Payment.objects.filter(given_id=key).first()
        if row is None:
            raise MoyasarError("console: Object not found", transient=False, status_code=404)
        return row

    def _state(
        self, row: Any, *, status: str | None = None, captured: int | None = None, refunded: int | None = None
    ) -> GatewayPayment:
        from .models import PaymentStatus

        if status is None:
            status = {
                PaymentStatus.INITIATED: AUTHORIZED if row.manual_capture else PAID,
                PaymentStatus.AUTHORIZED: AUTHORIZED,
                PaymentStatus.PAID: CAPTURED if row.manual_capture else PAID,
                PaymentStatus.PARTIALLY_REFUNDED: REFUNDED,
                PaymentStatus.REFUNDED: REFUNDED,
                PaymentStatus.VOIDED: VOIDED,
                PaymentStatus.FAILED: "failed",
            }.get(row.status, INITIATED)
        if captured is None:
            captured = row.captured_minor or (row.amount_minor if status == PAID else 0)
        return GatewayPayment(
            id=str(row.given_id),
            status=status,
            amount=row.amount_minor,
            currency=row.currency,
            captured=captured,
            refunded=row.refunded_minor if refunded is None else refunded,
            metadata={"payment_id": str(row.pk), "booking_id": str(row.booking_id), "given_id": str(row.given_id)},
            message="APPROVED",
        )

    def fetch_payment(self, payment_id: str) -> GatewayPayment:
        return self._state(self._payment_row(payment_id))

    def create_payment(
        self,
        *,
        given_id: uuid.UUID,
        amount: int,
        currency: str,
        source: dict[str, Any],
        description: str = "",
        callback_url: str = "",
        metadata: dict[str, str] | None = None,
    ) -> GatewayPayment:
        logger.info("console gateway: payment %s of %s %s approved", given_id, amount, currency)
        return GatewayPayment(
            id=str(given_id), status=PAID, amount=amount, currency=currency, captured=amount, metadata=metadata or {}
        )

    def capture(self, payment_id: str, *, amount: int | None = None) -> GatewayPayment:
        row = self._payment_row(payment_id)
        logger.info("console gateway: capture of payment %s", payment_id)
        return self._state(row, status=CAPTURED, captured=row.amount_minor if amount is None else amount)

    def refund(self, payment_id: str, *, amount: int | None = None) -> GatewayPayment:
        row = self._payment_row(payment_id)
        refundable = row.captured_minor - row.refunded_minor
        amount = refundable if amount is None else amount
        if amount <= 0 or amount > refundable:
            raise MoyasarError("console: refund exceeds the refundable amount", transient=False, status_code=400)
        logger.info("console gateway: refund of %s on payment %s", amount, payment_id)
        return self._state(row, status=REFUNDED, refunded=row.refunded_minor + amount)

    def void(self, payment_id: str) -> GatewayPayment:
        row = self._payment_row(payment_id)
        logger.info("console gateway: void of payment %s", payment_id)
        return self._state(row, status=VOIDED)


def payment_gateway() -> PaymentGateway:
    provider = str(settings.PAYMENT_PROVIDER)
    if provider == "moyasar":
        return MoyasarClient()
    if provider == "console":
        return ConsoleGateway()
    raise ImproperlyConfigured(f"PAYMENT_PROVIDER must be console or moyasar, not {provider!r}.")
