from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from refuje.common.testing.concierge_factories import GuestStayFactory, ServiceRequestFactory
from refuje.common.testing.factories import DepartmentFactory, GuestFactory, HotelFactory, MembershipFactory
from refuje.common.testing.tenancy import tenant_world
from refuje.concierge.models import ServiceRequest
from refuje.hotels.models import Department, Hotel, HotelMembership, Role
from refuje.providers.fakes.gupshup import FakeGupshup
from refuje.stays.models import GuestStay

__all__ = ["eager_celery", "scene", "tenant_world"]


def template_id_for(kind: str, language: str) -> str:
    """The Gupshup template id our settings give a kind in a language, in these tests."""
    return f"tpl-{kind}-{language}"


@pytest.fixture(autouse=True)
def eager_celery() -> Iterator[None]:
    """Tasks enqueued after commit run at once in the test, never through a broker."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = before


@pytest.fixture
def console_providers(settings):
    settings.NOTIFICATION_PROVIDER = "console"
    settings.NOTIFICATION_WHATSAPP_TEMPLATES = {}


@pytest.fixture
def gupshup(settings, fake_gupshup: FakeGupshup, fake_authentica) -> FakeGupshup:
    """WhatsApp through the fake Gupshup (templates for every kind), SMS through fake Authentica."""
    from refuje.notifications.kinds import KINDS

    settings.NOTIFICATION_PROVIDER = "gupshup"
    templates = {}
    for name, kind in KINDS.items():
        templates[name] = {"ar": template_id_for(name, "ar"), "en": template_id_for(name, "en")}
        for template_id in templates[name].values():
            fake_gupshup.add_template(template_id, len(kind.whatsapp_params))
    settings.NOTIFICATION_WHATSAPP_TEMPLATES = templates
    return fake_gupshup


@pytest.fixture
def authentica_only(settings, fake_authentica):
    """No WhatsApp channel: notifications go out by SMS through the fake Authentica."""
    settings.NOTIFICATION_PROVIDER = "authentica"
    settings.NOTIFICATION_WHATSAPP_TEMPLATES = {}
    return fake_authentica


@dataclass
class Scene:
    hotel: Hotel
    department: Department
    other_department: Department
    staff: HotelMembership  # works in `department`, English
    staff_ar: HotelMembership  # works in `department`, Arabic
    other_staff: HotelMembership  # works in `other_department` only
    admin: HotelMembership
    stay: GuestStay

    @property
    def guest(self):
        return self.stay.guest

    def request(self, **kwargs) -> ServiceRequest:
        kwargs.setdefault("department", self.department)
        return ServiceRequestFactory.create(hotel=self.hotel, stay=kwargs.pop("stay", self.stay), **kwargs)


def build_scene(*, guest_language: str = "ar", **hotel_fields) -> Scene:
    hotel = HotelFactory.create(name_en="Grand Hotel", name_ar="الفندق الكبير", **hotel_fields)
    department = DepartmentFactory.create(hotel=hotel, name_en="Housekeeping", name_ar="التدبير المنزلي")
    other_department = DepartmentFactory.create(hotel=hotel, name_en="Maintenance", name_ar="الصيانة")
    staff = MembershipFactory.create(hotel=hotel, role=Role.STAFF, user__preferred_language="en")
    staff.departments.add(department)
    staff_ar = MembershipFactory.create(hotel=hotel, role=Role.STAFF, user__preferred_language="ar")
    staff_ar.departments.add(department)
    other_staff = MembershipFactory.create(hotel=hotel, role=Role.STAFF)
    other_staff.departments.add(other_department)
    guest = GuestFactory.create(preferred_language=guest_language)
    return Scene(
        hotel=hotel,
        department=department,
        other_department=other_department,
        staff=staff,
        staff_ar=staff_ar,
        other_staff=other_staff,
        admin=MembershipFactory.create(hotel=hotel, role=Role.ADMIN, user__preferred_language="en"),
        stay=GuestStayFactory.create(hotel=hotel, guest=guest, room="1204"),
    )


@pytest.fixture
def scene(db) -> Scene:
    return build_scene()
