"""The service request lifecycle: one transition table, and who may take each action.

    NEW ──acknowledge──▶ ACKNOWLEDGED ──start──▶ IN_PROGRESS ──complete──▶ COMPLETED
     │                    │   └─confirm(reason?, time?)─▶ CONFIRMED ──start/complete──▶ …
     │                    └─decline(reason required)─▶ DECLINED
     ├─guest cancel (NEW/ACKNOWLEDGED only)─▶ CANCELLED
     └─expiry job (stay ended, or never acknowledged in time)─▶ EXPIRED

Expiry applies to requests nobody has started working on (NEW and ACKNOWLEDGED, the same set a
guest may still cancel); confirmed and in-progress requests are finished by staff.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .models import RequestAction, RequestStatus


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str


TRANSITIONS: Mapping[str, Transition] = {
    RequestAction.ACKNOWLEDGE: Transition(frozenset({RequestStatus.NEW}), RequestStatus.ACKNOWLEDGED),
    RequestAction.CONFIRM: Transition(frozenset({RequestStatus.ACKNOWLEDGED}), RequestStatus.CONFIRMED),
    RequestAction.DECLINE: Transition(frozenset({RequestStatus.ACKNOWLEDGED}), RequestStatus.DECLINED),
    RequestAction.START: Transition(
        frozenset({RequestStatus.ACKNOWLEDGED, RequestStatus.CONFIRMED}), RequestStatus.IN_PROGRESS
    ),
    RequestAction.COMPLETE: Transition(
        frozenset({RequestStatus.CONFIRMED, RequestStatus.IN_PROGRESS}), RequestStatus.COMPLETED
    ),
    RequestAction.CANCEL: Transition(
        frozenset({RequestStatus.NEW, RequestStatus.ACKNOWLEDGED}), RequestStatus.CANCELLED
    ),
    RequestAction.EXPIRE: Transition(frozenset({RequestStatus.NEW, RequestStatus.ACKNOWLEDGED}), RequestStatus.EXPIRED),
}

# Who takes which action. A refusal lists the actions of the same party that are possible now.
STAFF_ACTIONS: tuple[str, ...] = (
    RequestAction.ACKNOWLEDGE,
    RequestAction.CONFIRM,
    RequestAction.DECLINE,
    RequestAction.START,
    RequestAction.COMPLETE,
)
GUEST_ACTIONS: tuple[str, ...] = (RequestAction.CANCEL,)
SYSTEM_ACTIONS: tuple[str, ...] = (RequestAction.EXPIRE,)
# Actions whose reason is stored on the request (a reason with any other action is refused).
REASON_ACTIONS: tuple[str, ...] = (RequestAction.CONFIRM, RequestAction.DECLINE, RequestAction.CANCEL)

FINAL_STATUSES = frozenset(
    {RequestStatus.COMPLETED, RequestStatus.DECLINED, RequestStatus.CANCELLED, RequestStatus.EXPIRED}
)


def party_of(action: str) -> tuple[str, ...]:
    for party in (STAFF_ACTIONS, GUEST_ACTIONS, SYSTEM_ACTIONS):
        if action in party:
            return party
    raise KeyError(action)


def allowed_actions(status: str, among: Iterable[str] = STAFF_ACTIONS) -> list[str]:
    """The actions of `among` that move a request in `status` somewhere, in the table's order."""
    return [str(action) for action in among if status in TRANSITIONS[action].sources]
