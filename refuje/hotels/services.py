"""Hotel, membership and department writes: validation, row locks and the audit trail.

Authorisation of *who may act in this hotel* happens in the access helpers; the membership
services re-check the actor's role on locked rows, because role rules (who may grant what, the
last super admin) depend on state that another request may be changing at the same moment.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Value
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions

from refuje.accounts.models import User, UserType
from refuje.accounts.phone import normalize_phone
from refuje.common.errors import Conflict, NotFound
from refuje.compliance.services import audit_record

from .access import PlatformOperatorRequired, RoleTooLow
from .models import Department, Hotel, HotelMembership, Role, role_rank

PRIVILEGED_ROLES = frozenset({Role.ADMIN, Role.SUPERADMIN})
HOTEL_EDITABLE_FIELDS = (
    "name_ar",
    "name_en",
    "timezone",
    "currency",
    "primary_color",
    "contact_phone",
    "contact_email",
    "address_ar",
    "address_en",
)
DEPARTMENT_EDITABLE_FIELDS = ("name_ar", "name_en", "is_active", "display_order")

ALREADY_MEMBER = _("This person is already a member of this hotel.")
EMAIL_TAKEN = _("This e-mail address belongs to another account.")
PHONE_RACE = _("This phone number was registered at the same moment. Please try again.")
NAME_TAKEN = _("This hotel already has a department with this name.")


class LastSuperadmin(Conflict):
    default_detail = _("This is the hotel's last active super admin. Make another member a super admin first.")
    default_code = "last_superadmin"


@dataclass(frozen=True)
class Invitee:
    """Who is being added to a hotel: identified by phone; e-mail and name fill gaps only."""

    phone: str
    email: str | None = None
    full_name: str = ""


# --- Hotels ---------------------------------------------------------------------------------


def hotel_state(hotel: Hotel) -> dict[str, Any]:
    return {"slug": hotel.slug, **{field: getattr(hotel, field) for field in HOTEL_EDITABLE_FIELDS}}


def hotel_create(
    *,
    actor: User,
    slug: str,
    name_ar: str,
    name_en: str,
    timezone: str = "Asia/Riyadh",
    currency: str = "SAR",
    primary_color: str = "#0F766E",
    contact_phone: str = "",
    contact_email: str = "",
    address_ar: str = "",
    address_en: str = "",
    first_superadmin: Invitee | None = None,
    ip: str | None = None,
) -> Hotel:
    if not actor.is_superuser:
        raise PlatformOperatorRequired()
    hotel = Hotel(
        slug=slug,
        name_ar=name_ar,
        name_en=name_en,
        timezone=timezone,
        currency=currency,
        primary_color=primary_color,
        contact_phone=contact_phone,
        contact_email=contact_email,
        address_ar=address_ar,
        address_en=address_en,
    )
    hotel.full_clean()
    with transaction.atomic():
        try:
            hotel.save(force_insert=True)
        except IntegrityError as exc:
            # Another operator created the same slug between our check and the insert.
            raise ValidationError({"slug": _("A hotel with this slug already exists.")}) from exc
        audit_record(actor=actor, action="hotel.create", target=hotel, hotel=hotel, ip=ip, after=hotel_state(hotel))
        if first_superadmin is not None:
            try:
                _member_add(
                    actor=actor, hotel=hotel, invitee=first_superadmin, role=Role.SUPERADMIN, departments=[], ip=ip
                )
            except ValidationError as exc:
                raise exceptions.ValidationError({"first_superadmin": exc.message_dict}) from exc
    return hotel


def hotel_update(*, actor: User, hotel: Hotel, data: Mapping[str, Any], ip: str | None = None) -> Hotel:
    # QR codes already printed and links already shared carry the slug.
    if "slug" in data and data["slug"] != hotel.slug:
        raise ValidationError({"slug": _("The slug cannot be changed: printed QR codes and links use it.")})
    unknown = set(data) - set(HOTEL_EDITABLE_FIELDS) - {"slug"}
    if unknown:
        raise TypeError(f"hotel_update cannot change {sorted(unknown)}")
    with transaction.atomic():
        locked = Hotel.objects.select_for_update().get(pk=hotel.pk)
        before = hotel_state(locked)
        changed = [field for field in HOTEL_EDITABLE_FIELDS if field in data and data[field] != before[field]]
        if not changed:
            return locked
        for field in changed:
            setattr(locked, field, data[field])
        locked.full_clean()
        locked.save(update_fields=changed)
        audit_record(
            actor=actor,
            action="hotel.update",
            target=locked,
            hotel=locked,
            ip=ip,
            before={field: before[field] for field in changed},
            after={field: getattr(locked, field) for field in changed},
        )
    return locked


# --- Memberships ----------------------------------------------------------------------------


def membership_state(membership: HotelMembership) -> dict[str, Any]:
    return {
        "user_id": membership.user_id,
        "phone_number": membership.user.phone_number,
        "role": membership.role,
        "is_active": membership.is_active,
        "departments": sorted(membership.departments.values_list("pk", flat=True)),
    }


@dataclass
class _LockedRoles:
    hotel: Hotel
    actor_role: str
    rows: dict[int, HotelMembership]

    def active_superadmins(self) -> list[HotelMembership]:
        return [m for m in self.rows.values() if m.role == Role.SUPERADMIN and m.is_active]


def _lock_roles(actor: User, hotel: Hotel, *, target_id: int | None, superadmins: bool) -> _LockedRoles:
    """Lock the actor's and target's memberships (and the hotel's super admins) and re-read roles.

    One statement in primary-key order, so two role changes in one hotel always lock in the same
    order and queue behind each other instead of deadlocking. PostgreSQL re-checks the filter on
    rows another transaction changed while we waited, so a super admin demoted a moment ago is no
    longer counted. NO KEY UPDATE because only non-key columns change: rows that merely reference
    a membership (department links) are not blocked by it.
    """
    actor_membership_id: int | None = None
    if not actor.is_superuser:
        actor_membership_id = (
            HotelMembership.objects.filter(user=actor, hotel=hotel).values_list("pk", flat=True).first()
        )
        if actor_membership_id is None:
            raise NotFound()
    condition = Q(pk__in=[pk for pk in (target_id, actor_membership_id) if pk is not None])
    if superadmins:
        condition |= Q(role=Role.SUPERADMIN, is_active=True)
    rows = {
        m.pk: m
        for m in HotelMembership.objects.select_for_update(no_key=True).filter(condition, hotel=hotel).order_by("pk")
    }
    if actor.is_superuser:
        actor_role: str = Role.SUPERADMIN
    else:
        mine = rows.get(actor_membership_id) if actor_membership_id is not None else None
        if mine is None or not mine.is_active:
            raise NotFound()
        actor_role = mine.role
    if role_rank(actor_role) < role_rank(Role.ADMIN):
        raise RoleTooLow()
    return _LockedRoles(hotel=hotel, actor_role=actor_role, rows=rows)


def _check_grant(actor_role: str, *, current_role: str | None, new_role: str | None) -> None:
    if new_role is not None and role_rank(new_role) > role_rank(actor_role):
        raise RoleTooLow(_("You cannot grant a role above your own."))
    if actor_role == Role.SUPERADMIN:
        return
    if current_role in PRIVILEGED_ROLES:
        raise RoleTooLow(_("Only a super admin can change the membership of an admin or super admin."))
    if new_role in PRIVILEGED_ROLES:
        raise RoleTooLow(_("Only a super admin can grant the admin or super admin role."))


def _hotel_departments(hotel: Hotel, ids: Collection[int]) -> list[Department]:
    wanted = set(ids)
    if not wanted:
        return []
    found = list(Department.objects.filter(hotel=hotel, pk__in=wanted))
    missing = wanted - {d.pk for d in found}
    if missing:
        # Unknown and other hotels' ids read the same: nothing about other tenants leaks.
        raise ValidationError(
            {
                "departments": ValidationError(
                    _("These departments are not part of this hotel: %(ids)s."),
                    params={"ids": ", ".join(str(pk) for pk in sorted(missing))},
                    code="foreign_department",
                )
            }
        )
    return found


def _invitee_errors(exc: ValidationError) -> ValidationError:
    """User-model errors, renamed to the invite's fields (phone_number → phone, constraint → email)."""
    renamed: dict[str, list[str]] = {}
    for field, messages in exc.message_dict.items():
        key = {"phone_number": "phone", NON_FIELD_ERRORS: "email"}.get(field, field)
        renamed.setdefault(key, []).extend(messages)
    return ValidationError(renamed)


def _violated_constraint(exc: IntegrityError) -> str:
    """The constraint a unique violation names (PostgreSQL reports it; other databases: the text)."""
    diag = getattr(exc.__cause__, "diag", None)
    return str(getattr(diag, "constraint_name", None) or exc)


def _integrity_error(exc: IntegrityError) -> ValidationError:
    """Second defence: a unique index decided a race that our checks could not see coming."""
    constraint = _violated_constraint(exc)
    if "hotels_membership_unique_user_hotel" in constraint:
        return ValidationError({"phone": ALREADY_MEMBER})
    if "email" in constraint:
        return ValidationError({"email": EMAIL_TAKEN})
    return ValidationError({"phone": PHONE_RACE})


def _invitee_user(invitee: Invitee) -> tuple[User, dict[str, Any]]:
    """The staff account for `invitee`: created, promoted from guest, or reused as it is."""
    try:
        phone = normalize_phone(invitee.phone)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages}) from exc
    email = (invitee.email or "").strip().lower() or None
    full_name = invitee.full_name.strip()

    # NO KEY UPDATE: serialises invites of one person, yet lets other transactions that merely
    # reference the user (their deferred foreign-key checks take KEY SHARE at commit) finish.
    user = User.objects.select_for_update(no_key=True).filter(phone_number=phone).first()
    if email:
        owners = User.objects.filter(email__iexact=email)
        if user is not None:
            owners = owners.exclude(pk=user.pk)
        if owners.exists():
            raise ValidationError({"email": EMAIL_TAKEN})
    if user is None:
        try:
            created = User.objects.create_user(
                phone, email=email, full_name=full_name, user_type=UserType.STAFF
            )  # no password: unusable, staff sign in by OTP until they set one
        except ValidationError as exc:
            raise _invitee_errors(exc) from exc
        return created, {"user_created": True}
    if not user.is_active:
        raise ValidationError({"phone": _("This account is disabled. A platform operator must enable it first.")})

    backfilled: list[str] = []
    promoted = user.user_type != UserType.STAFF
    if promoted:
        user.user_type = UserType.STAFF
    # Fill gaps only: an admin of one hotel must not rewrite someone's identity.
    if email and not user.email:
        user.email = email
        backfilled.append("email")
    if full_name and not user.full_name:
        user.full_name = full_name
        backfilled.append("full_name")
    if promoted or backfilled:
        user.save(update_fields=["user_type", *backfilled])
    return user, {"user_promoted": promoted, "user_backfilled": backfilled}


