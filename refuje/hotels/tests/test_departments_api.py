import pytest

from refuje.common.testing.factories import DepartmentFactory, HotelFactory, MembershipFactory
from refuje.common.testing.tenancy import browser_client
from refuje.compliance.models import AuditEvent
from refuje.hotels.models import Department, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return MembershipFactory.create(role=Role.ADMIN)


@pytest.fixture
def hotel(admin):
    return admin.hotel


@pytest.fixture
def client(admin):
    return browser_client(admin.user)


def url(hotel, department=None):
    base = f"/api/v1/hotels/{hotel.slug}/departments/"
    return f"{base}{department.pk}/" if department is not None else base


def test_create_with_both_names_and_an_audit_event(client, hotel, admin):
    response = client.post(url(hotel), {"name_ar": "السبا", "name_en": "Spa", "display_order": 3}, format="json")

    assert response.status_code == 201, response.content
    department = Department.objects.get(hotel=hotel)
    assert (department.name_ar, department.name_en, department.display_order, department.is_active) == (
        "السبا",
        "Spa",
        3,
        True,
    )
    event = AuditEvent.objects.get(action="department.create")
    after = event.after or {}
    assert (event.actor, event.hotel, after["name_en"]) == (admin.user, hotel, "Spa")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name_en": "Spa"}, "name_ar"),
        ({"name_ar": "السبا"}, "name_en"),
        ({"name_ar": "  ", "name_en": "Spa"}, "name_ar"),
        ({"name_ar": "السبا", "name_en": "x" * 121}, "name_en"),
        ({"name_ar": "السبا", "name_en": "Spa", "display_order": -1}, "display_order"),
        ({"name_ar": "السبا", "name_en": "Spa", "display_order": 40000}, "display_order"),
    ],
)
def test_create_names_the_missing_or_bad_field(client, hotel, payload, field):
    response = client.post(url(hotel), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Department.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name_ar": "جديد", "name_en": "spa"}, "name_en"),
        ({"name_ar": "السبا", "name_en": "Wellness"}, "name_ar"),
    ],
)
def test_names_are_unique_per_hotel_ignoring_case(client, hotel, payload, field):
    DepartmentFactory.create(hotel=hotel, name_ar="السبا", name_en="Spa")

    response = client.post(url(hotel), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert Department.objects.filter(hotel=hotel).count() == 1


def test_the_same_name_is_fine_in_another_hotel(client, hotel):
    DepartmentFactory.create(hotel=HotelFactory.create(), name_ar="السبا", name_en="Spa")

    assert client.post(url(hotel), {"name_ar": "السبا", "name_en": "Spa"}, format="json").status_code == 201


def test_renaming_onto_another_departments_name_is_refused(client, hotel):
    DepartmentFactory.create(hotel=hotel, name_en="Spa")
    pool = DepartmentFactory.create(hotel=hotel, name_en="Pool")

    response = client.patch(url(hotel, pool), {"name_en": "SPA"}, format="json")

    assert response.status_code == 400
    assert "name_en" in response.json()
    pool.refresh_from_db()
    assert pool.name_en == "Pool"


def test_patch_changes_fields_keeps_own_name_and_audits(client, hotel):
    pool = DepartmentFactory.create(hotel=hotel, name_en="Pool", display_order=1)

    response = client.patch(url(hotel, pool), {"name_en": "Pool", "display_order": 9}, format="json")

    assert response.status_code == 200, response.content
    pool.refresh_from_db()
    assert pool.display_order == 9
    event = AuditEvent.objects.get(action="department.update")
    assert (event.before, event.after) == ({"display_order": 1}, {"display_order": 9})


def test_list_is_ordered_and_filterable_and_readable_by_viewers(hotel):
    late = DepartmentFactory.create(hotel=hotel, display_order=5)
    early = DepartmentFactory.create(hotel=hotel, display_order=1)
    closed = DepartmentFactory.create(hotel=hotel, display_order=3, is_active=False)
    viewer = browser_client(MembershipFactory.create(hotel=hotel, role=Role.VIEWER).user)

    everything = viewer.get(url(hotel)).json()["results"]
    active = viewer.get(url(hotel) + "?is_active=true").json()["results"]

    assert [d["id"] for d in everything] == [early.pk, closed.pk, late.pk]
    assert [d["id"] for d in active] == [early.pk, late.pk]


def test_deleting_an_unused_department_removes_it(client, hotel):
    unused = DepartmentFactory.create(hotel=hotel)

    response = client.delete(url(hotel, unused))

    assert response.status_code == 204
    assert not Department.objects.filter(pk=unused.pk).exists()
    assert AuditEvent.objects.get(action="department.delete").target_id == str(unused.pk)


def test_deleting_a_department_that_staff_are_assigned_to_deactivates_it(client, hotel):
    spa = DepartmentFactory.create(hotel=hotel)
    staff = MembershipFactory.create(hotel=hotel, role=Role.STAFF)
    staff.departments.add(spa)

    response = client.delete(url(hotel, spa))

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    spa.refresh_from_db()
    assert spa.is_active is False
    assert list(staff.departments.all()) == [spa]
    assert AuditEvent.objects.filter(action="department.deactivate").count() == 1
    # Deleting it again is a no-op, not a second audit event.
    assert client.delete(url(hotel, spa)).status_code == 200
    assert AuditEvent.objects.filter(action="department.deactivate").count() == 1


def test_a_removed_members_assignment_still_keeps_the_department(client, hotel):
    spa = DepartmentFactory.create(hotel=hotel)
    MembershipFactory.create(hotel=hotel, role=Role.STAFF, is_active=False).departments.add(spa)

    assert client.delete(url(hotel, spa)).status_code == 200
    assert Department.objects.filter(pk=spa.pk).exists()
