"""The booking lifecycle: one transition table, and who may take each action.

    PENDING_PAYMENT ──payment succeeded──▶ CONFIRMED ──complete──▶ COMPLETED
          │   └──hold released (job)──▶ EXPIRED        ├──no_show──▶ NO_SHOW
          └──cancel (guest or staff)──▶ CANCELLED ◀─────┘ cancel

Free bookings (price 0) are created CONFIRMED. PENDING_PAYMENT and CONFIRMED hold the staff
member's time; every other status releases it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from .models import BookingStatus


class BookingAction(models.TextChoices):
    CONFIRM = "confirm", _("Confirm")
    CANCEL = "cancel", _("Cancel")
    COMPLETE = "complete", _("Complete")
    NO_SHOW = "no_show", _("No-show")
    EXPIRE = "expire", _("Expire")


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str


_ACTIVE = frozenset({BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED})

TRANSITIONS: Mapping[str, Transition] = {
    BookingAction.CONFIRM: Transition(frozenset({BookingStatus.PENDING_PAYMENT}), BookingStatus.CONFIRMED),
    BookingAction.CANCEL: Transition(_ACTIVE, BookingStatus.CANCELLED),
    BookingAction.COMPLETE: Transition(frozenset({BookingStatus.CONFIRMED}), BookingStatus.COMPLETED),
    BookingAction.NO_SHOW: Transition(frozenset({BookingStatus.CONFIRMED}), BookingStatus.NO_SHOW),
    BookingAction.EXPIRE: Transition(frozenset({BookingStatus.PENDING_PAYMENT}), BookingStatus.EXPIRED),
}

# The actions staff take through `hotels/{hotel}/bookings/{id}/transition/`.
STAFF_ACTIONS: tuple[str, ...] = (BookingAction.COMPLETE, BookingAction.NO_SHOW, BookingAction.CANCEL)
# Complete and no-show describe what happened at the appointment, so they wait for its start.
AFTER_START_ACTIONS: frozenset[str] = frozenset({BookingAction.COMPLETE, BookingAction.NO_SHOW})


def allowed_actions(status: str, among: Iterable[str] = STAFF_ACTIONS) -> list[str]:
    """The actions of `among` that move a booking in `status` somewhere, in the table's order."""
    return [str(action) for action in among if status in TRANSITIONS[action].sources]
