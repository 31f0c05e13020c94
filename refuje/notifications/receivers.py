"""Turn request and booking events into notifications for the right people.

Connected in NotificationsConfig.ready(). Events arrive after their transaction committed; each
notification carries a dedupe key derived from the activity (or booking event), so an event that
is delivered twice notifies once.
"""

from __future__ import annotations

import logging
from typing import Any

from refuje.accounts.models import User
from refuje.hotels.models import Hotel

from . import kinds, selectors
from .services import notify, unique_users

logger = logging.getLogger(__name__)

REQUEST_CREATED = "request.created"
REQUEST_UPDATED = "request.updated"
REQUEST_ESCALATED = "request.escalated"

GUEST_KIND_BY_ACTION = {
    "acknowledge": kinds.REQUEST_ACKNOWLEDGED,
    "confirm": kinds.REQUEST_CONFIRMED,
    "decline": kinds.REQUEST_DECLINED,
    "complete": kinds.REQUEST_COMPLETED,
}


def bilingual(obj: Any, field: str = "name") -> dict[str, str]:
    return {"ar": str(getattr(obj, f"{field}_ar", "") or ""), "en": str(getattr(obj, f"{field}_en", "") or "")}


def request_context(request: Any, **extra: Any) -> dict[str, Any]:
    return {
        "hotel": bilingual(request.hotel),
        "department": bilingual(request.department),
        "number": request.pk,
        "room": request.stay.room,
        "request_id": request.pk,
        **extra,
    }


def staff_request_target(request: Any) -> str:
    return f"/hotels/{request.hotel.slug}/requests/{request.pk}/"


def guest_request_target(request: Any) -> str:
    return f"/guest/requests/{request.pk}/"


def notify_many(users: list[User], **kwargs: Any) -> int:
    """Notify each user; one failure is logged and does not keep the others from hearing."""
    sent = 0
    dedupe_key = kwargs.pop("dedupe_key", "")
    for user in users:
        try:
            notify(recipient=user, dedupe_key=dedupe_key, **kwargs)
            sent += 1
        except Exception:
            logger.exception("Could not notify user %s about %s", user.pk, kwargs.get("kind"))
    return sent


# --- Requests -------------------------------------------------------------------------------


def on_request_event(sender: Any, *, kind: str, request: Any, activity: Any, **kwargs: Any) -> None:
    if kind == REQUEST_CREATED:
        notify_request_new(request, activity)
    elif kind == REQUEST_UPDATED:
        notify_guest_of_change(request, activity)
    elif kind == REQUEST_ESCALATED:
        notify_escalation(request, activity)


def notify_request_new(request: Any, activity: Any) -> int:
    staff = unique_users(selectors.request_staff(request.department), exclude=activity.actor)
    return notify_many(
        staff,
        kind=kinds.REQUEST_NEW,
        hotel=request.hotel,
        context=request_context(request),
        target=staff_request_target(request),
        dedupe_key=f"{kinds.REQUEST_NEW}:{request.pk}",
    )


def notify_guest_of_change(request: Any, activity: Any) -> int:
    kind = GUEST_KIND_BY_ACTION.get(str(activity.action))
    if kind is None:
        return 0
    guest = request.stay.guest
    extra: dict[str, Any] = {}
    if kind == kinds.REQUEST_CONFIRMED and request.scheduled_for is not None:
        extra["when"] = request.scheduled_for
    if kind == kinds.REQUEST_DECLINED:
        extra["reason"] = request.declined_reason
    return notify_many(
        [guest],
        kind=kind,
        hotel=request.hotel,
        context=request_context(request, **extra),
        target=guest_request_target(request),
        dedupe_key=f"{kind}:{activity.pk}",
    )


def notify_escalation(request: Any, activity: Any) -> int:
    try:
        level = int(activity.note)
    except (TypeError, ValueError):
        level = request.escalation_level or 1
    recipients = selectors.escalation_recipients(request.department, level)
    return notify_many(
        recipients,
        kind=kinds.REQUEST_ESCALATED,
        hotel=request.hotel,
        context=request_context(request, level=level),
        target=staff_request_target(request),
        dedupe_key=f"{kinds.REQUEST_ESCALATED}:{request.pk}:{level}",
    )


# --- Bookings -------------------------------------------------------------------------------

BOOKING_KINDS = {
    "booking.created": (kinds.BOOKING_CREATED, kinds.STAFF_BOOKING_CREATED),
    "booking.confirmed": (kinds.BOOKING_CONFIRMED, kinds.STAFF_BOOKING_CONFIRMED),
    "booking.reminder": (kinds.BOOKING_REMINDER, kinds.STAFF_BOOKING_REMINDER),
    "booking.cancelled": (kinds.BOOKING_CANCELLED, kinds.STAFF_BOOKING_CANCELLED),
    "booking.refunded": (kinds.BOOKING_REFUNDED, kinds.STAFF_BOOKING_REFUNDED),
}
MINOR_UNIT_EXPONENT = {"KWD": 3, "BHD": 3, "OMR": 3, "JOD": 3, "TND": 3, "JPY": 0, "KRW": 0}


def money_text(amount_minor: int, currency: str) -> str:
    exponent = MINOR_UNIT_EXPONENT.get(currency.upper(), 2)
    if exponent == 0:
        return f"{amount_minor} {currency}"
    whole, part = divmod(abs(int(amount_minor)), 10**exponent)
    sign = "-" if amount_minor < 0 else ""
    return f"{sign}{whole}.{part:0{exponent}d} {currency}"


def booking_context(booking: Any, data: dict[str, Any]) -> dict[str, Any]:
    hotel: Hotel = booking.hotel
    context: dict[str, Any] = {
        "hotel": bilingual(hotel),
        "experience": bilingual(booking.experience, "title"),
        "when": booking.start,
        "booking_id": booking.pk,
    }
    if "amount_minor" in data:
        context["amount"] = money_text(int(data["amount_minor"]), str(data.get("currency") or booking.currency))
    return context


def on_booking_event(
    sender: Any, *, kind: str, booking: Any, data: dict[str, Any] | None = None, **kwargs: Any
) -> None:
    pair = BOOKING_KINDS.get(kind)
    if pair is None:
        return
    if kind == "booking.created" and booking.status == "confirmed":
        # A free booking is created already confirmed and its `booking.confirmed` follows:
        # one message says it, not two.
        return
    data = dict(data or {})
    guest_kind, staff_kind = pair
    context = booking_context(booking, data)
    if kind == "booking.refunded":
        # Every refund is news; one refund reported twice is not.
        key = f"{kind}:{booking.pk}:{data.get('refund_id') or data.get('amount_minor', '')}"
    elif kind == "booking.reminder":
        key = f"{kind}:{booking.pk}:{booking.start.isoformat()}"
    else:
        key = f"{kind}:{booking.pk}"
    notify_many(
        [booking.customer],
        kind=guest_kind,
        hotel=booking.hotel,
        context=context,
        target=f"/bookings/{booking.pk}/",
        dedupe_key=key,
    )
    staff_user = booking.staff.user
    if staff_user.is_active and booking.staff.is_active and staff_user.pk != booking.customer_id:
        notify_many(
            [staff_user],
            kind=staff_kind,
            hotel=booking.hotel,
            context=context,
            target=f"/hotels/{booking.hotel.slug}/bookings/{booking.pk}/",
            dedupe_key=key,
        )