def _member_add(
    *, actor: User, hotel: Hotel, invitee: Invitee, role: str, departments: list[Department], ip: str | None
) -> HotelMembership:
    try:
        user, user_changes = _invitee_user(invitee)
        membership = HotelMembership.objects.select_for_update(no_key=True).filter(user=user, hotel=hotel).first()
        if membership is not None and membership.is_active:
            raise ValidationError({"phone": ALREADY_MEMBER})
        # A removed member is re-invited by reactivating their row (one row per user and hotel).
        before = membership_state(membership) if membership is not None else None
        if membership is None:
            membership = HotelMembership(user=user, hotel=hotel)
        membership.role = role
        membership.is_active = True
        membership.save()
    except IntegrityError as exc:
        raise _integrity_error(exc) from exc
    membership.departments.set(departments)
    audit_record(
        actor=actor,
        action="member.reactivate" if before is not None else "member.invite",
        target=membership,
        hotel=hotel,
        ip=ip,
        before=before,
        after={**membership_state(membership), **user_changes},
    )
    return membership


def member_invite(
    *,
    actor: User,
    hotel: Hotel,
    invitee: Invitee,
    role: str = Role.STAFF,
    department_ids: Collection[int] = (),
    ip: str | None = None,
) -> HotelMembership:
    with transaction.atomic():
        locked = _lock_roles(actor, hotel, target_id=None, superadmins=False)
        _check_grant(locked.actor_role, current_role=None, new_role=role)
        departments = _hotel_departments(hotel, department_ids)
        return _member_add(actor=actor, hotel=hotel, invitee=invitee, role=role, departments=departments, ip=ip)


