import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from refuje.accounts.models import User
from refuje.hotels.models import Department, Hotel, HotelMembership, Role

OPERATOR = "+966555000000"


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def snapshot():
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (User, Hotel, Department, HotelMembership, HotelMembership.departments.through)
    }


@pytest.mark.django_db
def test_seed_demo_creates_a_hotel_with_departments_staff_of_every_role_a_guest_and_an_operator(settings):
    settings.DEBUG = True

    summary = json.loads(seed("--json"))

    hotel = Hotel.objects.get(slug="demo")
    assert hotel.timezone == "Asia/Riyadh"
    assert hotel.name_ar
    assert hotel.name_en
    assert sorted(hotel.departments.values_list("name_en", flat=True)) == [
        "Housekeeping",
        "Maintenance",
        "Room service",
        "Spa",
    ]
    assert all(department.name_ar for department in hotel.departments.all())
    memberships = HotelMembership.objects.filter(hotel=hotel).select_related("user")
    assert {membership.role for membership in memberships} == set(Role.values)
    for membership in memberships:
        assert membership.user.user_type == "STAFF"
        assert not membership.user.has_usable_password()
        assert (membership.departments.count() > 0) == (membership.role == Role.STAFF)
    guest = User.objects.get(phone_number=summary["guest"]["phone"])
    assert guest.user_type == "GUEST"
    operator = User.objects.get(phone_number=OPERATOR)
    assert operator.is_superuser
    assert operator.is_staff
    assert operator.check_password(summary["operator"]["password"])
    assert {person["phone"] for person in summary["staff"]} == {m.user.phone_number for m in memberships}


@pytest.mark.django_db
def test_seed_demo_run_twice_changes_nothing(settings):
    settings.DEBUG = True
    seed()
    before = snapshot()

    second = json.loads(seed("--json"))

    assert second["created"] == []
    assert snapshot() == before
    assert "nothing changed" in seed()


@pytest.mark.django_db
def test_seed_demo_keeps_what_someone_edited_in_the_admin(settings):
    settings.DEBUG = True
    seed()
    Hotel.objects.filter(slug="demo").update(name_en="Renamed")
    Department.objects.filter(name_en="Spa").update(name_en="Spa and wellness")
    HotelMembership.objects.filter(user__phone_number="+966555000005").update(role=Role.STAFF)

    seed()

    assert Hotel.objects.get(slug="demo").name_en == "Renamed"
    assert Department.objects.filter(name_ar="السبا").get().name_en == "Spa and wellness"
    assert HotelMembership.objects.get(user__phone_number="+966555000005").role == Role.STAFF


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_without_debug(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        seed()

    assert not Hotel.objects.exists()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_seed_demo_forced_without_debug_never_creates_the_known_password_superuser(settings):
    settings.DEBUG = False

    summary = json.loads(seed("--force", "--json"))

    assert Hotel.objects.filter(slug="demo").exists()
    assert summary["operator"] is None
    assert not User.objects.filter(is_superuser=True).exists()


@pytest.mark.django_db
def test_operator_password_comes_from_demo_admin_password(settings, monkeypatch, client):
    settings.DEBUG = True
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "a-chosen-demo-secret")

    summary = json.loads(seed("--json"))

    assert summary["operator"]["password"] == "a-chosen-demo-secret"
    # The admin sign-in takes the phone in its local form.
    assert client.login(username="0555000000", password="a-chosen-demo-secret")


@pytest.mark.django_db
def test_an_explicit_demo_admin_password_replaces_an_older_one_but_the_default_does_not(settings, monkeypatch):
    settings.DEBUG = True
    seed()
    operator = User.objects.get(phone_number=OPERATOR)
    operator.set_password("changed-by-hand-123")
    operator.save()

    summary = json.loads(seed("--json"))
    assert summary["operator"]["password"] is None
    assert User.objects.get(phone_number=OPERATOR).check_password("changed-by-hand-123")

    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "set-again-456")
    summary = json.loads(seed("--json"))
    assert summary["operator"]["password"] == "set-again-456"
    assert User.objects.get(phone_number=OPERATOR).check_password("set-again-456")
