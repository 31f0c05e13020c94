"""Reads for the hotels API: each list is one query for its rows plus a fixed number of prefetches."""

from __future__ import annotations

from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from refuje.accounts.models import User

from .models import Department, Hotel, HotelMembership, Role


def hotel_list_for(*, user: User) -> QuerySet[Hotel]:
    """Hotels the user works in, each annotated with `my_role`; platform operators see every hotel."""
    mine = HotelMembership.objects.filter(hotel=OuterRef("pk"), user=user, is_active=True)
    my_role = Subquery(mine.values("role")[:1], output_field=CharField())
    if user.is_superuser:
        return Hotel.objects.annotate(my_role=Coalesce(my_role, Value(Role.SUPERADMIN.value))).order_by("slug")
    return Hotel.objects.filter(Exists(mine), is_active=True).annotate(my_role=my_role).order_by("slug")


def member_list(
    *,
    hotel: Hotel,
    role: str | None = None,
    is_active: bool | None = None,
    department_id: int | None = None,
    search: str = "",
) -> QuerySet[HotelMembership]:
    members = HotelMembership.objects.filter(hotel=hotel).select_related("user").prefetch_related("departments")
    if role:
        members = members.filter(role=role)
    if is_active is not None:
        members = members.filter(is_active=is_active)
    if department_id is not None:
        members = members.filter(departments=department_id)
    if search:
        members = members.filter(
            Q(user__phone_number__contains=search)
            | Q(user__full_name__icontains=search)
            | Q(user__email__icontains=search)
        )
    return members.order_by("id")


def department_list(*, hotel: Hotel, is_active: bool | None = None) -> QuerySet[Department]:
    departments = Department.objects.filter(hotel=hotel)
    if is_active is not None:
        departments = departments.filter(is_active=is_active)
    return departments.order_by("display_order", "id")