def _member_change(
    *,
    actor: User,
    membership: HotelMembership,
    role: str | None,
    department_ids: Collection[int] | None,
    is_active: bool | None,
    action: str,
    ip: str | None,
) -> HotelMembership:
    hotel = membership.hotel
    with transaction.atomic():
        locked = _lock_roles(actor, hotel, target_id=membership.pk, superadmins=True)
        target = locked.rows.get(membership.pk)
        if target is None:
            raise NotFound()
        target.user = membership.user
        new_role = role if role is not None and role != target.role else None
        _check_grant(locked.actor_role, current_role=target.role, new_role=new_role)
        leaves_superadmin = target.role == Role.SUPERADMIN and (new_role is not None or is_active is False)
        if leaves_superadmin and target.is_active and len(locked.active_superadmins()) <= 1:
            raise LastSuperadmin()
        departments = _hotel_departments(hotel, department_ids) if department_ids is not None else None

        before = membership_state(target)
        fields: list[str] = []
        if new_role is not None:
            target.role = new_role
            fields.append("role")
        if is_active is not None and is_active != target.is_active:
            target.is_active = is_active
            fields.append("is_active")
        if fields:
            target.save(update_fields=fields)
        if departments is not None and sorted(d.pk for d in departments) != before["departments"]:
            target.departments.set(departments)
        after = membership_state(target)
        if after != before:
            audit_record(actor=actor, action=action, target=target, hotel=hotel, ip=ip, before=before, after=after)
    return target


