from __future__ import annotations

from dataclasses import dataclass

import pytest

from refuje.common.testing.concierge_factories import GuestStayFactory, ServiceRequestFactory
from refuje.common.testing.factories import DepartmentFactory, GuestFactory, HotelFactory, MembershipFactory
from refuje.common.testing.tenancy import BrowserClient, browser_client, tenant_world
from refuje.concierge.models import ServiceRequest
from refuje.hotels.models import Department, Hotel, HotelMembership, Role
from refuje.stays.models import GuestStay

__all__ = ["media_root", "scene", "tenant_world"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploads land in a directory of their own, so a test can see every file that was stored."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    settings.MEDIA_URL = "/media/"
    return root


def stored_files(root):
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


@dataclass
class Scene:
    """One hotel: two departments, an admin, a viewer, a staff member of the first department, and
    a guest with an active stay."""

    hotel: Hotel
    department: Department
    other_department: Department
    admin: HotelMembership
    staff: HotelMembership
    viewer: HotelMembership
    stay: GuestStay

    @property
    def guest(self):
        return self.stay.guest

    def client(self, user) -> BrowserClient:
        return browser_client(user)

    def request(self, **kwargs) -> ServiceRequest:
        kwargs.setdefault("department", self.department)
        return ServiceRequestFactory.create(hotel=self.hotel, stay=kwargs.pop("stay", self.stay), **kwargs)

    @property
    def staff_url(self) -> str:
        return f"/api/v1/hotels/{self.hotel.slug}/requests/"


def build_scene(**hotel_fields) -> Scene:
    hotel = HotelFactory.create(**hotel_fields)
    department = DepartmentFactory.create(hotel=hotel, name_en="Housekeeping")
    other_department = DepartmentFactory.create(hotel=hotel, name_en="Maintenance")
    staff = MembershipFactory.create(hotel=hotel, role=Role.STAFF)
    staff.departments.add(department)
    return Scene(
        hotel=hotel,
        department=department,
        other_department=other_department,
        admin=MembershipFactory.create(hotel=hotel, role=Role.ADMIN),
        staff=staff,
        viewer=MembershipFactory.create(hotel=hotel, role=Role.VIEWER),
        stay=GuestStayFactory.create(hotel=hotel, guest=GuestFactory.create(), room="1204"),
    )


@pytest.fixture
def scene(db) -> Scene:
    return build_scene()
