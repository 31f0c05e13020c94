"""The notification kinds: who they are for, their text (English msgids), channels and urgency.

Texts are rendered once, under `translation.override(recipient.preferred_language)`, from a
context of plain values. A context value may be a string or number, a `{"ar": …, "en": …}` pair
(a hotel's or department's bilingual name) or an aware datetime (shown in the hotel's time zone,
in the reader's date format). Texts say what happened and where, never what the guest wrote:
they end up on lock screens and in SMS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import formats
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import Channel

GUEST = "guest"
STAFF = "staff"

# Kinds (the stable strings clients see in `kind`).
REQUEST_NEW = "request.new"
REQUEST_REALERT = "request.realert"
REQUEST_ESCALATED = "request.escalated"
REQUEST_REMINDER = "request.reminder"
REQUEST_ACKNOWLEDGED = "request.acknowledged"
REQUEST_CONFIRMED = "request.confirmed"
REQUEST_DECLINED = "request.declined"
REQUEST_COMPLETED = "request.completed"
REQUEST_UPCOMING = "request.upcoming"
BOOKING_CREATED = "booking.created"
BOOKING_CONFIRMED = "booking.confirmed"
BOOKING_REMINDER = "booking.reminder"
BOOKING_CANCELLED = "booking.cancelled"
BOOKING_REFUNDED = "booking.refunded"
STAFF_BOOKING_CREATED = "booking.staff.created"
STAFF_BOOKING_CONFIRMED = "booking.staff.confirmed"
STAFF_BOOKING_REMINDER = "booking.staff.reminder"
STAFF_BOOKING_CANCELLED = "booking.staff.cancelled"
STAFF_BOOKING_REFUNDED = "booking.staff.refunded"
DIGEST_DAILY = "digest.daily"

# Channel plans. "messaging" is WhatsApp when a template is configured, otherwise SMS.
GUEST_CHANNELS: tuple[str, ...] = (Channel.WHATSAPP,)
STAFF_CHANNELS: tuple[str, ...] = (Channel.PUSH,)
DIGEST_CHANNELS: tuple[str, ...] = (Channel.EMAIL,)


@dataclass(frozen=True)
class Kind:
    name: str
    audience: str
    title: Promise
    body: Promise
    channels: tuple[str, ...]
    # Context keys filling the WhatsApp template's placeholders, in order.
    whatsapp_params: tuple[str, ...] = ()
    # A second body used when this context key has a value (e.g. a confirmed time).
    body_with: tuple[str, Promise] | None = None
    urgency: str = "normal"
    ttl: int = 3600
    # Operational alerts can't be muted: a busy desk must not switch off new requests.
    mutable: bool = True
    # Staff without a working push subscription get WhatsApp/SMS instead.
    messaging_without_push: bool = False


def _staff(name: str, title: Promise, body: Promise, *, urgency: str = "normal", mutable: bool = True) -> Kind:
    return Kind(
        name=name,
        audience=STAFF,
        title=title,
        body=body,
        channels=STAFF_CHANNELS,
        whatsapp_params=("title", "body"),
        urgency=urgency,
        mutable=mutable,
        messaging_without_push=True,
    )


def _guest(name: str, title: Promise, body: Promise, **extra: Any) -> Kind:
    return Kind(
        name=name,
        audience=GUEST,
        title=title,
        body=body,
        channels=GUEST_CHANNELS,
        whatsapp_params=extra.pop("whatsapp_params", ("hotel", "number", "department")),
        **extra,
    )


_BOOKING_PARAMS = ("hotel", "experience", "when")

KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        # --- Staff: requests
        _staff(
            REQUEST_NEW,
            _("New request: %(department)s"),
            _("Room %(room)s · request #%(number)s. Please acknowledge it."),
            urgency="high",
            mutable=False,
        ),
        _staff(
            REQUEST_REALERT,
            _("Still waiting: request #%(number)s"),
            _("Room %(room)s · %(department)s: waiting %(minutes)s minutes for someone to acknowledge it."),
            urgency="high",
            mutable=False,
        ),
        _staff(
            REQUEST_ESCALATED,
            _("Overdue: request #%(number)s"),
            _(
                "Room %(room)s · %(department)s is past its response time and nobody has acknowledged it "
                "(escalation level %(level)s)."
            ),
            urgency="high",
            mutable=False,
        ),
        _staff(
            REQUEST_REMINDER,
            _("Request #%(number)s needs an update"),
            _("Room %(room)s · %(department)s was acknowledged %(minutes)s minutes ago and has not moved on since."),
        ),
        # --- Guests: requests
        _guest(
            REQUEST_ACKNOWLEDGED,
            _("%(hotel)s: request received"),
            _("Your request #%(number)s to %(department)s has been received and is being handled."),
        ),
        _guest(
            REQUEST_CONFIRMED,
            _("%(hotel)s: request confirmed"),
            _("Your request #%(number)s to %(department)s is confirmed."),
            body_with=("when", _("Your request #%(number)s to %(department)s is confirmed for %(when)s.")),
        ),
        _guest(
            REQUEST_DECLINED,
            _("%(hotel)s: request declined"),
            _("Sorry, your request #%(number)s to %(department)s was declined: %(reason)s"),
            whatsapp_params=("hotel", "number", "department", "reason"),
        ),
        _guest(
            REQUEST_COMPLETED,
            _("%(hotel)s: request completed"),
            _("Your request #%(number)s to %(department)s is complete."),
        ),
        _guest(
            REQUEST_UPCOMING,
            _("%(hotel)s: coming up"),
            _("Reminder: your request #%(number)s to %(department)s is scheduled for %(when)s."),
            whatsapp_params=("hotel", "number", "department", "when"),
        ),
        # --- Guests: bookings
        _guest(
            BOOKING_CREATED,
            _("%(hotel)s: booking received"),
            _("Your booking of %(experience)s on %(when)s is reserved. Complete the payment to confirm it."),
            whatsapp_params=_BOOKING_PARAMS,
        ),
        _guest(
            BOOKING_CONFIRMED,
            _("%(hotel)s: booking confirmed"),
            _("Your booking of %(experience)s on %(when)s is confirmed."),
            whatsapp_params=_BOOKING_PARAMS,
        ),
        _guest(
            BOOKING_REMINDER,
            _("%(hotel)s: see you soon"),
            _("Reminder: %(experience)s starts at %(when)s."),
            whatsapp_params=_BOOKING_PARAMS,
        ),
        _guest(
            BOOKING_CANCELLED,
            _("%(hotel)s: booking cancelled"),
            _("Your booking of %(experience)s on %(when)s was cancelled."),
            whatsapp_params=_BOOKING_PARAMS,
        ),
        _guest(
            BOOKING_REFUNDED,
            _("%(hotel)s: refund issued"),
            _("We refunded %(amount)s for your booking of %(experience)s on %(when)s."),
            whatsapp_params=("hotel", "amount", "experience", "when"),
        ),
        # --- Staff: bookings
        _staff(
            STAFF_BOOKING_CREATED,
            _("New booking: %(experience)s"),
            _("%(experience)s with you on %(when)s, waiting for payment."),
        ),
        _staff(
            STAFF_BOOKING_CONFIRMED,
            _("Booking confirmed: %(experience)s"),
            _("%(experience)s with you on %(when)s is confirmed."),
        ),
        _staff(
            STAFF_BOOKING_REMINDER,
            _("Coming up: %(experience)s"),
            _("%(experience)s with you starts at %(when)s."),
        ),
        _staff(
            STAFF_BOOKING_CANCELLED,
            _("Booking cancelled: %(experience)s"),
            _("%(experience)s with you on %(when)s was cancelled."),
        ),
        _staff(
            STAFF_BOOKING_REFUNDED,
            _("Booking refunded: %(experience)s"),
            _("%(amount)s was refunded for %(experience)s on %(when)s."),
        ),
        # --- Hotel admins
        Kind(
            name=DIGEST_DAILY,
            audience=STAFF,
            title=_("%(hotel)s: summary of %(date)s"),
            body=_(
                "%(created)s new requests, %(completed)s completed, %(escalated)s escalated, "
                "%(open)s still open; %(bookings)s bookings."
            ),
            channels=DIGEST_CHANNELS,
            whatsapp_params=("title", "body"),
            urgency="low",
            ttl=86400,
        ),
    )
}

KIND_LABELS: dict[str, Promise] = {
    REQUEST_NEW: pgettext_lazy("notification kind", "New requests"),
    REQUEST_REALERT: pgettext_lazy("notification kind", "Requests still waiting"),
    REQUEST_ESCALATED: pgettext_lazy("notification kind", "Overdue requests"),
    REQUEST_REMINDER: pgettext_lazy("notification kind", "Requests waiting for an update"),
    REQUEST_ACKNOWLEDGED: pgettext_lazy("notification kind", "Request received"),
    REQUEST_CONFIRMED: pgettext_lazy("notification kind", "Request confirmed"),
    REQUEST_DECLINED: pgettext_lazy("notification kind", "Request declined"),
    REQUEST_COMPLETED: pgettext_lazy("notification kind", "Request completed"),
    REQUEST_UPCOMING: pgettext_lazy("notification kind", "Upcoming requests"),
    BOOKING_CREATED: pgettext_lazy("notification kind", "Booking received"),
    BOOKING_CONFIRMED: pgettext_lazy("notification kind", "Booking confirmed"),
    BOOKING_REMINDER: pgettext_lazy("notification kind", "Booking reminders"),
    BOOKING_CANCELLED: pgettext_lazy("notification kind", "Booking cancelled"),
    BOOKING_REFUNDED: pgettext_lazy("notification kind", "Refunds"),
    STAFF_BOOKING_CREATED: pgettext_lazy("notification kind", "New bookings with me"),
    STAFF_BOOKING_CONFIRMED: pgettext_lazy("notification kind", "Confirmed bookings with me"),
    STAFF_BOOKING_REMINDER: pgettext_lazy("notification kind", "Upcoming bookings with me"),
    STAFF_BOOKING_CANCELLED: pgettext_lazy("notification kind", "Cancelled bookings with me"),
    STAFF_BOOKING_REFUNDED: pgettext_lazy("notification kind", "Refunded bookings with me"),
    DIGEST_DAILY: pgettext_lazy("notification kind", "Daily summary"),
}

MUTABLE_KINDS: tuple[str, ...] = tuple(name for name, kind in KINDS.items() if kind.mutable)


def kind_of(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"Unknown notification kind {name!r}.") from None


# --- Rendering ------------------------------------------------------------------------------


# Day, month name (in the reader's language), year and a 24-hour time: one unambiguous form for
# lock screens and SMS, without "p.m." running into the sentence's full stop.
DATETIME_DISPLAY = "j F Y, H:i"
DATE_DISPLAY = "j F Y"


def display_value(value: Any, *, language: str, timezone: str | None) -> str:
    """One context value as the reader sees it (call under the reader's language)."""
    if isinstance(value, Mapping):
        other = "en" if language == "ar" else "ar"
        return str(value.get(language) or value.get(other) or "")
    if isinstance(value, datetime):
        local = value.astimezone(ZoneInfo(timezone)) if timezone else value
        return str(formats.date_format(local, DATETIME_DISPLAY))
    if isinstance(value, date):
        return str(formats.date_format(value, DATE_DISPLAY))
    return str(value)


def json_value(value: Any) -> Any:
    """A context value as stored in `Notification.data`."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    return value


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str
    values: dict[str, str]  # every context value as displayed, plus "title" and "body"


def render(kind: Kind, context: Mapping[str, Any], *, language: str, timezone: str | None) -> Rendered:
    """Title and body in the active language (the caller holds `translation.override`)."""
    values = {key: display_value(value, language=language, timezone=timezone) for key, value in context.items()}
    body_template = kind.body
    if kind.body_with is not None and values.get(kind.body_with[0]):
        body_template = kind.body_with[1]
    title = _format(str(kind.title), values)
    body = _format(str(body_template), values)
    return Rendered(title=title, body=body, values={**values, "title": title, "body": body})


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def _format(template: str, values: Mapping[str, str]) -> str:
    # A missing value renders empty rather than failing a notification over a template mistake.
    return template % _Missing(values)
