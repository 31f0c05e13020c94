from datetime import timedelta
from typing import Any, cast

import pytest
from django.urls import reverse
from django.utils import timezone

from refuje.accounts.models import OTPCode, User
from refuje.common.models import RateLimitCounter
from refuje.common.testing import factories
from refuje.common.testing.factories import next_phone
from refuje.compliance.models import AuditEvent
from refuje.compliance.services import audit_record
from refuje.hotels.models import Department, Hotel, HotelMembership, Role

pytestmark = pytest.mark.django_db

ADMIN_PASSWORD = "operator-Password-42"


def make_user(**fields: Any) -> User:
    return cast(User, factories.UserFactory(**fields))


def make_hotel(**fields: Any) -> Hotel:
    return cast(Hotel, factories.HotelFactory(**fields))


def make_department(**fields: Any) -> Department:
    return cast(Department, factories.DepartmentFactory(**fields))


def make_membership(**fields: Any) -> HotelMembership:
    return cast(HotelMembership, factories.MembershipFactory(**fields))


@pytest.fixture
def operator():
    return User.objects.create_superuser(next_phone(), ADMIN_PASSWORD, full_name="Operator")


@pytest.fixture
def admin_client(client, operator):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(operator)
    return client


def add_user(admin_client, **fields):
    data = {
        "phone_number": "",
        "full_name": "",
        "email": "",
        "user_type": "STAFF",
        "preferred_language": "ar",
        "password1": "",
        "password2": "",
        **fields,
    }
    return admin_client.post(reverse("admin:accounts_user_add"), data)


def test_user_changelist_is_phone_first_and_never_shows_a_blank_email(admin_client):
    make_user(phone_number="+966501234567", full_name="Layla Ahmed", email=None)

    response = admin_client.get(reverse("admin:accounts_user_changelist"))

    assert response.status_code == 200
    cl = response.context["cl"]
    assert list(cl.list_display)[1:] == ["phone_number", "full_name", "email", "user_type", "is_active"]
    assert cl.model_admin.ordering == ("phone_number",)
    content = response.content.decode()
    assert "+966501234567" in content
    assert "Layla Ahmed" in content
    assert "None" not in content


@pytest.mark.parametrize("query", ["0501234567", "+966 50 123 4567", "00966501234567", "٠٥٠١٢٣٤٥٦٧", "05012345"])
def test_user_search_finds_a_phone_typed_in_local_or_international_form(admin_client, query):
    wanted = make_user(phone_number="+966501234567", full_name="Wanted")
    make_user(phone_number="+966559876543", full_name="Other")

    response = admin_client.get(reverse("admin:accounts_user_changelist"), {"q": query})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [wanted]


def test_user_search_matches_email_and_name(admin_client):
    by_email = make_user(email="front.desk@example.com", full_name="A")
    by_name = make_user(full_name="Khalid Al-Harbi")
    url = reverse("admin:accounts_user_changelist")

    assert list(admin_client.get(url, {"q": "front.desk@"}).context["cl"].result_list) == [by_email]
    assert list(admin_client.get(url, {"q": "al-harbi"}).context["cl"].result_list) == [by_name]


def test_add_user_by_local_phone_without_password_gets_an_unusable_password(admin_client, operator):
    response = add_user(admin_client, phone_number="050 123 4567", full_name="New Staff")

    assert response.status_code == 302
    user = User.objects.get(phone_number="+966501234567")
    assert user.full_name == "New Staff"
    assert user.email is None
    assert not user.has_usable_password()
    event = AuditEvent.objects.get(action="admin.add")
    assert event.actor == operator
    assert event.target_id == str(user.pk)


def test_add_user_with_a_password_can_sign_in_to_the_admin_with_it(admin_client, client):
    response = add_user(
        admin_client,
        phone_number="+966501234567",
        email="Staff@Example.com",
        password1="a-long-Enough-passphrase",
        password2="a-long-Enough-passphrase",
    )

    assert response.status_code == 302
    user = User.objects.get(phone_number="+966501234567")
    assert user.email == "staff@example.com"
    assert user.check_password("a-long-Enough-passphrase")


