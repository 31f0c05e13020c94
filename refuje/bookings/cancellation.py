"""What cancelling (or not turning up to) a booking costs, in integer minor units.

* Only what was paid can be refunded: a confirmed booking of a priced experience has paid its
  price; a booking still awaiting payment (or a free one) has paid nothing.
* A guest cancelling at least ``free_cancellation_hours`` before the start gets everything back;
  later, the experience keeps ``late_cancellation_fee_percent`` of what was paid. A guest cannot
  cancel once the appointment has started (staff record a no-show instead).
* Staff cancelling refund in full, whenever they do it.
* A no-show keeps ``no_show_fee_percent`` of what was paid and refunds the rest.
* Fees round half up to a whole minor unit and never exceed what was paid, so
  ``fee + refund == paid`` and both are between 0 and ``paid``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .models import BookingStatus, ExperienceBookingPolicy

if TYPE_CHECKING:
    from .models import Booking

FREE = "free_cancellation"
LATE = "late_cancellation"
BY_STAFF = "staff_cancellation"
NOTHING_PAID = "nothing_paid"
NO_SHOW = "no_show"
STARTED = "booking_started"
NOT_ACTIVE = "not_active"


@dataclass(frozen=True)
class Quote:
    refund_minor: int
    fee_minor: int
    reason_code: str
    paid_minor: int = 0
    cancellable: bool = True
    free_until: datetime | None = None


def fee_of(paid_minor: int, percent: int) -> int:
    if paid_minor < 0 or not 0 <= percent <= 100:
        raise ValueError("paid must be >= 0 and percent within 0..100")
    return min(paid_minor, (paid_minor * percent + 50) // 100)


def quote_cancellation(
    *,
    paid_minor: int,
    start: datetime,
    now: datetime,
    free_cancellation_hours: int,
    late_cancellation_fee_percent: int,
    by_staff: bool,
) -> Quote:
    free_until = start - timedelta(hours=free_cancellation_hours)
    if not by_staff and now >= start:
        return Quote(0, 0, STARTED, paid_minor=paid_minor, cancellable=False, free_until=free_until)
    if by_staff:
        return Quote(paid_minor, 0, BY_STAFF, paid_minor=paid_minor, free_until=free_until)
    if paid_minor == 0:
        return Quote(0, 0, NOTHING_PAID, paid_minor=0, free_until=free_until)
    if now <= free_until:
        return Quote(paid_minor, 0, FREE, paid_minor=paid_minor, free_until=free_until)
    fee = fee_of(paid_minor, late_cancellation_fee_percent)
    return Quote(paid_minor - fee, fee, LATE, paid_minor=paid_minor, free_until=free_until)


def quote_no_show(*, paid_minor: int, no_show_fee_percent: int) -> Quote:
    fee = fee_of(paid_minor, no_show_fee_percent)
    return Quote(paid_minor - fee, fee, NO_SHOW, paid_minor=paid_minor)


def paid_minor_of(booking: Booking) -> int:
    return booking.price_minor if booking.status in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED) else 0


def policy_of(booking: Booking) -> ExperienceBookingPolicy:
    found = ExperienceBookingPolicy.objects.filter(experience_id=booking.experience_id).first()
    return found if found is not None else ExperienceBookingPolicy(experience_id=booking.experience_id)


def cancellation_quote(
    booking: Booking, *, now: datetime, by_staff: bool, policy: ExperienceBookingPolicy | None = None
) -> Quote:
    """What cancelling `booking` at `now` would refund and keep (see the module's rules)."""
    if booking.status not in (BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED):
        return Quote(0, 0, NOT_ACTIVE, paid_minor=0, cancellable=False)
    policy = policy if policy is not None else policy_of(booking)
    return quote_cancellation(
        paid_minor=paid_minor_of(booking),
        start=booking.start,
        now=now,
        free_cancellation_hours=policy.free_cancellation_hours,
        late_cancellation_fee_percent=policy.late_cancellation_fee_percent,
        by_staff=by_staff,
    )
