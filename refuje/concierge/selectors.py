"""Reads: department hours for the SLA calculator, and service requests for staff and guests.

Lists cost a fixed number of queries whatever they hold (joins for single-valued relations,
one prefetch per many-valued one).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import time

from django.db.models import Prefetch, QuerySet

from refuje.accounts.models import User
from refuje.hotels.models import Department, HotelMembership, Role, role_rank

from . import hours
from .models import (
    DepartmentPolicy,
    EscalationContact,
    HoursOverride,
    RequestActivity,
    ServiceRequest,
    WorkingWindow,
)

# --- Department hours -----------------------------------------------------------------------


def window_from_json(value: dict[str, object]) -> hours.Window:
    return hours.Window(
        int(str(value["weekday"])), time.fromisoformat(str(value["start"])), time.fromisoformat(str(value["end"]))
    )


def window_to_json(window: hours.Window) -> dict[str, object]:
    return {"weekday": window.weekday, "start": window.start.isoformat(), "end": window.end.isoformat()}


def override_from_row(row: HoursOverride) -> hours.Override:
    return hours.Override(
        start_date=row.start_date,
        end_date=row.end_date,
        closed=row.closed,
        windows=None if row.closed else tuple(window_from_json(item) for item in row.windows),
    )


@dataclass
class PolicyView:
    """A department's whole service policy as stored, with defaults where nothing is."""

    department: Department
    policy: DepartmentPolicy
    windows: list[WorkingWindow] = field(default_factory=list)
    overrides: list[HoursOverride] = field(default_factory=list)
    contacts: list[EscalationContact] = field(default_factory=list)

    @property
    def configured(self) -> bool:
        return not self.policy._state.adding

    def escalation(self, level: int) -> list[int]:
        return [contact.membership_id for contact in self.contacts if contact.level == level]

    @property
    def hours(self) -> hours.DepartmentHours:
        return hours.DepartmentHours(
            timezone=self.department.hotel.timezone,
            windows=tuple(hours.Window(row.weekday, row.start, row.end) for row in self.windows),
            overrides=tuple(override_from_row(row) for row in self.overrides),
            sla_minutes=self.policy.sla_minutes,
            after_hours_sla_minutes=self.policy.after_hours_sla_minutes,
        )


def department_policies(departments: Iterable[Department], *, contacts: bool = False) -> dict[int, PolicyView]:
    """Policies of many departments in three queries (four with escalation contacts).

    Each department's `hotel` must already be loaded (select_related) for the time zone.
    """
    items = list(departments)
    ids = [department.pk for department in items]
    policies = {policy.department_id: policy for policy in DepartmentPolicy.objects.filter(department_id__in=ids)}
    windows: dict[int, list[WorkingWindow]] = defaultdict(list)
    for window in WorkingWindow.objects.filter(department_id__in=ids).order_by("weekday", "start", "id"):
        windows[window.department_id].append(window)
    overrides: dict[int, list[HoursOverride]] = defaultdict(list)
    for override in HoursOverride.objects.filter(department_id__in=ids).order_by("start_date", "id"):
        overrides[override.department_id].append(override)
    contact_rows: dict[int, list[EscalationContact]] = defaultdict(list)
    if contacts:
        for contact in EscalationContact.objects.filter(policy_id__in=ids).order_by("level", "membership_id"):
            contact_rows[contact.policy_id].append(contact)
    return {
        department.pk: PolicyView(
            department=department,
            policy=policies.get(department.pk) or DepartmentPolicy(department=department),
            windows=windows[department.pk],
            overrides=overrides[department.pk],
            contacts=contact_rows[department.pk],
        )
        for department in items
    }


def department_hours_for(departments: Iterable[Department]) -> dict[int, hours.DepartmentHours]:
    """`hours.DepartmentHours` of many departments at once (three queries), keyed by department id."""
    return {pk: view.hours for pk, view in department_policies(departments).items()}


def department_hours(department: Department) -> hours.DepartmentHours:
    return department_hours_for([department])[department.pk]


def department_policy(department: Department) -> PolicyView:
    return department_policies([department], contacts=True)[department.pk]


# --- Service requests -----------------------------------------------------------------------


def _with_relations(requests: QuerySet[ServiceRequest]) -> QuerySet[ServiceRequest]:
    return requests.select_related("hotel", "stay", "stay__guest", "department", "experience", "acknowledged_by")


def requests_visible_to(membership: HotelMembership) -> QuerySet[ServiceRequest]:
    """The hotel's requests a member may see: ADMIN and above all of them; below ADMIN (STAFF, VIEWER)
    only those of the departments their membership lists."""
    requests = ServiceRequest.objects.filter(hotel_id=membership.hotel_id)
    if role_rank(membership.role) >= role_rank(Role.ADMIN):
        return requests
    mine = Department.objects.filter(memberships=membership).values("pk")
    return requests.filter(department_id__in=mine)


def service_request_list_for_staff(*, membership: HotelMembership) -> QuerySet[ServiceRequest]:
    return _with_relations(requests_visible_to(membership)).order_by("-created_at", "-id")


def service_request_list_for_guest(
    *, guest: User, hotel_slug: str = "", status: str | None = None
) -> QuerySet[ServiceRequest]:
    requests = _with_relations(ServiceRequest.objects.filter(stay__guest=guest))
    if hotel_slug:
        requests = requests.filter(hotel__slug=hotel_slug)
    if status:
        requests = requests.filter(status=status)
    return requests.order_by("-created_at", "-id")


def with_timeline(requests: QuerySet[ServiceRequest], *, include_internal: bool) -> QuerySet[ServiceRequest]:
    activities = RequestActivity.objects.select_related("actor").order_by("id")
    if not include_internal:
        activities = activities.filter(is_internal=False)
    return _with_relations(requests).prefetch_related(Prefetch("activities", queryset=activities))


def service_request_detail(*, request: ServiceRequest, include_internal: bool) -> ServiceRequest:
    """The request with its relations and timeline loaded, fresh from the database."""
    return with_timeline(ServiceRequest.objects.filter(pk=request.pk), include_internal=include_internal).get()
