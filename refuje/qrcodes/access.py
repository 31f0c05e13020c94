"""Fetch a hotel's QR codes for an actor: the same 404 for "missing" and "another hotel's"."""

from __future__ import annotations

from refuje.accounts.models import User
from refuje.common.errors import NotFound
from refuje.experiences.access import as_id
from refuje.hotels.access import access_hotel
from refuje.hotels.models import Role

from .models import QRCode


def access_qr_code(actor: User, hotel_slug: str, qr_code_id: object, *, minimum: str = Role.ADMIN) -> QRCode:
    hotel = access_hotel(actor, hotel_slug, minimum=minimum)
    code = (
        QRCode.objects.select_related("hotel", "department", "experience")
        .filter(hotel=hotel, pk=as_id(qr_code_id))
        .first()
    )
    if code is None:
        raise NotFound()
    return code
