"""factory_boy factories for stays, department service policies and service requests.

`ServiceRequestFactory` writes rows directly (any status, for tests that need a request in a given
state) together with its "create" activity; tests of the lifecycle itself go through the services.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import factory
from django.utils import timezone

from refuje.common.testing.factories import DepartmentFactory, GuestFactory, HotelFactory
from refuje.concierge.models import (
    CreatedVia,
    DepartmentPolicy,
    HoursOverride,
    RequestAction,
    RequestActivity,
    RequestStatus,
    ServiceRequest,
    WorkingWindow,
)
from refuje.hotels.models import Department
from refuje.stays.models import GuestStay, HotelConciergeSettings, StayStatus


class HotelConciergeSettingsFactory(factory.django.DjangoModelFactory[HotelConciergeSettings]):
    class Meta:
        model = HotelConciergeSettings
        django_get_or_create = ("hotel",)

    hotel = factory.SubFactory(HotelFactory)
    self_check_in_enabled = True
    self_check_in_nights = 1


class GuestStayFactory(factory.django.DjangoModelFactory[GuestStay]):
    class Meta:
        model = GuestStay

    hotel = factory.SubFactory(HotelFactory)
    guest = factory.SubFactory(GuestFactory)
    room = factory.Sequence(lambda n: str(100 + n))
    check_in = factory.LazyFunction(lambda: timezone.localdate())
    check_out = factory.LazyAttribute(lambda stay: stay.check_in + timedelta(days=3))
    status = StayStatus.ACTIVE


class DepartmentPolicyFactory(factory.django.DjangoModelFactory[DepartmentPolicy]):
    class Meta:
        model = DepartmentPolicy
        django_get_or_create = ("department",)

    department = factory.SubFactory(DepartmentFactory)
    sla_minutes = 15
    after_hours_sla_minutes = 60
    reminder_interval_minutes = 30


class WorkingWindowFactory(factory.django.DjangoModelFactory[WorkingWindow]):
    class Meta:
        model = WorkingWindow

    department = factory.SubFactory(DepartmentFactory)
    weekday = 0
    start = time(8)
    end = time(17)


class HoursOverrideFactory(factory.django.DjangoModelFactory[HoursOverride]):
    class Meta:
        model = HoursOverride

    department = factory.SubFactory(DepartmentFactory)
    start_date = factory.LazyFunction(lambda: timezone.localdate())
    end_date = factory.LazyAttribute(lambda override: override.start_date)
    closed = True
    windows: Any = factory.LazyFunction(list)


def _department_of(request: Any) -> Department:
    department: Department = DepartmentFactory.create(hotel=request.hotel)
    return department


def _log_creation(request: ServiceRequest, create: bool, extracted: Any, **kwargs: Any) -> None:
    """The "create" entry every real request has (`activity=False` leaves the log empty)."""
    if create and extracted is not False:
        RequestActivity.objects.create(
            hotel_id=request.hotel_id,
            request=request,
            actor=request.created_by,
            action=RequestAction.CREATE,
            to_status=RequestStatus.NEW,
            at=request.created_at,
        )


class ServiceRequestFactory(factory.django.DjangoModelFactory[ServiceRequest]):
    """A request at `hotel` on an active stay there; pass `department=` to put it in one."""

    class Meta:
        model = ServiceRequest
        skip_postgeneration_save = True

    hotel = factory.SubFactory(HotelFactory)
    stay = factory.LazyAttribute(lambda request: GuestStayFactory.create(hotel=request.hotel))
    department = factory.LazyAttribute(_department_of)
    description = factory.Sequence(lambda n: f"Two more towels, please ({n})")
    status = RequestStatus.NEW
    response_due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=15))
    created_via = CreatedVia.GUEST
    created_by = factory.SelfAttribute("stay.guest")
    declined_reason = factory.LazyAttribute(
        lambda request: "Not available" if request.status == RequestStatus.DECLINED else ""
    )

    activity = factory.PostGeneration(_log_creation)