def member_update(
    *,
    actor: User,
    membership: HotelMembership,
    role: str | None = None,
    department_ids: Collection[int] | None = None,
    is_active: bool | None = None,
    ip: str | None = None,
) -> HotelMembership:
    return _member_change(
        actor=actor,
        membership=membership,
        role=role,
        department_ids=department_ids,
        is_active=is_active,
        action="member.update",
        ip=ip,
    )


def member_deactivate(*, actor: User, membership: HotelMembership, ip: str | None = None) -> HotelMembership:
    """Remove someone from one hotel. The row stays (audit trail, activity history, re-invite);
    their account, sessions and other hotels are untouched: access here ends because every
    hotel-scoped fetch requires an active membership.
    """
    return _member_change(
        actor=actor,
        membership=membership,
        role=None,
        department_ids=None,
        is_active=False,
        action="member.deactivate",
        ip=ip,
    )


# --- Departments ----------------------------------------------------------------------------


def department_state(department: Department) -> dict[str, Any]:
    return {field: getattr(department, field) for field in DEPARTMENT_EDITABLE_FIELDS}


def _check_department_names(department: Department) -> None:
    errors: dict[str, Any] = {}
    for field in ("name_ar", "name_en"):
        clashes = (
            Department.objects.filter(hotel_id=department.hotel_id)
            .alias(folded=Lower(field))
            .filter(folded=Lower(Value(getattr(department, field))))
        )
        if department.pk is not None:
            clashes = clashes.exclude(pk=department.pk)
        if clashes.exists():
            errors[field] = NAME_TAKEN
    if errors:
        raise ValidationError(errors)


