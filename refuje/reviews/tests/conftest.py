from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from itertools import count

import pytest
from django.utils import timezone

from refuje.bookings.models import Booking, BookingStatus
from refuje.common.testing.booking_factories import BookingFactory
from refuje.common.testing.concierge_factories import GuestStayFactory, ServiceRequestFactory
from refuje.common.testing.factories import DepartmentFactory, GuestFactory, HotelFactory, MembershipFactory
from refuje.common.testing.tenancy import BrowserClient, browser_client, tenant_world
from refuje.concierge.models import RequestStatus, ServiceRequest
from refuje.experiences.models import Experience
from refuje.experiences.tests.factories import ExperienceFactory
from refuje.hotels.models import Department, Hotel, HotelMembership, Role
from refuje.stays.models import GuestStay

__all__ = ["scene", "tenant_world"]

_slots = count()


@dataclass
class Scene:
    """One hotel with a spa experience and a therapist, an admin, a viewer, and a guest with a stay."""

    hotel: Hotel
    department: Department
    experience: Experience
    therapist: HotelMembership
    admin: HotelMembership
    viewer: HotelMembership
    stay: GuestStay

    @property
    def guest(self):
        return self.stay.guest

    def client(self, user=None) -> BrowserClient:
        return browser_client(user)

    def request(self, *, status=RequestStatus.COMPLETED, experience=None, stay=None, **kwargs) -> ServiceRequest:
        stay = stay or self.stay
        if status == RequestStatus.COMPLETED:
            kwargs.setdefault("completed_at", timezone.now())
        return ServiceRequestFactory.create(
            hotel=self.hotel, stay=stay, department=self.department, experience=experience, status=status, **kwargs
        )

    def booking(self, *, status=BookingStatus.COMPLETED, customer=None, staff=None, experience=None) -> Booking:
        # Distinct times: several bookings of one staff member never overlap.
        start = timezone.now().replace(microsecond=0) - timedelta(days=30) + timedelta(hours=2 * next(_slots))
        return BookingFactory.create(
            hotel=self.hotel,
            experience=experience or self.experience,
            staff=staff or self.therapist,
            customer=customer or self.guest,
            status=status,
            start=start,
        )

    def another_guest(self):
        return GuestStayFactory.create(hotel=self.hotel, guest=GuestFactory.create()).guest


def build_scene() -> Scene:
    hotel = HotelFactory.create()
    department = DepartmentFactory.create(hotel=hotel, name_en="Spa")
    return Scene(
        hotel=hotel,
        department=department,
        experience=ExperienceFactory.create(hotel=hotel, department=department, title_en="Hammam"),
        therapist=MembershipFactory.create(hotel=hotel, role=Role.STAFF),
        admin=MembershipFactory.create(hotel=hotel, role=Role.ADMIN),
        viewer=MembershipFactory.create(hotel=hotel, role=Role.VIEWER),
        stay=GuestStayFactory.create(hotel=hotel, guest=GuestFactory.create(full_name="Sara Al-Harbi"), room="1204"),
    )


@pytest.fixture
def scene(db) -> Scene:
    return build_scene()
