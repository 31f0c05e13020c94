"""Reads: a person's inbox, and who hears about what (department staff, escalation contacts, admins)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from refuje.accounts.models import User
from refuje.hotels.models import Department, Hotel, Role

from .models import Notification, NotificationDelivery, NotificationPreference

WORKING_ROLES = (Role.STAFF, Role.ADMIN, Role.SUPERADMIN)
ADMIN_ROLES = (Role.ADMIN, Role.SUPERADMIN)


def notification_list(*, recipient: User, unread: bool | None = None) -> QuerySet[Notification]:
    notifications = (
        Notification.objects.filter(recipient=recipient)
        .select_related("hotel")
        .prefetch_related(Prefetch("deliveries", queryset=NotificationDelivery.objects.order_by("id")))
        .order_by("-created_at", "-id")
    )
    if unread is True:
        notifications = notifications.filter(read_at__isnull=True)
    elif unread is False:
        notifications = notifications.filter(read_at__isnull=False)
    return notifications


def unread_count(*, recipient: User) -> int:
    return Notification.objects.filter(recipient=recipient, read_at__isnull=True).count()


def preference_of(user: User) -> NotificationPreference:
    """The stored preferences, or the defaults (an unsaved row) when there are none."""
    found = NotificationPreference.objects.filter(user=user).first()
    return found if found is not None else NotificationPreference(user=user)


def _active_users() -> QuerySet[User]:
    return User.objects.filter(is_active=True).order_by("id")


def department_staff(department: Department) -> list[User]:
    """Active members working in the department (STAFF and above who list it)."""
    return list(
        _active_users()
        .filter(
            memberships__hotel_id=department.hotel_id,
            memberships__is_active=True,
            memberships__role__in=WORKING_ROLES,
            memberships__departments=department,
        )
        .distinct()
    )


def hotel_admins(hotel: Hotel | int) -> list[User]:
    hotel_id = hotel if isinstance(hotel, int) else hotel.pk
    return list(
        _active_users()
        .filter(memberships__hotel_id=hotel_id, memberships__is_active=True, memberships__role__in=ADMIN_ROLES)
        .distinct()
    )


def escalation_contacts(department: Department, level: int) -> list[User]:
    """The department policy's contacts for `level` (active members of its hotel only)."""
    return list(
        _active_users()
        .filter(
            memberships__escalation_duties__policy__department=department,
            memberships__escalation_duties__level=level,
            memberships__is_active=True,
            memberships__hotel_id=department.hotel_id,
        )
        .distinct()
    )


def request_staff(department: Department) -> list[User]:
    """Who hears about a department's new requests: its staff, or the hotel's admins if it has none."""
    return department_staff(department) or hotel_admins(department.hotel_id)


def escalation_recipients(department: Department, level: int) -> list[User]:
    """Level 1: the level-1 contacts, or the department's staff when none are set. Level 2: the
    level-2 contacts and every hotel admin."""
    if level <= 1:
        return escalation_contacts(department, 1) or request_staff(department)
    found = {user.pk: user for user in escalation_contacts(department, level)}
    for user in hotel_admins(department.hotel_id):
        found.setdefault(user.pk, user)
    return list(found.values())
