"""Fetch payments for an actor: the same 404 for "missing", "another hotel's" and "not yours"."""

from __future__ import annotations

from refuje.accounts.models import User
from refuje.common.errors import NotFound
from refuje.experiences.access import as_id
from refuje.hotels.access import access_hotel
from refuje.hotels.models import Role

from .models import Payment


def access_hotel_payment(actor: User, hotel_slug: str, payment_id: object, *, minimum: str = Role.ADMIN) -> Payment:
    hotel = access_hotel(actor, hotel_slug, minimum=minimum)
    payment = Payment.objects.select_related("hotel").filter(hotel=hotel, pk=as_id(payment_id)).first()
    if payment is None:
        raise NotFound()
    return payment


def access_customer_payment(actor: User, payment_id: object) -> Payment:
    """The paying customer's own payment; nobody else's, whatever their role."""
    if not actor.is_authenticated or not actor.is_active:
        raise NotFound()
    payment = Payment.objects.filter(customer=actor, pk=as_id(payment_id)).first()
    if payment is None:
        raise NotFound()
    return payment
