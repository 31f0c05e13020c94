"""Stay writes: front-desk registration, changes and check-out, self check-in, and the hotel's settings.

A stay's status only ever leaves ACTIVE (see STAY_ENDINGS); the partial unique index on ACTIVE
stays is what decides two check-ins of the same guest racing each other.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import status as http_status

from refuje.accounts.models import User, UserType
from refuje.common.errors import ApiError, Conflict, NotFound
from refuje.compliance.services import audit_record
from refuje.hotels.models import Hotel
from refuje.qrcodes.models import QRCode, QRTargetType

from . import selectors
from .models import GuestStay, HotelConciergeSettings, StaySource, StayStatus

MAX_STAY_NIGHTS = 366
STAY_EDITABLE_FIELDS = ("room", "check_in", "check_out")
SETTINGS_EDITABLE_FIELDS = ("self_check_in_enabled", "self_check_in_nights")
# The only status changes a stay knows: it ends, by check-out or by cancellation.
STAY_ENDINGS: Mapping[str, frozenset[str]] = {
    StayStatus.CHECKED_OUT: frozenset({StayStatus.ACTIVE}),
    StayStatus.CANCELLED: frozenset({StayStatus.ACTIVE}),
}


class StayAlreadyActive(Conflict):
    default_detail = _("This guest already has an active stay at this hotel. Change or check out that stay instead.")
    default_code = "stay_already_active"

    def __init__(self, *, stay_id: int) -> None:
        super().__init__(extra={"stay_id": stay_id})


class StayNotActive(Conflict):
    default_detail = _("This stay has ended and can no longer be changed.")
    default_code = "stay_not_active"


class SelfCheckInDisabled(ApiError):
    status_code = http_status.HTTP_403_FORBIDDEN
    default_detail = _("This hotel does not offer self check-in. Please ask the front desk.")
    default_code = "self_check_in_disabled"


class NotARoomCode(ApiError):
    default_detail = _("This QR code does not belong to a room, so it cannot check you in.")
    default_code = "qr_not_a_room"


@dataclass(frozen=True)
class SelfCheckIn:
    stay: GuestStay
    created: bool


def stay_state(stay: GuestStay) -> dict[str, Any]:
    return {
        "guest_id": stay.guest_id,
        "room": stay.room,
        "check_in": stay.check_in.isoformat(),
        "check_out": stay.check_out.isoformat(),
        "status": stay.status,
        "source": stay.source,
    }


def _check_dates(check_in: date, check_out: date) -> None:
    if check_out < check_in:
        raise ValidationError(
            {
                "check_out": ValidationError(
                    _("The check-out date cannot be before the check-in date."), code="check_out_before_check_in"
                )
            }
        )
    if (check_out - check_in).days > MAX_STAY_NIGHTS:
        raise ValidationError(
            {
                "check_out": ValidationError(
                    _("A stay can last at most %(nights)s nights."),
                    code="stay_too_long",
                    params={"nights": MAX_STAY_NIGHTS},
                )
            }
        )


def _insert_active(stay: GuestStay) -> tuple[GuestStay, bool]:
    """Insert an ACTIVE stay: (stay, True); or, when another ACTIVE stay of the same guest and hotel
    won the race for the unique index, (that stay, False)."""
    try:
        with transaction.atomic():
            stay.save(force_insert=True)
    except IntegrityError:
        winner = selectors.stay_active(hotel=stay.hotel, guest=stay.guest)
        if winner is None:
            raise
        return winner, False
    return stay, True


# --- Front desk -----------------------------------------------------------------------------


def stay_register(
    *,
    actor: User,
    hotel: Hotel,
    phone: str,
    room: str,
    check_in: date,
    check_out: date,
    full_name: str = "",
    ip: str | None = None,
) -> GuestStay:
    """Register a guest (created on first visit, linked by phone afterwards) in a room."""
    _check_dates(check_in, check_out)
    with transaction.atomic():
        guest, _created = User.objects.create_guest_user(phone, full_name=full_name)
        if not guest.is_active:
            raise ValidationError({"phone": ValidationError(_("This account is disabled."), code="account_disabled")})
        if full_name and not guest.full_name:
            guest.full_name = full_name
            guest.save(update_fields=["full_name"])
        existing = selectors.stay_active(hotel=hotel, guest=guest)
        if existing is not None:
            raise StayAlreadyActive(stay_id=existing.pk)
        stay, created = _insert_active(
            GuestStay(
                hotel=hotel,
                guest=guest,
                room=room,
                check_in=check_in,
                check_out=check_out,
                source=StaySource.FRONT_DESK,
                created_by=actor,
            )
        )
        if not created:
            raise StayAlreadyActive(stay_id=stay.pk)
        audit_record(actor=actor, action="stay.register", target=stay, hotel=hotel, ip=ip, after=stay_state(stay))
    return stay


def stay_update(
    *,
    actor: User,
    stay: GuestStay,
    data: Mapping[str, Any],
    status: str | None = None,
    ip: str | None = None,
) -> GuestStay:
    """Change room or dates, and/or end the stay (`status` CHECKED_OUT or CANCELLED).

    Repeating what is already true (checking out a checked-out stay) changes nothing; changing an
    ended stay is a conflict.
    """
    unknown = set(data) - set(STAY_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"stay_update cannot change {sorted(unknown)}")
    if status is not None and status not in STAY_ENDINGS:
        raise TypeError(f"stay_update cannot set status {status!r}")
    with transaction.atomic():
        locked = GuestStay.objects.select_for_update().get(pk=stay.pk)
        before = stay_state(locked)
        changed = [field for field in STAY_EDITABLE_FIELDS if field in data and data[field] != getattr(locked, field)]
        ending = status is not None and status != locked.status
        if not changed and not ending:
            return _with_relations(locked, stay)
        if not locked.is_active or (ending and locked.status not in STAY_ENDINGS[str(status)]):
            raise StayNotActive()
        for field in changed:
            setattr(locked, field, data[field])
        _check_dates(locked.check_in, locked.check_out)
        now = timezone.now()
        fields = [*changed, "updated_at"]
        if ending:
            locked.status = str(status)
            locked.ended_at = now
            locked.ended_by = actor
            fields += ["status", "ended_at", "ended_by"]
        locked.updated_at = now
        locked.save(update_fields=fields)
        action = "stay.update"
        if ending:
            action = "stay.check_out" if locked.status == StayStatus.CHECKED_OUT else "stay.cancel"
        after = stay_state(locked)
        audit_record(
            actor=actor,
            action=action,
            target=locked,
            hotel=locked.hotel,
            ip=ip,
            before={key: value for key, value in before.items() if after[key] != value},
            after={key: value for key, value in after.items() if before[key] != value},
        )
    return _with_relations(locked, stay)


def _with_relations(locked: GuestStay, original: GuestStay) -> GuestStay:
    # The locked row was read without joins (FOR UPDATE); reuse the caller's loaded relations.
    locked.hotel = original.hotel
    locked.guest = original.guest
    return locked


# --- Self check-in --------------------------------------------------------------------------


def stay_self_check_in(*, guest: User, qr_code: QRCode) -> SelfCheckIn:
    """An ACTIVE stay in the QR code's room for `guest`, when the hotel allows self check-in.

    Idempotent: a guest who already has an active stay at the hotel gets it back unchanged (a scan
    never moves an existing stay to another room; the front desk does that). Concurrent first
    scans are decided by the one-active-stay index: the loser returns the winner's stay.
    """
    hotel = qr_code.hotel
    if not (qr_code.is_active and hotel.is_active and guest.is_active):
        raise NotFound()
    if qr_code.target_type != QRTargetType.ROOM:
        raise NotARoomCode()
    settings = selectors.hotel_concierge_settings(hotel=hotel)
    if not settings.self_check_in_enabled:
        raise SelfCheckInDisabled()
    existing = selectors.stay_active(hotel=hotel, guest=guest)
    if existing is not None:
        return SelfCheckIn(stay=existing, created=False)
    today = timezone.now().astimezone(hotel.tz).date()
    with transaction.atomic():
        stay, created = _insert_active(
            GuestStay(
                hotel=hotel,
                guest=guest,
                room=qr_code.room_number,
                check_in=today,
                check_out=today + timedelta(days=settings.self_check_in_nights),
                source=StaySource.SELF_CHECK_IN,
                created_by=guest,
            )
        )
        if created:
            audit_record(actor=guest, action="stay.self_check_in", target=stay, hotel=hotel, after=stay_state(stay))
    return SelfCheckIn(stay=stay, created=created)


# --- Settings -------------------------------------------------------------------------------


def hotel_concierge_settings_update(
    *, actor: User, hotel: Hotel, data: Mapping[str, Any], ip: str | None = None
) -> HotelConciergeSettings:
    unknown = set(data) - set(SETTINGS_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"hotel_concierge_settings_update cannot change {sorted(unknown)}")
    with transaction.atomic():
        HotelConciergeSettings.objects.get_or_create(hotel=hotel)
        locked = HotelConciergeSettings.objects.select_for_update().get(hotel=hotel)
        changed = [
            field for field in SETTINGS_EDITABLE_FIELDS if field in data and data[field] != getattr(locked, field)
        ]
        if not changed:
            locked.hotel = hotel
            return locked
        before = {field: getattr(locked, field) for field in changed}
        for field in changed:
            setattr(locked, field, data[field])
        locked.updated_at = timezone.now()
        locked.full_clean()
        locked.save(update_fields=[*changed, "updated_at"])
        audit_record(
            actor=actor,
            action="hotel.concierge_settings_update",
            target=hotel,
            hotel=hotel,
            ip=ip,
            before=before,
            after={field: getattr(locked, field) for field in changed},
        )
    locked.hotel = hotel
    return locked


def stay_for_sign_in(*, guest: User, hotel: Hotel, qr_token: str = "") -> GuestStay | None:
    """The stay a guest signing in at `hotel` lands in.

    Signing in through a room QR checks the guest in when the hotel allows it. A code that is not
    a room, or self check-in being off, never blocks the sign-in itself: the guest is signed in
    and simply has no stay until the front desk registers one.
    """
    if guest.user_type != UserType.GUEST:
        return None
    if qr_token:
        qr_code = QRCode.objects.select_related("hotel").filter(token=qr_token, hotel=hotel).first()
        if qr_code is not None:
            with contextlib.suppress(NotFound, NotARoomCode, SelfCheckInDisabled):
                return stay_self_check_in(guest=guest, qr_code=qr_code).stay
    return selectors.stay_active(hotel=hotel, guest=guest)
