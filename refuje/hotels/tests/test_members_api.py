import pytest

from refuje.accounts.models import User
from refuje.common.testing.factories import (
    DepartmentFactory,
    GuestFactory,
    HotelFactory,
    MembershipFactory,
    UserFactory,
)
from refuje.common.testing.tenancy import browser_client
from refuje.compliance.models import AuditEvent
from refuje.hotels.models import HotelMembership, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def hotel():
    return HotelFactory.create()


@pytest.fixture
def admin(hotel):
    return MembershipFactory.create(hotel=hotel, role=Role.ADMIN)


@pytest.fixture
def superadmin(hotel):
    return MembershipFactory.create(hotel=hotel, role=Role.SUPERADMIN)


def members_url(hotel, member=None):
    base = f"/api/v1/hotels/{hotel.slug}/members/"
    return f"{base}{member.pk}/" if member is not None else base


def invite(actor, hotel, **payload):
    return browser_client(actor.user if isinstance(actor, HotelMembership) else actor).post(
        members_url(hotel), payload, format="json"
    )


def patch(actor, member, **payload):
    return browser_client(actor.user).patch(members_url(member.hotel, member), payload, format="json")


# --- Invite ---------------------------------------------------------------------------------


def test_inviting_a_new_phone_creates_a_staff_account_without_a_usable_password(admin, hotel):
    spa = DepartmentFactory.create(hotel=hotel)

    response = invite(
        admin, hotel, phone="055 123 4567", email="Nour@Example.com", full_name="Nour", departments=[spa.pk]
    )

    assert response.status_code == 201, response.content
    user = User.objects.get(phone_number="+966551234567")
    assert (user.user_type, user.email, user.full_name) == ("STAFF", "nour@example.com", "Nour")
    assert not user.has_usable_password()
    membership = HotelMembership.objects.get(user=user, hotel=hotel)
    assert (membership.role, list(membership.departments.all())) == (Role.STAFF, [spa])
    assert response.json()["user"]["phone_number"] == "+966551234567"
    assert response.json()["departments"] == [spa.pk]
    event = AuditEvent.objects.get(action="member.invite")
    after = event.after or {}
    assert event.before is None
    assert after["role"] == "STAFF"
    assert after["departments"] == [spa.pk]
    assert after["user_created"] is True
    assert (event.actor, event.hotel, event.target_id) == (admin.user, hotel, str(membership.pk))


@pytest.mark.parametrize("phone", ["", "12", "not-a-phone", "+999123"])
def test_invite_rejects_a_bad_phone_naming_the_field(admin, hotel, phone):
    response = invite(admin, hotel, phone=phone)

    assert response.status_code == 400
    assert "phone" in response.json()
    assert HotelMembership.objects.filter(hotel=hotel).count() == 1


def test_inviting_a_guest_promotes_them_and_fills_in_missing_details(admin, hotel):
    guest = GuestFactory.create(phone_number="+966551234567", email=None, full_name="")

    response = invite(admin, hotel, phone="0551234567", email="guest@example.com", full_name="Sara")

    assert response.status_code == 201, response.content
    guest.refresh_from_db()
    assert (guest.user_type, guest.email, guest.full_name) == ("STAFF", "guest@example.com", "Sara")
    assert User.objects.filter(phone_number="+966551234567").count() == 1
    event = AuditEvent.objects.get(action="member.invite")
    after = event.after or {}
    assert after["user_promoted"] is True
    assert after["user_backfilled"] == ["email", "full_name"]


def test_inviting_never_overwrites_an_existing_email_or_name(admin, hotel):
    guest = GuestFactory.create(phone_number="+966551234567", email="own@example.com", full_name="Own Name")

    response = invite(admin, hotel, phone="0551234567", email="other@example.com", full_name="Other")

    assert response.status_code == 201, response.content
    guest.refresh_from_db()
    assert (guest.user_type, guest.email, guest.full_name) == ("STAFF", "own@example.com", "Own Name")


def test_inviting_staff_of_another_hotel_only_adds_a_membership(admin, hotel):
    elsewhere = MembershipFactory.create(role=Role.ADMIN, user=UserFactory.create(email="staff@example.com"))
    user = elsewhere.user
    password_before = user.password

    response = invite(admin, hotel, phone=user.phone_number, role="VIEWER")

    assert response.status_code == 201, response.content
    user.refresh_from_db()
    assert (user.user_type, user.email, user.password) == ("STAFF", "staff@example.com", password_before)
    assert set(user.memberships.values_list("hotel_id", "role")) == {
        (elsewhere.hotel_id, Role.ADMIN),
        (hotel.pk, Role.VIEWER),
    }


@pytest.mark.parametrize("email", ["taken@example.com", "TAKEN@Example.com"])
def test_inviting_with_another_accounts_email_is_a_field_error(admin, hotel, email):
    UserFactory.create(email="taken@example.com")
    users_before = User.objects.count()

    response = invite(admin, hotel, phone="0551234567", email=email)

    assert response.status_code == 400
    assert "email" in response.json()
    assert User.objects.count() == users_before
    assert not AuditEvent.objects.exists()


