"""Tenancy by construction: every hotel-scoped fetch in an interface goes through here.

"Does not exist" and "not yours" raise the same NotFound, so ids of other hotels leak nothing.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from refuje.accounts.models import User
from refuje.common.errors import ApiError, NotFound

from .models import Department, Hotel, HotelMembership, Role


class RoleTooLow(ApiError):
    status_code = 403
    default_detail = _("Your role in this hotel does not allow this action.")
    default_code = "role_too_low"


class PlatformOperatorRequired(ApiError):
    status_code = 403
    default_detail = _("Only a platform operator can do this.")
    default_code = "platform_operator_required"


def access_platform_operator(actor: User) -> User:
    """The actor, if they operate the platform (Django superuser); 403 for everyone else signed in."""
    if not actor.is_authenticated or not actor.is_active:
        raise NotFound()
    if not actor.is_superuser:
        raise PlatformOperatorRequired()
    return actor


def memberships_of(user: User) -> QuerySet[HotelMembership]:
    return HotelMembership.objects.filter(user=user, is_active=True, hotel__is_active=True)


def access_membership(actor: User, hotel_slug: str, *, minimum: str = Role.VIEWER) -> HotelMembership:
    """The actor's membership in `hotel_slug` with at least `minimum` role.

    Platform operators act as SUPERADMIN everywhere (an unsaved membership stands for that).
    Not a member → 404 (the hotel's existence is not confirmed); member with a lower role → 403.
    """
    if not actor.is_authenticated or not actor.is_active:
        raise NotFound()
    if actor.is_superuser:
        hotel = Hotel.objects.filter(slug=hotel_slug).first()
        if hotel is None:
            raise NotFound()
        return HotelMembership(user=actor, hotel=hotel, role=Role.SUPERADMIN)
    membership = memberships_of(actor).select_related("hotel").filter(hotel__slug=hotel_slug).first()
    if membership is None:
        raise NotFound()
    if not membership.has_role(minimum):
        raise RoleTooLow()
    return membership


def access_hotel(actor: User, hotel_slug: str, *, minimum: str = Role.VIEWER) -> Hotel:
    return access_membership(actor, hotel_slug, minimum=minimum).hotel


def access_department(actor: User, hotel_slug: str, department_id: object, *, minimum: str = Role.VIEWER) -> Department:
    hotel = access_hotel(actor, hotel_slug, minimum=minimum)
    department = Department.objects.filter(hotel=hotel, pk=_as_int(department_id)).first()
    if department is None:
        raise NotFound()
    return department


def access_member(actor: User, hotel_slug: str, membership_id: object, *, minimum: str = Role.ADMIN) -> HotelMembership:
    hotel = access_hotel(actor, hotel_slug, minimum=minimum)
    member = (
        HotelMembership.objects.select_related("user", "hotel").filter(hotel=hotel, pk=_as_int(membership_id)).first()
    )
    if member is None:
        raise NotFound()
    return member


def _as_int(value: object) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return -1
