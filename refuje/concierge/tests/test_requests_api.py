"""Creating, listing and reading service requests: guests on their own stay, staff on a guest's behalf."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from refuje.common.testing.concierge_factories import GuestStayFactory, ServiceRequestFactory
from refuje.common.testing.factories import DepartmentFactory, GuestFactory, MembershipFactory
from refuje.concierge import services
from refuje.concierge.models import RequestActivity, RequestStatus, ServiceRequest
from refuje.experiences.tests.factories import ExperienceFactory
from refuje.hotels.models import Role
from refuje.stays.models import StayStatus

pytestmark = pytest.mark.django_db

GUEST_URL = "/api/v1/guest/requests/"


def create_as_guest(scene, **body):
    body.setdefault("hotel", scene.hotel.slug)
    body.setdefault("department", scene.department.pk)
    body.setdefault("description", "Two extra pillows, please")
    return scene.client(scene.guest).post(GUEST_URL, body, format="json")


# --- Guest creates --------------------------------------------------------------------------


def test_guest_creates_a_request_on_their_active_stay(scene):
    response = create_as_guest(scene, description="  Two extra pillows, please  ")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "NEW"
    assert body["description"] == "Two extra pillows, please"
    assert body["room"] == "1204"
    assert body["department"]["id"] == scene.department.pk
    assert body["can_cancel"] is True
    assert [entry["action"] for entry in body["timeline"]] == ["create"]
    assert body["timeline"][0]["by"] == "guest"
    request = ServiceRequest.objects.get(pk=body["id"])
    assert (request.stay, request.hotel, request.created_by, request.created_via) == (
        scene.stay,
        scene.hotel,
        scene.guest,
        "guest",
    )
    assert RequestActivity.objects.filter(request=request, action="create", to_status="NEW").count() == 1


def test_guest_without_an_active_stay_gets_403_no_active_stay(scene):
    scene.stay.status = StayStatus.CHECKED_OUT
    scene.stay.save()
    response = create_as_guest(scene)
    assert response.status_code == 403
    assert response.json()["code"] == "no_active_stay"
    assert not ServiceRequest.objects.exists()


def test_a_stay_at_another_hotel_does_not_count(scene):
    GuestStayFactory.create(guest=scene.guest)  # active, but elsewhere
    scene.stay.status = StayStatus.CHECKED_OUT
    scene.stay.save()
    assert create_as_guest(scene).json()["code"] == "no_active_stay"


def test_unknown_hotel_reads_like_no_stay(scene):
    response = create_as_guest(scene, hotel="no-such-hotel")
    assert response.status_code == 403
    assert response.json()["code"] == "no_active_stay"


def test_service_refuses_a_stay_that_ended_after_it_was_looked_up(scene):
    stay = scene.stay
    GuestStayFactory._meta.model.objects.filter(pk=stay.pk).update(status=StayStatus.CHECKED_OUT)
    with pytest.raises(services.NoActiveStay):
        services.service_request_create(
            actor=scene.guest, stay=stay, description="x", created_via="guest", department_id=scene.department.pk
        )


def test_guest_cannot_use_someone_elses_stay_through_the_service(scene):
    intruder = GuestFactory.create()
    with pytest.raises(services.NoActiveStay):
        services.service_request_create(
            actor=intruder, stay=scene.stay, description="x", created_via="guest", department_id=scene.department.pk
        )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"description": ""}, "description"),
        ({"description": "   "}, "description"),
        ({"description": "x" * 2001}, "description"),
        ({"department": None}, "department"),
        ({"department": "abc"}, "department"),
        ({"department": 2**70}, "department"),
        ({"hotel": ""}, "hotel"),
    ],
)
def test_bad_input_is_a_field_error(scene, body, field):
    response = create_as_guest(scene, **body)
    assert response.status_code == 400
    assert field in response.json()
    assert not ServiceRequest.objects.exists()


def test_description_of_2000_characters_is_accepted(scene):
    assert create_as_guest(scene, description="x" * 2000).status_code == 201


def test_inactive_or_foreign_department_is_refused(scene):
    inactive = DepartmentFactory.create(hotel=scene.hotel, is_active=False)
    foreign = DepartmentFactory.create()
    for department in (inactive, foreign):
        response = create_as_guest(scene, department=department.pk)
        assert response.status_code == 400
        assert "department" in response.json()
    assert not ServiceRequest.objects.exists()


def test_experience_request_takes_the_experience_department(scene):
    experience = ExperienceFactory.create(hotel=scene.hotel, department=scene.other_department)
    response = create_as_guest(scene, department=None, experience=experience.pk)
    assert response.status_code == 201, response.content
    assert response.json()["department"]["id"] == scene.other_department.pk
    assert response.json()["experience"]["id"] == experience.pk


def test_experience_must_be_active_of_this_hotel_and_match_the_department(scene):
    inactive = ExperienceFactory.create(hotel=scene.hotel, department=scene.department, is_active=False)
    foreign = ExperienceFactory.create()
    other = ExperienceFactory.create(hotel=scene.hotel, department=scene.other_department)
    for experience, department in ((inactive, None), (foreign, None), (other, scene.department.pk)):
        response = create_as_guest(scene, department=department, experience=experience.pk)
        assert response.status_code == 400
        assert "experience" in response.json()
    assert not ServiceRequest.objects.exists()


# --- Guest reads and cancels ----------------------------------------------------------------


def test_guest_lists_only_their_own_requests(scene):
    mine = scene.request()
    other_stay = GuestStayFactory.create(hotel=scene.hotel)
    scene.request(stay=other_stay)
    response = scene.client(scene.guest).get(GUEST_URL)
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [mine.pk]


def test_guest_list_filters_by_hotel_and_status(scene):
    first = scene.request(status=RequestStatus.NEW)
    scene.request(status=RequestStatus.COMPLETED)
    elsewhere = GuestStayFactory.create(guest=scene.guest)
    ServiceRequestFactory.create(hotel=elsewhere.hotel, stay=elsewhere)
    client = scene.client(scene.guest)
    assert client.get(GUEST_URL).json()["count"] == 3
    assert client.get(GUEST_URL, {"hotel": scene.hotel.slug}).json()["count"] == 2
    by_status = client.get(GUEST_URL, {"hotel": scene.hotel.slug, "status": "NEW"}).json()["results"]
    assert [item["id"] for item in by_status] == [first.pk]
    assert client.get(GUEST_URL, {"status": "BOGUS"}).status_code == 400


def test_guest_timeline_hides_internal_notes_and_staff_identity(scene):
    request = scene.request()
    services.service_request_acknowledge(actor=scene.staff.user, request=request)
    services.service_request_add_note(actor=scene.staff.user, request=request, note="Guest was rude on the phone")
    response = scene.client(scene.guest).get(f"{GUEST_URL}{request.pk}/")
    assert response.status_code == 200
    timeline = response.json()["timeline"]
    assert [(entry["action"], entry["by"]) for entry in timeline] == [("create", "guest"), ("acknowledge", "staff")]
    assert "rude" not in response.content.decode()
    assert str(scene.staff.user.phone_number) not in response.content.decode()


def test_guest_cannot_read_another_guests_request(scene):
    theirs = scene.request(stay=GuestStayFactory.create(hotel=scene.hotel))
    response = scene.client(scene.guest).get(f"{GUEST_URL}{theirs.pk}/")
    missing = scene.client(scene.guest).get(f"{GUEST_URL}999999999/")
    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()


def test_guest_cancels_a_new_request(scene):
    request = scene.request()
    response = scene.client(scene.guest).post(
        f"{GUEST_URL}{request.pk}/cancel/", {"reason": "Found them"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "CANCELLED"
    assert response.json()["can_cancel"] is False
    request.refresh_from_db()
    assert (request.status, request.cancellation_reason) == (RequestStatus.CANCELLED, "Found them")


def test_guest_cannot_cancel_work_in_progress(scene):
    request = scene.request(status=RequestStatus.IN_PROGRESS)
    response = scene.client(scene.guest).post(f"{GUEST_URL}{request.pk}/cancel/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"
    assert response.json()["allowed_actions"] == []


def test_guest_cannot_cancel_another_guests_request(scene):
    theirs = scene.request(stay=GuestStayFactory.create(hotel=scene.hotel))
    response = scene.client(scene.guest).post(f"{GUEST_URL}{theirs.pk}/cancel/", {}, format="json")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == RequestStatus.NEW


# --- Staff create on a guest's behalf -------------------------------------------------------


def test_staff_create_for_a_guest_by_stay_and_the_guest_sees_it(scene):
    response = scene.client(scene.staff.user).post(
        scene.staff_url,
        {
            "stay": scene.stay.pk,
            "department": scene.other_department.pk,
            "description": "Leaking tap",
            "priority": "high",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["created_via"], body["priority"], body["guest"]["id"]) == ("staff", "high", scene.guest.pk)
    guest_list = scene.client(scene.guest).get(GUEST_URL).json()["results"]
    assert [item["id"] for item in guest_list] == [body["id"]]
    timeline = scene.client(scene.guest).get(f"{GUEST_URL}{body['id']}/").json()["timeline"]
    assert timeline[0]["by"] == "staff"


def test_staff_create_by_phone_in_any_notation(scene):
    local = "0" + scene.guest.phone_number.removeprefix("+966")
    response = scene.client(scene.staff.user).post(
        scene.staff_url,
        {"phone": local, "department": scene.department.pk, "description": "Late checkout?"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["stay"] == scene.stay.pk


@pytest.mark.parametrize("case", ["no-stay", "ended-stay", "both", "neither", "foreign-stay", "unknown-phone"])
def test_staff_create_needs_exactly_one_active_stay_of_this_hotel(scene, case):
    ended = GuestStayFactory.create(hotel=scene.hotel, status=StayStatus.CHECKED_OUT)
    body = {"department": scene.department.pk, "description": "Towels"}
    body.update(
        {
            "no-stay": {"stay": 999_999_999},
            "ended-stay": {"stay": ended.pk},
            "both": {"stay": scene.stay.pk, "phone": scene.guest.phone_number},
            "neither": {},
            "foreign-stay": {"stay": GuestStayFactory.create().pk},
            "unknown-phone": {"phone": "+966509999999"},
        }[case]
    )
    response = scene.client(scene.staff.user).post(scene.staff_url, body, format="json")
    assert response.status_code == 400
    assert {"stay", "phone"} & set(response.json())
    assert not ServiceRequest.objects.exists()


def test_viewer_cannot_create(scene):
    response = scene.client(scene.viewer.user).post(
        scene.staff_url, {"stay": scene.stay.pk, "department": scene.department.pk, "description": "x"}, format="json"
    )
    assert response.status_code == 403


# --- Staff board ----------------------------------------------------------------------------


def ids(response):
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def test_staff_see_only_their_departments_admins_see_everything(scene):
    mine = scene.request(department=scene.department)
    theirs = scene.request(department=scene.other_department)
    assert ids(scene.client(scene.staff.user).get(scene.staff_url)) == [mine.pk]
    assert set(ids(scene.client(scene.admin.user).get(scene.staff_url))) == {mine.pk, theirs.pk}
    # A viewer with no departments sees nothing; with one, that department's requests.
    assert ids(scene.client(scene.viewer.user).get(scene.staff_url)) == []
    scene.viewer.departments.add(scene.other_department)
    assert ids(scene.client(scene.viewer.user).get(scene.staff_url)) == [theirs.pk]


def test_staff_get_the_same_404_for_another_departments_request(scene):
    theirs = scene.request(department=scene.other_department)
    client = scene.client(scene.staff.user)
    hidden = client.get(f"{scene.staff_url}{theirs.pk}/")
    missing = client.get(f"{scene.staff_url}999999999/")
    acted = client.post(f"{scene.staff_url}{theirs.pk}/transition/", {"action": "acknowledge"}, format="json")
    noted = client.post(f"{scene.staff_url}{theirs.pk}/notes/", {"note": "hi"}, format="json")
    assert hidden.status_code == missing.status_code == acted.status_code == noted.status_code == 404
    assert hidden.json() == missing.json() == acted.json() == noted.json()
    theirs.refresh_from_db()
    assert theirs.status == RequestStatus.NEW
    assert RequestActivity.objects.filter(request=theirs).count() == 1


def test_staff_detail_includes_internal_notes(scene):
    request = scene.request()
    services.service_request_add_note(actor=scene.staff.user, request=request, note="Call back at 5")
    body = scene.client(scene.staff.user).get(f"{scene.staff_url}{request.pk}/").json()
    assert [(a["action"], a["is_internal"]) for a in body["activities"]] == [("create", False), ("note", True)]


def test_viewer_reads_but_cannot_act(scene):
    scene.viewer.departments.add(scene.department)
    request = scene.request()
    client = scene.client(scene.viewer.user)
    assert client.get(f"{scene.staff_url}{request.pk}/").status_code == 200
    response = client.post(f"{scene.staff_url}{request.pk}/transition/", {"action": "acknowledge"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "role_too_low"


def test_filters(scene):
    now = timezone.now()
    new_overdue = scene.request(response_due_at=now + timedelta(minutes=1))
    ServiceRequest.objects.filter(pk=new_overdue.pk).update(
        created_at=now - timedelta(hours=2), response_due_at=now - timedelta(hours=1)
    )
    new_on_time = scene.request(response_due_at=now + timedelta(hours=1))
    escalated = scene.request(status=RequestStatus.ACKNOWLEDGED, escalation_level=1, after_hours=True)
    other = scene.request(department=scene.other_department, status=RequestStatus.COMPLETED)
    client = scene.client(scene.admin.user)
    url = scene.staff_url

    assert set(ids(client.get(url, {"status": "NEW"}))) == {new_overdue.pk, new_on_time.pk}
    assert set(ids(client.get(url + "?status=NEW&status=COMPLETED"))) == {new_overdue.pk, new_on_time.pk, other.pk}
    assert ids(client.get(url, {"department": scene.other_department.pk})) == [other.pk]
    assert ids(client.get(url, {"overdue": "true"})) == [new_overdue.pk]
    assert new_overdue.pk not in ids(client.get(url, {"overdue": "false"}))
    assert ids(client.get(url, {"escalated": "true"})) == [escalated.pk]
    assert ids(client.get(url, {"after_hours": "true"})) == [escalated.pk]
    created_after = (now - timedelta(minutes=30)).isoformat()
    assert new_overdue.pk not in ids(client.get(url, {"created_after": created_after}))
    assert ids(client.get(url, {"created_before": created_after})) == [new_overdue.pk]
    ordered = ids(client.get(url, {"ordering": "response_due_at", "status": "NEW"}))
    assert ordered == [new_overdue.pk, new_on_time.pk]


def test_search_finds_description_room_and_phone(scene):
    towels = scene.request(description="Fresh towels for the spa")
    other_stay = GuestStayFactory.create(hotel=scene.hotel, room="77")
    by_room = scene.request(stay=other_stay, description="Ice")
    client = scene.client(scene.admin.user)
    assert ids(client.get(scene.staff_url, {"search": "TOWELS"})) == [towels.pk]
    assert ids(client.get(scene.staff_url, {"search": "77"})) == [by_room.pk]
    phone_digits = other_stay.guest.phone_number[-7:]
    assert ids(client.get(scene.staff_url, {"search": phone_digits})) == [by_room.pk]


@pytest.mark.parametrize(
    "query",
    [
        {"status": "BOGUS"},
        {"department": "x"},
        {"department": "1.5"},
        {"department": str(2**70)},
        {"created_after": "yesterday"},
        {"search": "x" * 101},
        {"search": "a\x00b"},
        {"ordering": "description"},
    ],
)
def test_bad_filters_are_400(scene, query):
    response = scene.client(scene.admin.user).get(scene.staff_url, query)
    assert response.status_code == 400, response.content


def test_member_of_another_hotel_gets_404(scene):
    outsider = MembershipFactory.create(role=Role.ADMIN)
    request = scene.request()
    client = scene.client(outsider.user)
    assert client.get(scene.staff_url).status_code == 404
    assert client.get(f"/api/v1/hotels/{outsider.hotel.slug}/requests/{request.pk}/").status_code == 404