def test_inviting_an_existing_guest_with_another_accounts_email_is_refused(admin, hotel):
    UserFactory.create(email="taken@example.com")
    guest = GuestFactory.create(phone_number="+966551234567", email=None)

    response = invite(admin, hotel, phone="0551234567", email="taken@example.com")

    assert response.status_code == 400
    assert "email" in response.json()
    guest.refresh_from_db()
    assert (guest.user_type, guest.email) == ("GUEST", None)


def test_inviting_a_current_member_again_is_a_field_error(admin, hotel):
    member = MembershipFactory.create(hotel=hotel, role=Role.STAFF)

    response = invite(admin, hotel, phone=member.user.phone_number, role="VIEWER")

    assert response.status_code == 400
    assert "phone" in response.json()
    member.refresh_from_db()
    assert member.role == Role.STAFF


def test_inviting_a_removed_member_reactivates_the_same_membership(admin, hotel):
    member = MembershipFactory.create(hotel=hotel, role=Role.STAFF, is_active=False)

    response = invite(admin, hotel, phone=member.user.phone_number, role="VIEWER")

    assert response.status_code == 201, response.content
    assert response.json()["id"] == member.pk
    member.refresh_from_db()
    assert (member.is_active, member.role) == (True, Role.VIEWER)
    event = AuditEvent.objects.get(action="member.reactivate")
    before, after = event.before or {}, event.after or {}
    assert (before["is_active"], after["is_active"]) == (False, True)


def test_inviting_a_disabled_account_is_refused(admin, hotel):
    UserFactory.create(phone_number="+966551234567", is_active=False)

    response = invite(admin, hotel, phone="0551234567")

    assert response.status_code == 400
    assert "phone" in response.json()
    assert not HotelMembership.objects.filter(user__phone_number="+966551234567").exists()


def test_departments_of_another_hotel_are_refused_on_invite_and_update(admin, hotel):
    foreign = DepartmentFactory.create()
    own = DepartmentFactory.create(hotel=hotel)
    member = MembershipFactory.create(hotel=hotel, role=Role.STAFF)
    member.departments.add(own)

    invited = invite(admin, hotel, phone="0551234567", departments=[own.pk, foreign.pk])
    updated = patch(admin, member, departments=[foreign.pk])

    assert invited.status_code == 400
    assert "departments" in invited.json()
    assert not User.objects.filter(phone_number="+966551234567").exists()
    assert updated.status_code == 400
    assert "departments" in updated.json()
    assert list(member.departments.all()) == [own]


# --- Role rules -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["ADMIN", "SUPERADMIN"])
def test_admin_cannot_grant_admin_roles(admin, hotel, role):
    response = invite(admin, hotel, phone="0551234567", role=role)

    assert response.status_code == 403
    assert response.json()["code"] == "role_too_low"
    assert not User.objects.filter(phone_number="+966551234567").exists()


@pytest.mark.parametrize("role", ["VIEWER", "STAFF"])
def test_admin_can_invite_viewers_and_staff(admin, hotel, role):
    assert invite(admin, hotel, phone="0551234567", role=role).status_code == 201


@pytest.mark.parametrize("role", ["ADMIN", "SUPERADMIN"])
def test_superadmin_and_operator_can_grant_admin_roles(superadmin, hotel, role):
    operator = UserFactory.create(is_superuser=True)

    assert invite(superadmin, hotel, phone="0551234567", role=role).status_code == 201
    assert invite(operator, hotel, phone="0551234568", role=role).status_code == 201


def test_admin_cannot_promote_staff_to_admin(admin, hotel):
    member = MembershipFactory.create(hotel=hotel, role=Role.STAFF)

    response = patch(admin, member, role="ADMIN")

    assert response.status_code == 403
    member.refresh_from_db()
    assert member.role == Role.STAFF


def test_admin_cannot_edit_or_remove_an_admin_or_superadmin(admin, hotel, superadmin):
    other_admin = MembershipFactory.create(hotel=hotel, role=Role.ADMIN)
    client = browser_client(admin.user)

    for target in (other_admin, superadmin, admin):
        assert patch(admin, target, departments=[]).status_code == 403
        assert patch(admin, target, role="STAFF").status_code == 403
        assert client.delete(members_url(hotel, target)).status_code == 403
        target.refresh_from_db()
        assert target.is_active
    assert not AuditEvent.objects.exists()


def test_admin_manages_staff_roles_and_departments_with_an_audit_trail(admin, hotel):
    member = MembershipFactory.create(hotel=hotel, role=Role.STAFF)
    spa, pool = DepartmentFactory.create(hotel=hotel), DepartmentFactory.create(hotel=hotel)
    member.departments.add(spa)

    response = patch(admin, member, role="VIEWER", departments=[pool.pk])

    assert response.status_code == 200, response.content
    member.refresh_from_db()
    assert (member.role, list(member.departments.all())) == (Role.VIEWER, [pool])
    event = AuditEvent.objects.get(action="member.update")
    before, after = event.before or {}, event.after or {}
    assert (before["role"], after["role"]) == ("STAFF", "VIEWER")
    assert (before["departments"], after["departments"]) == ([spa.pk], [pool.pk])


