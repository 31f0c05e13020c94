"""Concierge writes: department service policies, and service requests through their lifecycle.

Every request write locks the request row, checks the one transition table (lifecycle.py), writes
exactly one RequestActivity per change and publishes an event after commit. Repeating an action
that is already applied changes nothing; an impossible action is a 409 that lists what is possible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import status as http_status

from refuje.accounts.models import User
from refuje.common.errors import ApiError, Conflict, NotFound
from refuje.common.images import ImageKind, PreparedImage, StoredImage, image_delete, image_store
from refuje.compliance.services import audit_record
from refuje.experiences.access import as_id
from refuje.experiences.models import Experience
from refuje.hotels.models import Department, Hotel, HotelMembership
from refuje.stays.models import GuestStay, StayStatus

from . import hours, selectors
from .events import REQUEST_CREATED, REQUEST_NOTE, REQUEST_UPDATED, publish_request_event
from .lifecycle import FINAL_STATUSES, TRANSITIONS, allowed_actions, party_of
from .models import (
    ESCALATION_LEVELS,
    MAX_DESCRIPTION_LENGTH,
    MAX_NOTE_LENGTH,
    MAX_REASON_LENGTH,
    CreatedVia,
    DepartmentPolicy,
    EscalationContact,
    HoursOverride,
    RequestAction,
    RequestActivity,
    RequestPriority,
    RequestStatus,
    ServiceRequest,
    WorkingWindow,
)


class NoActiveStay(ApiError):
    status_code = http_status.HTTP_403_FORBIDDEN
    default_detail = _("You need an active stay at this hotel to send requests.")
    default_code = "no_active_stay"


class IllegalTransition(Conflict):
    default_code = "illegal_transition"

    def __init__(self, *, action: str, status: str, allowed: list[str]) -> None:
        # The action as clients send it; the status in the reader's language.
        detail = _("“%(action)s” is not possible while the request is %(status)s.") % {
            "action": action,
            "status": RequestStatus(status).label,
        }
        super().__init__(detail, extra={"status": status, "allowed_actions": allowed})


class ReasonWithoutChange(ApiError):
    default_code = "reason_without_change"

    def __init__(self, *, status: str) -> None:
        detail = _("This request is already %(status)s. A reason or time can only come with a change of status.") % {
            "status": RequestStatus(status).label
        }
        super().__init__(detail)


def _field_error(field: str, message: Any, code: str, params: Mapping[str, Any] | None = None) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code, params=dict(params or {}))})


def _clean_text(value: str, *, field: str, maximum: int, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise _field_error(field, _("This field may not be blank."), "blank")
    if len(text) > maximum:
        raise _field_error(field, _("Use at most %(maximum)s characters."), "max_length", {"maximum": maximum})
    return text


# --- Department service policy --------------------------------------------------------------


@dataclass(frozen=True)
class OverrideSpec:
    override: hours.Override
    label: str = ""


_HOURS_ERROR_FIELDS = {"overlapping_overrides": "overrides", "invalid_sla": "sla_minutes"}


def _hours_error(field: str, exc: hours.HoursError) -> ValidationError:
    return _field_error(_HOURS_ERROR_FIELDS.get(exc.code, field), exc.message, exc.code, exc.params)


def policy_state(view: selectors.PolicyView) -> dict[str, Any]:
    return {
        "sla_minutes": view.policy.sla_minutes,
        "after_hours_sla_minutes": view.policy.after_hours_sla_minutes,
        "reminder_interval_minutes": view.policy.reminder_interval_minutes,
        "windows": [
            {"weekday": row.weekday, "start": row.start.isoformat(), "end": row.end.isoformat()} for row in view.windows
        ],
        "overrides": [
            {
                "start_date": row.start_date.isoformat(),
                "end_date": row.end_date.isoformat(),
                "closed": row.closed,
                "windows": row.windows,
                "label": row.label,
            }
            for row in view.overrides
        ],
        "escalation": {str(level): view.escalation(level) for level in ESCALATION_LEVELS},
    }


def department_policy_set(
    *,
    actor: User,
    department: Department,
    sla_minutes: int,
    after_hours_sla_minutes: int,
    reminder_interval_minutes: int,
    windows: Sequence[hours.Window] = (),
    overrides: Sequence[OverrideSpec] = (),
    escalation: Mapping[int, Sequence[int]] | None = None,
    ip: str | None = None,
) -> selectors.PolicyView:
    """Replace a department's whole service policy: response times, weekly windows, date overrides
    and escalation contacts (membership ids per level, active members of the same hotel)."""
    escalation = escalation or {}
    if set(escalation) - set(ESCALATION_LEVELS):
        raise TypeError(f"escalation levels are {ESCALATION_LEVELS}")
    try:
        hours.validate_windows(windows)
    except hours.HoursError as exc:
        raise _hours_error("windows", exc) from exc
    try:
        for spec in overrides:
            hours.validate_windows(spec.override.windows or ())
        hours.DepartmentHours(
            timezone=department.hotel.timezone,
            windows=tuple(windows),
            overrides=tuple(spec.override for spec in overrides),
            sla_minutes=sla_minutes,
            after_hours_sla_minutes=after_hours_sla_minutes,
        )
    except hours.HoursError as exc:
        raise _hours_error("overrides", exc) from exc
    wanted = {membership_id for ids in escalation.values() for membership_id in ids}
    found = set(
        HotelMembership.objects.filter(hotel_id=department.hotel_id, is_active=True, pk__in=wanted).values_list(
            "pk", flat=True
        )
    )
    if wanted - found:
        raise _field_error(
            "escalation_contacts",
            _("These are not active members of this hotel: %(ids)s."),
            "unknown_members",
            {"ids": ", ".join(str(pk) for pk in sorted(wanted - found))},
        )

    with transaction.atomic():
        # The department row lock serialises policy writes and keeps the department from being
        # deleted underneath them.
        locked = Department.objects.select_for_update(no_key=True).filter(pk=department.pk).first()
        if locked is None:
            raise NotFound()
        locked.hotel = department.hotel
        before = policy_state(selectors.department_policy(locked))
        policy, _created = DepartmentPolicy.objects.get_or_create(department=locked)
        policy.sla_minutes = sla_minutes
        policy.after_hours_sla_minutes = after_hours_sla_minutes
        policy.reminder_interval_minutes = reminder_interval_minutes
        policy.updated_at = timezone.now()
        policy.full_clean()
        policy.save()
        WorkingWindow.objects.filter(department=locked).delete()
        WorkingWindow.objects.bulk_create(
            WorkingWindow(department=locked, weekday=window.weekday, start=window.start, end=window.end)
            for window in windows
        )
        HoursOverride.objects.filter(department=locked).delete()
        HoursOverride.objects.bulk_create(
            HoursOverride(
                department=locked,
                start_date=spec.override.start_date,
                end_date=spec.override.end_date,
                closed=spec.override.closed,
                windows=[selectors.window_to_json(window) for window in spec.override.windows or ()],
                label=spec.label,
            )
            for spec in overrides
        )
        EscalationContact.objects.filter(policy=policy).delete()
        EscalationContact.objects.bulk_create(
            EscalationContact(policy=policy, membership_id=membership_id, level=level)
            for level, ids in sorted(escalation.items())
            for membership_id in dict.fromkeys(ids)
        )
        view = selectors.department_policy(locked)
        after = policy_state(view)
        audit_record(
            actor=actor,
            action="department.policy_set",
            target=locked,
            hotel=department.hotel,
            ip=ip,
            before=before,
            after=after,
        )
    return view


# --- Creating requests ----------------------------------------------------------------------


def service_request_create(
    *,
    actor: User,
    stay: GuestStay,
    description: str,
    created_via: str,
    department_id: int | None = None,
    experience_id: int | None = None,
    priority: str = RequestPriority.NORMAL,
    photo: PreparedImage | None = None,
) -> ServiceRequest:
    """A new request on an active stay, due by the department's SLA at this moment.

    Guests create on their own stay only; staff on any active stay of their hotel (a call to
    reception). The department (or the experience's department) must be active and of the stay's
    hotel. A photo is stored inside the transaction and removed again if anything fails after it.
    """
    text = _clean_text(description, field="description", maximum=MAX_DESCRIPTION_LENGTH, required=True)
    if department_id is None and experience_id is None:
        raise _field_error("department", _("Choose a department or an experience."), "required")
    if priority not in RequestPriority.values:
        raise _field_error("priority", _("Unknown priority."), "invalid_choice")
    stored: StoredImage | None = None
    try:
        with transaction.atomic():
            # Locked against a simultaneous check-out (which takes a full row lock).
            locked_stay = (
                GuestStay.objects.select_for_update(no_key=True, of=("self",))
                .select_related("hotel")
                .filter(pk=stay.pk)
                .first()
            )
            if locked_stay is None or not locked_stay.is_active or not locked_stay.hotel.is_active:
                raise NoActiveStay()
            if created_via == CreatedVia.GUEST and locked_stay.guest_id != actor.pk:
                raise NoActiveStay()
            hotel = locked_stay.hotel
            experience = _available_experience(hotel, experience_id, department_id)
            if experience is not None:
                department_id = experience.department_id
            department = (
                Department.objects.select_related("hotel")
                .filter(hotel=hotel, pk=as_id(department_id), is_active=True)
                .first()
            )
            if department is None:
                raise _field_error("department", _("This department is not available at this hotel."), "unavailable")

            now = timezone.now()
            department_hours = selectors.department_hours(department)
            if photo is not None:
                stored = image_store(prepared=photo, kind=ImageKind.REQUEST_PHOTO)
            request = ServiceRequest(
                hotel=hotel,
                stay=locked_stay,
                department=department,
                experience=experience,
                description=text,
                photo=stored.name if stored else "",
                photo_thumbnail=stored.thumbnail_name if stored else "",
                priority=priority,
                after_hours=hours.is_after_hours(department_hours, now),
                response_due_at=hours.response_due_at(department_hours, now),
                created_by=actor,
                created_via=created_via,
                created_at=now,
                updated_at=now,
            )
            # Constraints were checked above field by field and hold again in the database; skipping
            # their per-constraint SELECTs keeps creation at a handful of queries.
            request.full_clean(validate_constraints=False)
            request.save(force_insert=True)
            activity = RequestActivity.objects.create(
                hotel=hotel,
                request=request,
                actor=actor,
                action=RequestAction.CREATE,
                to_status=request.status,
                at=now,
            )
            publish_request_event(REQUEST_CREATED, request, activity)
    except BaseException:
        if stored is not None:
            image_delete(image=stored)
        raise
    return request


def _available_experience(hotel: Hotel, experience_id: int | None, department_id: int | None) -> Experience | None:
    if experience_id is None:
        return None
    experience = Experience.objects.filter(
        hotel=hotel, pk=as_id(experience_id), is_active=True, department__is_active=True
    ).first()
    if experience is None:
        raise _field_error("experience", _("This experience is not available at this hotel."), "unavailable")
    if department_id is not None and experience.department_id != department_id:
        raise _field_error("experience", _("This experience belongs to another department."), "other_department")
    return experience


def service_request_create_for_guest(
    *,
    actor: User,
    hotel: Hotel,
    description: str,
    stay_id: int | None = None,
    phone: str | None = None,
    department_id: int | None = None,
    experience_id: int | None = None,
    priority: str = RequestPriority.NORMAL,
    photo: PreparedImage | None = None,
) -> ServiceRequest:
    """Staff create a request on a guest's behalf, found by stay id or by phone; the guest's active
    stay at this hotel is required either way."""
    stays = GuestStay.objects.filter(hotel=hotel, status=StayStatus.ACTIVE)
    if stay_id is not None:
        stay, field = stays.filter(pk=as_id(stay_id)).first(), "stay"
    elif phone:
        stay, field = stays.filter(guest__phone_number=phone).first(), "phone"
    else:
        raise _field_error("stay", _("Give the guest's stay or phone number."), "required")
    if stay is None:
        raise _field_error(field, _("This guest has no active stay at this hotel."), "no_active_stay")
    return service_request_create(
        actor=actor,
        stay=stay,
        description=description,
        created_via=CreatedVia.STAFF,
        department_id=department_id,
        experience_id=experience_id,
        priority=priority,
        photo=photo,
    )


# --- The lifecycle --------------------------------------------------------------------------

Apply = Callable[[ServiceRequest, datetime], Iterable[str]]


def _no_fields(request: ServiceRequest, now: datetime) -> Iterable[str]:
    return ()


def _transition(
    *,
    action: str,
    actor: User | None,
    request: ServiceRequest,
    apply: Apply = _no_fields,
    note: str = "",
    repeats: Callable[[ServiceRequest], bool] = lambda locked: True,
) -> ServiceRequest:
    """Move `request` by `action` under a row lock, or refuse without writing anything.

    Already in the action's target state: nothing changes when `repeats(locked)` says the call
    carries nothing new (a retry), and a new reason or time is refused, since it would come
    without a change of status.
    """
    transition = TRANSITIONS[action]
    with transaction.atomic():
        locked = ServiceRequest.objects.select_for_update().filter(pk=request.pk).first()
        if locked is None:
            raise NotFound()
        if locked.status == transition.target:
            if not repeats(locked):
                raise ReasonWithoutChange(status=locked.status)
            return locked
        if locked.status not in transition.sources:
            raise IllegalTransition(
                action=action, status=locked.status, allowed=allowed_actions(locked.status, party_of(action))
            )
        now = timezone.now()
        from_status = locked.status
        locked.status = transition.target
        fields = ["status", "updated_at", *apply(locked, now)]
        if locked.status in FINAL_STATUSES:
            locked.closed_at = now
            fields.append("closed_at")
        locked.updated_at = now
        locked.save(update_fields=fields)
        activity = RequestActivity.objects.create(
            hotel_id=locked.hotel_id,
            request=locked,
            actor=actor,
            action=action,
            from_status=from_status,
            to_status=locked.status,
            note=note,
            at=now,
        )
        publish_request_event(REQUEST_UPDATED, locked, activity)
    return locked


def service_request_acknowledge(*, actor: User, request: ServiceRequest) -> ServiceRequest:
    def apply(locked: ServiceRequest, now: datetime) -> Iterable[str]:
        locked.acknowledged_at = now
        locked.acknowledged_by = actor
        return ("acknowledged_at", "acknowledged_by")

    return _transition(action=RequestAction.ACKNOWLEDGE, actor=actor, request=request, apply=apply)


def service_request_confirm(
    *, actor: User, request: ServiceRequest, reason: str = "", scheduled_for: datetime | None = None
) -> ServiceRequest:
    """Confirm, optionally saying why or when (e.g. "table for two at 20:00")."""
    text = _clean_text(reason, field="reason", maximum=MAX_REASON_LENGTH, required=False)

    def apply(locked: ServiceRequest, now: datetime) -> Iterable[str]:
        locked.confirmed_at = now
        locked.confirmation_reason = text
        locked.scheduled_for = scheduled_for
        return ("confirmed_at", "confirmation_reason", "scheduled_for")

    def repeats(locked: ServiceRequest) -> bool:
        return (not text or text == locked.confirmation_reason) and (
            scheduled_for is None or scheduled_for == locked.scheduled_for
        )

    return _transition(
        action=RequestAction.CONFIRM, actor=actor, request=request, apply=apply, note=text, repeats=repeats
    )


def service_request_decline(*, actor: User, request: ServiceRequest, reason: str) -> ServiceRequest:
    text = _clean_text(reason, field="reason", maximum=MAX_REASON_LENGTH, required=True)

    def apply(locked: ServiceRequest, now: datetime) -> Iterable[str]:
        locked.declined_reason = text
        return ("declined_reason",)

    return _transition(
        action=RequestAction.DECLINE,
        actor=actor,
        request=request,
        apply=apply,
        note=text,
        repeats=lambda locked: text == locked.declined_reason,
    )


def service_request_start(*, actor: User, request: ServiceRequest) -> ServiceRequest:
    def apply(locked: ServiceRequest, now: datetime) -> Iterable[str]:
        locked.started_at = now
        return ("started_at",)

    return _transition(action=RequestAction.START, actor=actor, request=request, apply=apply)


def service_request_complete(*, actor: User, request: ServiceRequest) -> ServiceRequest:
    def apply(locked: ServiceRequest, now: datetime) -> Iterable[str]:
        locked.completed_at = now
        return ("completed_at",)

    return _transition(action=RequestAction.COMPLETE, actor=actor, request=request, apply=apply)


def service_request_cancel_by_guest(*, actor: User, request: ServiceRequest, reason: str = "") -> ServiceRequest:
    """The guest withdraws their own request while nobody has started on it (NEW/ACKNOWLEDGED)."""
    text = _clean_text(reason, field="reason", maximum=MAX_REASON_LENGTH, required=False)
    if request.stay.guest_id != actor.pk:
        raise NotFound()

    def apply(locked: ServiceRequest, now: datetime) -> Iterable[str]:
        locked.cancellation_reason = text
        return ("cancellation_reason",)

    return _transition(
        action=RequestAction.CANCEL,
        actor=actor,
        request=request,
        apply=apply,
        note=text,
        repeats=lambda locked: not text or text == locked.cancellation_reason,
    )


def service_request_expire(*, request: ServiceRequest, reason: str = "") -> ServiceRequest:
    """The expiry job's transition (no actor): the stay ended, or nobody acknowledged in time."""
    text = _clean_text(reason, field="reason", maximum=MAX_NOTE_LENGTH, required=False)
    return _transition(action=RequestAction.EXPIRE, actor=None, request=request, note=text)


def service_request_add_note(*, actor: User, request: ServiceRequest, note: str) -> RequestActivity:
    """An internal staff note: an activity without a status change, never shown to the guest."""
    text = _clean_text(note, field="note", maximum=MAX_NOTE_LENGTH, required=True)
    with transaction.atomic():
        # Locked so the note records the status it was written under, in order with transitions.
        locked = ServiceRequest.objects.select_for_update().filter(pk=request.pk).first()
        if locked is None:
            raise NotFound()
        activity = RequestActivity.objects.create(
            hotel_id=locked.hotel_id,
            request=locked,
            actor=actor,
            action=RequestAction.NOTE,
            from_status=locked.status,
            to_status=locked.status,
            note=text,
            is_internal=True,
        )
        publish_request_event(REQUEST_NOTE, locked, activity)
    return activity