def test_add_user_form_rejects_mismatched_passwords(admin_client):
    response = add_user(admin_client, phone_number="0501234567", password1="a-long-Enough-1", password2="other-2")

    assert response.status_code == 200
    assert "The two passwords differ." in response.content.decode()
    assert not User.objects.filter(phone_number="+966501234567").exists()


def test_add_user_form_rejects_a_garbage_phone_with_the_phone_message(admin_client):
    response = add_user(admin_client, phone_number="not a phone")

    assert response.status_code == 200
    assert "Enter a valid phone number" in response.content.decode()


def test_add_user_form_rejects_a_phone_that_exists_in_another_form(admin_client):
    make_user(phone_number="+966501234567")

    response = add_user(admin_client, phone_number="0501234567")

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["phone_number"]
    assert User.objects.filter(phone_number="+966501234567").count() == 1


def test_add_user_form_rejects_an_email_that_differs_only_in_case(admin_client):
    make_user(email="desk@example.com")

    response = add_user(admin_client, phone_number="0501234567", email="DESK@example.com")

    assert response.status_code == 200
    assert "Another user already has this e-mail address." in response.content.decode()


def test_change_form_links_to_a_working_password_change_page(admin_client, client):
    user = make_user()
    password_url = reverse("admin:auth_user_password_change", args=[user.pk])

    response = admin_client.get(reverse("admin:accounts_user_change", args=[user.pk]))
    assert response.status_code == 200
    assert 'href="../password/"' in response.content.decode()
    assert admin_client.get(password_url).status_code == 200

    response = admin_client.post(
        password_url,
        {"usable_password": "true", "password1": "fresh-Passphrase-77", "password2": "fresh-Passphrase-77"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("fresh-Passphrase-77")


def test_change_form_normalises_an_edited_phone_and_blank_email_becomes_null(admin_client):
    user = make_user(email="old@example.com")

    response = admin_client.post(
        reverse("admin:accounts_user_change", args=[user.pk]),
        {
            "phone_number": "٠٥٥ ١١١ ٢٢٢٢",
            "full_name": user.full_name,
            "email": "",
            "user_type": "STAFF",
            "preferred_language": "en",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.phone_number == "+966551112222"
    assert user.email is None


def test_admin_sign_in_takes_a_local_phone_number(client, operator):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    local = "0" + operator.phone_number.removeprefix("+966")

    response = client.post(
        reverse("admin:login"), {"username": local, "password": ADMIN_PASSWORD, "next": reverse("admin:index")}
    )

    assert response.status_code == 302
    page = client.get(reverse("admin:index")).content.decode()
    assert "Refuje administration" in page


def test_otp_admin_is_read_only_and_never_shows_the_code_hash(admin_client):
    code = OTPCode.objects.create(
        phone_number="+966501234567",
        purpose="auth",
        code_hash="5e" * 32,
        channel="sms",
        expires_at=timezone.now() + timedelta(minutes=5),
    )

    for url in (
        reverse("admin:accounts_otpcode_changelist"),
        reverse("admin:accounts_otpcode_change", args=[code.pk]),
        reverse("admin:accounts_otpcode_changelist") + "?q=0501234567",
    ):
        response = admin_client.get(url)
        assert response.status_code == 200
        assert "5e5e5e" not in response.content.decode()
    assert admin_client.get(reverse("admin:accounts_otpcode_add")).status_code == 403
    assert (
        admin_client.post(reverse("admin:accounts_otpcode_delete", args=[code.pk]), {"post": "yes"}).status_code == 403
    )
    assert OTPCode.objects.filter(pk=code.pk).exists()


def test_audit_events_can_be_read_but_not_added_changed_or_deleted(admin_client, operator):
    event = audit_record(actor=operator, action="member.invite")
    change_url = reverse("admin:compliance_auditevent_change", args=[event.pk])

    assert admin_client.get(reverse("admin:compliance_auditevent_changelist")).status_code == 200
    assert admin_client.get(change_url).status_code == 200
    assert admin_client.get(reverse("admin:compliance_auditevent_add")).status_code == 403
    assert admin_client.post(change_url, {"action": "tampered"}).status_code == 403
    assert (
        admin_client.post(reverse("admin:compliance_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code
        == 403
    )
    event.refresh_from_db()
    assert event.action == "member.invite"


def test_rate_limit_counters_are_read_only(admin_client):
    counter = RateLimitCounter.objects.create(key="otp:phone:x", window_start=timezone.now(), count=3)

    assert admin_client.get(reverse("admin:common_ratelimitcounter_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:common_ratelimitcounter_add")).status_code == 403
    assert admin_client.post(reverse("admin:common_ratelimitcounter_change", args=[counter.pk]), {}).status_code == 403


def test_membership_changelist_filters_by_hotel_and_role(admin_client):
    hotel, other = make_hotel(), make_hotel()
    wanted = make_membership(hotel=hotel, role=Role.ADMIN)
    make_membership(hotel=hotel, role=Role.STAFF)
    make_membership(hotel=other, role=Role.ADMIN)

    response = admin_client.get(
        reverse("admin:hotels_hotelmembership_changelist"), {"hotel__id__exact": hotel.pk, "role__exact": "ADMIN"}
    )

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [wanted]


def test_membership_search_finds_the_member_by_local_phone(admin_client):
    wanted = make_membership(user=make_user(phone_number="+966501234567"))
    make_membership()

    response = admin_client.get(reverse("admin:hotels_hotelmembership_changelist"), {"q": "0501234567"})

    assert list(response.context["cl"].result_list) == [wanted]


def test_membership_departments_must_belong_to_the_membership_hotel(admin_client):
    hotel = make_hotel()
    foreign = make_department()

    response = admin_client.post(
        reverse("admin:hotels_hotelmembership_add"),
        {
            "user": make_user().pk,
            "hotel": hotel.pk,
            "role": "STAFF",
            "departments": [foreign.pk],
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    assert "belong to another hotel" in response.content.decode()
    assert not HotelMembership.objects.filter(hotel=hotel).exists()


def test_the_last_superadmin_cannot_be_demoted_or_deleted_in_the_admin(admin_client):
    membership = make_membership(role=Role.SUPERADMIN)
    change_url = reverse("admin:hotels_hotelmembership_change", args=[membership.pk])

    response = admin_client.post(
        change_url, {"user": membership.user_id, "hotel": membership.hotel_id, "role": "ADMIN", "is_active": "on"}
    )
    assert response.status_code == 200
    assert "last active super-admin" in response.content.decode()
    assert admin_client.get(reverse("admin:hotels_hotelmembership_delete", args=[membership.pk])).status_code == 403

    make_membership(hotel=membership.hotel, role=Role.SUPERADMIN)
    response = admin_client.post(
        change_url, {"user": membership.user_id, "hotel": membership.hotel_id, "role": "ADMIN", "is_active": "on"}
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN


def test_hotel_changes_in_the_admin_are_audited_with_their_hotel(admin_client, operator):
    hotel = make_hotel()
    department = make_department(hotel=hotel)

    response = admin_client.post(
        reverse("admin:hotels_department_change", args=[department.pk]),
        {"hotel": hotel.pk, "name_en": "Front desk", "name_ar": "الاستقبال", "display_order": 0, "is_active": "on"},
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    event = AuditEvent.objects.get(action="admin.change")
    assert event.actor == operator
    assert event.hotel == hotel
    assert event.target_type == "hotels.department"
    assert event.after == {"message": [{"changed": {"fields": ["Name (Arabic)", "Name (English)"]}}]}