def test_superadmin_promotes_staff_to_admin(superadmin, hotel):
    member = MembershipFactory.create(hotel=hotel, role=Role.STAFF)

    assert patch(superadmin, member, role="ADMIN").status_code == 200
    member.refresh_from_db()
    assert member.role == Role.ADMIN


def test_an_unchanged_patch_writes_no_audit_event(admin, hotel):
    member = MembershipFactory.create(hotel=hotel, role=Role.STAFF)

    assert patch(admin, member, role="STAFF").status_code == 200
    assert not AuditEvent.objects.exists()


# --- Last super admin ----------------------------------------------------------------------


@pytest.mark.parametrize("change", [{"role": "ADMIN"}, {"role": "VIEWER"}, {"is_active": False}])
def test_the_last_superadmin_cannot_be_demoted_or_deactivated(superadmin, change):
    operator = UserFactory.create(is_superuser=True)

    for actor in (superadmin.user, operator):
        response = browser_client(actor).patch(members_url(superadmin.hotel, superadmin), change, format="json")
        assert response.status_code == 409
        assert response.json()["code"] == "last_superadmin"
    superadmin.refresh_from_db()
    assert (superadmin.role, superadmin.is_active) == (Role.SUPERADMIN, True)


def test_the_last_superadmin_cannot_be_removed(superadmin):
    response = browser_client(superadmin.user).delete(members_url(superadmin.hotel, superadmin))

    assert response.status_code == 409
    assert response.json()["code"] == "last_superadmin"
    superadmin.refresh_from_db()
    assert superadmin.is_active


def test_one_of_two_superadmins_may_step_down_but_not_the_last(superadmin, hotel):
    second = MembershipFactory.create(hotel=hotel, role=Role.SUPERADMIN)
    MembershipFactory.create(hotel=hotel, role=Role.SUPERADMIN, is_active=False)  # a removed one does not count

    assert patch(superadmin, superadmin, role="ADMIN").status_code == 200
    response = patch(second, second, role="ADMIN")

    assert response.status_code == 409
    second.refresh_from_db()
    assert second.role == Role.SUPERADMIN


def test_other_hotels_superadmins_do_not_count(superadmin):
    MembershipFactory.create(role=Role.SUPERADMIN)  # another hotel

    assert patch(superadmin, superadmin, role="ADMIN").status_code == 409


# --- Remove ---------------------------------------------------------------------------------


def test_removing_a_member_deactivates_only_that_membership(admin, hotel):
    member = MembershipFactory.create(hotel=hotel, role=Role.STAFF)
    elsewhere = MembershipFactory.create(user=member.user, role=Role.STAFF)
    member_client = browser_client(member.user)
    assert member_client.get(f"/api/v1/hotels/{hotel.slug}/").status_code == 200

    response = browser_client(admin.user).delete(members_url(hotel, member))

    assert response.status_code == 204
    member.refresh_from_db()
    member.user.refresh_from_db()
    assert member.is_active is False
    assert member.user.is_active is True
    # The same signed-in session loses this hotel but keeps the other one.
    assert member_client.get(f"/api/v1/hotels/{hotel.slug}/").status_code == 404
    assert member_client.get(f"/api/v1/hotels/{elsewhere.hotel.slug}/").status_code == 200
    event = AuditEvent.objects.get(action="member.deactivate")
    before, after = event.before or {}, event.after or {}
    assert (before["is_active"], after["is_active"]) == (True, False)


def test_removing_twice_is_harmless(admin, hotel):
    member = MembershipFactory.create(hotel=hotel, role=Role.STAFF)
    client = browser_client(admin.user)

    assert client.delete(members_url(hotel, member)).status_code == 204
    assert client.delete(members_url(hotel, member)).status_code == 204
    assert AuditEvent.objects.filter(action="member.deactivate").count() == 1


# --- List -----------------------------------------------------------------------------------


def test_members_list_filters(admin, hotel):
    spa = DepartmentFactory.create(hotel=hotel)
    staff = MembershipFactory.create(hotel=hotel, role=Role.STAFF, user=UserFactory.create(full_name="Layla Staff"))
    staff.departments.add(spa)
    gone = MembershipFactory.create(hotel=hotel, role=Role.VIEWER, is_active=False)
    client = browser_client(admin.user)

    def ids(query):
        response = client.get(members_url(hotel) + query)
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["results"]}

    assert ids("") == {admin.pk, staff.pk, gone.pk}
    assert ids("?role=STAFF") == {staff.pk}
    assert ids("?is_active=false") == {gone.pk}
    assert ids(f"?department={spa.pk}") == {staff.pk}
    assert ids("?search=layla") == {staff.pk}
    assert client.get(members_url(hotel) + "?role=KING").status_code == 400