def _department_name_race(exc: IntegrityError) -> ValidationError:
    return ValidationError({"name_ar" if "name_ar" in _violated_constraint(exc) else "name_en": NAME_TAKEN})


def department_create(
    *,
    actor: User,
    hotel: Hotel,
    name_ar: str,
    name_en: str,
    is_active: bool = True,
    display_order: int = 0,
    ip: str | None = None,
) -> Department:
    department = Department(
        hotel=hotel, name_ar=name_ar, name_en=name_en, is_active=is_active, display_order=display_order
    )
    with transaction.atomic():
        _check_department_names(department)
        # Name uniqueness was checked above with field-level messages; the index settles races.
        department.full_clean(validate_constraints=False)
        try:
            department.save(force_insert=True)
        except IntegrityError as exc:
            raise _department_name_race(exc) from exc
        audit_record(
            actor=actor,
            action="department.create",
            target=department,
            hotel=hotel,
            ip=ip,
            after=department_state(department),
        )
    return department


def department_update(
    *, actor: User, department: Department, data: Mapping[str, Any], ip: str | None = None
) -> Department:
    unknown = set(data) - set(DEPARTMENT_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"department_update cannot change {sorted(unknown)}")
    with transaction.atomic():
        locked = Department.objects.select_for_update(of=("self",)).select_related("hotel").get(pk=department.pk)
        before = department_state(locked)
        changed = [field for field in DEPARTMENT_EDITABLE_FIELDS if field in data and data[field] != before[field]]
        if not changed:
            return locked
        for field in changed:
            setattr(locked, field, data[field])
        _check_department_names(locked)
        locked.full_clean(validate_constraints=False)
        try:
            with transaction.atomic():
                locked.save(update_fields=changed)
        except IntegrityError as exc:
            raise _department_name_race(exc) from exc
        audit_record(
            actor=actor,
            action="department.update",
            target=locked,
            hotel=locked.hotel,
            ip=ip,
            before={field: before[field] for field in changed},
            after={field: getattr(locked, field) for field in changed},
        )
    return locked


def department_in_use(department: Department) -> bool:
    """Does any row (memberships, requests, experiences, QR codes) point at it?

    Asked of every reverse relation Django knows, so models added later are covered without
    touching this function. Rows that are the department's own settings (its hours and service
    policy, marked `DELETED_WITH_DEPARTMENT`) are not history: they go with it.
    """
    for relation in Department._meta.related_objects:
        related = relation.related_model
        if getattr(related, "DELETED_WITH_DEPARTMENT", False):
            continue
        if related._base_manager.filter(**{relation.field.name: department}).exists():
            return True
    return False


def department_delete(*, actor: User, department: Department, ip: str | None = None) -> Department | None:
    """Delete an unused department; deactivate one that anything refers to.

    Deleting a referenced department would cascade into (or be blocked by) requests, experiences
    and staff scopes, and history must keep its department. A row that starts referencing it while
    we decide either is committed before our lock and seen by the check, or waits for our lock in
    its deferred foreign-key check and then fails: nothing is ever deleted along with it.
    Returns the deactivated department, or None when it was deleted.
    """
    with transaction.atomic():
        locked = (
            Department.objects.select_for_update(of=("self",)).select_related("hotel").filter(pk=department.pk).first()
        )
        if locked is None:
            return None
        before = department_state(locked)
        if department_in_use(locked):
            if locked.is_active:
                locked.is_active = False
                locked.save(update_fields=["is_active"])
                audit_record(
                    actor=actor,
                    action="department.deactivate",
                    target=locked,
                    hotel=locked.hotel,
                    ip=ip,
                    before={"is_active": True},
                    after={"is_active": False},
                )
            return locked
        audit_record(actor=actor, action="department.delete", target=locked, hotel=locked.hotel, ip=ip, before=before)
        locked.delete()
    return None
