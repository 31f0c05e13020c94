import itertools
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import models

from refuje.accounts.models import User
from refuje.bookings.models import ExperienceBookingPolicy, StaffScheduleInterval
from refuje.compliance.models import AuditEvent
from refuje.concierge import services as concierge
from refuje.concierge.lifecycle import TRANSITIONS
from refuje.concierge.models import (
    CreatedVia,
    DepartmentPolicy,
    EscalationContact,
    RequestAction,
    RequestActivity,
    RequestStatus,
    ServiceRequest,
    WorkingWindow,
)
from refuje.experiences.models import Experience
from refuje.hotels.models import Department, Hotel, HotelMembership, Role
from refuje.qrcodes.models import QRCode, QRTargetType
from refuje.stays.models import GuestStay, StayStatus

OPERATOR = "+966555000000"


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def snapshot():
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (
            User,
            Hotel,
            Department,
            HotelMembership,
            HotelMembership.departments.through,
            DepartmentPolicy,
            WorkingWindow,
            EscalationContact,
            Experience,
            QRCode,
            GuestStay,
            ServiceRequest,
            RequestActivity,
            AuditEvent,
            StaffScheduleInterval,
            ExperienceBookingPolicy,
        )
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
        "Concierge",
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


# --- The lived-in hotel ---------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_demo_adds_a_room_qr_code_and_three_priced_experiences(settings, client):
    settings.DEBUG = True

    summary = json.loads(seed("--json"))

    code = QRCode.objects.get(hotel__slug="demo")
    assert code.target_type == QRTargetType.ROOM
    assert code.room_number == "1204"
    assert code.is_active
    assert summary["qr_code"]["token"] == code.token
    resolved = client.get(summary["qr_code"]["public_path"])
    assert resolved.status_code == 200
    assert resolved.json()["target"]["room_number"] == "1204"

    experiences = {e.title_en: e for e in Experience.objects.filter(hotel__slug="demo").select_related("department")}
    assert set(experiences) == {"Spa massage", "Desert tour", "Personal training"}
    for experience in experiences.values():
        assert experience.title_ar
        assert experience.description_ar
        assert experience.description_en
        assert experience.currency == "SAR"
        assert experience.is_active
    assert {title: e.price_minor for title, e in experiences.items()} == {
        "Spa massage": 35000,
        "Desert tour": 45000,
        "Personal training": 20000,
    }
    assert experiences["Spa massage"].department.name_en == "Spa"


@pytest.mark.django_db
def test_every_department_gets_working_windows_one_of_them_past_midnight(settings):
    settings.DEBUG = True

    seed()

    departments = Department.objects.filter(hotel__slug="demo")
    for department in departments:
        policy = DepartmentPolicy.objects.get(department=department)
        assert policy.sla_minutes < policy.after_hours_sla_minutes
        windows = WorkingWindow.objects.filter(department=department)
        assert sorted(window.weekday for window in windows) == list(range(7))
        assert EscalationContact.objects.filter(policy=policy, level=1).exists()
        assert EscalationContact.objects.filter(policy=policy, level=2).exists()
    overnight = WorkingWindow.objects.filter(department__hotel__slug="demo", end__lte=models.F("start"))
    assert set(overnight.values_list("department__name_en", flat=True)) == {"Room service"}


@pytest.mark.django_db
def test_two_guests_have_active_stays(settings):
    settings.DEBUG = True

    summary = json.loads(seed("--json"))

    stays = GuestStay.objects.filter(hotel__slug="demo", status=StayStatus.ACTIVE).select_related("guest")
    assert {(stay.guest.phone_number, stay.room) for stay in stays} == {
        ("+966555000010", "1204"),
        ("+966555000011", "1507"),
    }
    assert all(stay.guest.user_type == "GUEST" for stay in stays)
    assert all(stay.check_out > stay.check_in for stay in stays)
    assert [(guest["phone"], guest["room"]) for guest in summary["guests"]] == [
        ("+966555000010", "1204"),
        ("+966555000011", "1507"),
    ]


@pytest.mark.django_db
def test_requests_in_every_state_were_moved_there_by_the_lifecycle(settings):
    settings.DEBUG = True

    summary = json.loads(seed("--json"))

    requests = ServiceRequest.objects.filter(hotel__slug="demo").select_related("stay")
    assert sorted(request.status for request in requests) == sorted(RequestStatus.values)
    assert summary["requests"] == dict.fromkeys(RequestStatus.values, 1)
    for request in requests:
        activities = list(RequestActivity.objects.filter(request=request).order_by("id"))
        assert activities[0].action == RequestAction.CREATE
        changes = [a for a in activities if a.action != RequestAction.NOTE]
        # Each change starts where the one before ended, by an action the transition table allows.
        for before, after in itertools.pairwise(changes):
            assert after.from_status == before.to_status
            assert after.from_status in TRANSITIONS[after.action].sources
            assert after.to_status == TRANSITIONS[after.action].target
        assert changes[-1].to_status == request.status
    by_status = {request.status: request for request in requests}
    confirmed_experience = by_status[RequestStatus.CONFIRMED].experience
    assert confirmed_experience is not None
    assert confirmed_experience.title_en == "Spa massage"
    assert by_status[RequestStatus.CONFIRMED].scheduled_for is not None
    assert by_status[RequestStatus.DECLINED].declined_reason
    assert by_status[RequestStatus.COMPLETED].completed_at is not None
    assert by_status[RequestStatus.ACKNOWLEDGED].created_via == CreatedVia.STAFF
    cancelled = by_status[RequestStatus.CANCELLED]
    assert RequestActivity.objects.get(request=cancelled, action=RequestAction.CANCEL).actor == cancelled.stay.guest
    assert (
        RequestActivity.objects.get(request=by_status[RequestStatus.EXPIRED], action=RequestAction.EXPIRE).actor is None
    )
    assert RequestActivity.objects.filter(request__hotel__slug="demo", action=RequestAction.NOTE, is_internal=True)


@pytest.mark.django_db
def test_a_second_run_leaves_requests_people_moved_and_policies_they_changed_alone(settings):
    settings.DEBUG = True
    seed()
    waiting = ServiceRequest.objects.get(hotel__slug="demo", status=RequestStatus.NEW)
    admin = User.objects.get(phone_number="+966555000002")
    concierge.service_request_acknowledge(actor=admin, request=waiting)
    DepartmentPolicy.objects.filter(department__name_en="Spa").update(sla_minutes=5)
    requests_before = ServiceRequest.objects.count()

    summary = json.loads(seed("--json"))

    assert summary["created"] == []
    assert ServiceRequest.objects.count() == requests_before
    waiting.refresh_from_db()
    assert waiting.status == RequestStatus.ACKNOWLEDGED
    assert DepartmentPolicy.objects.get(department__name_en="Spa").sla_minutes == 5


@pytest.mark.django_db
def test_the_spa_therapist_can_be_booked_for_the_spa_massage_but_nobody_for_the_desert_tour(settings, client):
    settings.DEBUG = True
    seed()
    experiences = {e.title_en: e for e in Experience.objects.filter(hotel__slug="demo")}

    def slots(title):
        response = client.get(
            f"/api/v1/public/hotels/demo/experiences/{experiences[title].pk}/availability/", HTTP_ACCEPT_LANGUAGE="en"
        )
        assert response.status_code == 200, response.content
        return response.json()

    massage = slots("Spa massage")
    assert massage["slots"], massage
    therapist = HotelMembership.objects.get(hotel__slug="demo", user__phone_number="+966555000004")
    assert {staff for slot in massage["slots"] for staff in slot["staff"]} == {therapist.pk}
    assert slots("Desert tour")["slots"] == []
